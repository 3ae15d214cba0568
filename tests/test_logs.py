"""The function's logs carry no personal data, whatever happens.

One test drives the function (in this process: tests/support/in_process.py) through
/enrich and /fill successes, every refusal, Pronto's failures and faults (the simulator's
503s, 429s, dropped and truncated answers, no consent, no credits), the store's answers
and erasure, and two injected bugs whose exception messages quote a person. It captures
everything the process writes (file descriptors 1 and 2, and every `logging` record of
every logger at DEBUG), then fails if any value a person typed or Pronto found appears
in it: names, companies, domains, LinkedIn URLs, emails, phones; nor the token, a
guessed token, or the Pronto key. Every line the function writes must also be a
structured JSON entry (severity, message) that Cloud Logging can read.
"""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from pronto_sheets.enrich.engine import Enricher
from pronto_sheets.enrich.pronto_client import ProntoClient
from pronto_sheets.logs import begin_request, emit, install
from tests.sheets_fixtures import SheetsEmulator
from tests.support.in_process import BASE_URL, serving
from tests.support.people import people
from tests.support.stack import SIM_KEY, TOKEN, Simulator
from tests.test_fill_route import write_service_account_key

GUESS = "guessed-token-7f3a9c"
TYPES = ["email", "phone", "personal_email"]


class Everything(logging.Handler):
    """Every record of every logger, formatted with its arguments and traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        if BASE_URL not in line:  # the test's own client calling the function, not the function
            self.lines.append(line)


@pytest.fixture
def records() -> Iterator[Everything]:
    handler = Everything()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


class Secrets:
    """Every personal value and secret the run saw, to be looked for in the logs."""

    def __init__(self) -> None:
        self.values: set[str] = {TOKEN, GUESS, SIM_KEY}

    def rows(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self.values |= {str(v) for k, v in row.items() if v and k != "custom"}

    def answers(self, body: dict[str, Any]) -> None:
        for result in body.get("results", []):
            for name in ("email", "personal_email"):
                if result.get(name):
                    self.values.add(result[name])
            for phone in result.get("phones") or []:
                self.values.add(phone["number"])
                self.values.add("".join(ch for ch in phone["number"] if ch.isdigit()))


@asynccontextmanager
async def function(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch, **env: str
) -> AsyncIterator[httpx.AsyncClient]:
    settings = {
        "PRONTO_API_KEY": SIM_KEY,
        "PRONTO_BASE_URL": sim.url,
        "PRONTO_SHEETS_TOKENS": TOKEN,
        "PRONTO_DAILY_CREDIT_BUDGET": "100000000",
        "PRONTO_STORE": "memory",
        "PRONTO_RETRY_ATTEMPTS": "3",
        **env,
    }
    async with serving(monkeypatch, settings, token=TOKEN) as http:
        yield http


async def enrich(
    http: httpx.AsyncClient, seen: Secrets, rows: list[dict[str, Any]], **fields: Any
) -> dict[str, Any]:
    seen.rows(rows)
    response = await http.post(
        "/enrich", json={"contacts": rows, "enrichment_type": TYPES, **fields}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    seen.answers(body)
    return body


async def successes_and_pronto_failures(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch, seen: Secrets, statuses: set[str]
) -> None:
    """/enrich: found, not found, cached, invalid, needs LinkedIn, pending, failed, over
    budget, no consent, faults; /forget."""
    rows = people(12, "Logs", linkedin=True) + people(3, "Nolink")
    rows.append({"firstname": "Grace", "lastname": "", "domain": "navy.example.mil"})
    async with function(sim, monkeypatch) as http:
        for _ in range(2):  # the second time from memory
            body = await enrich(http, seen, rows)
            statuses.update(r["status"] for r in body["results"])
        email = next(r["email"] for r in body["results"] if r["email"])
        forgot = await http.post("/forget", json={"email": email})
        assert forgot.json()["deleted"] > 0
        statuses.add("forget")

        sim.reset(personal_email_consent=False, fault_429=0.3, fault_drop=0.2, fault_truncate=0.2)
        body = await enrich(http, seen, people(6, "Faulty", linkedin=True))
        statuses.update(r["status"] for r in body["results"])

        sim.reset(fault_503=1.0)
        body = await enrich(http, seen, people(3, "Failing", linkedin=True))
        statuses.update(r["status"] for r in body["results"])

        sim.reset(latency_ms=300)
        slow = people(2, "Slow", linkedin=True)
        body = await enrich(http, seen, slow, timeout_s=0.01, enrichment_type=["email"])
        statuses.update(r["status"] for r in body["results"])
        await enrich(http, seen, slow, enrichment_type=["email"])  # waits for them
    sim.reset(daily_credits=0)
    async with function(sim, monkeypatch) as http:
        body = await enrich(http, seen, people(3, "Broke", linkedin=True))
        statuses.update(r["status"] for r in body["results"])
    sim.reset()


REFUSALS: list[tuple[str, str, dict[str, str], bytes, int]] = [
    ("POST", "/enrich", {}, b'{"contacts": [{"firstname": "Ada", "lastname": "Byron"', 400),
    ("POST", "/enrich", {}, b'{"contacts": [{"firstname": ["Ada"], "lastname": "Byron"}]}', 400),
    ("POST", "/enrich", {}, b'{"contacts": "Ada Byron, ada@byron.example"}', 400),
    ("POST", "/enrich", {}, json.dumps({"contacts": [{"firstname": "Ada"}] * 1001}).encode(), 413),
    ("POST", "/enrich", {"Authorization": f"Bearer {GUESS}"}, b'{"contacts": []}', 401),
    ("GET", "/enrich", {}, b"", 405),
    ("POST", "/enrich/ada@byron.example", {}, b"{}", 404),
    ("POST", "/fill", {}, b'{"spreadsheet_id": "Ada Byron sheet"}', 400),
    ("POST", "/forget", {}, b'{"contact": {"firstname": "Ada", "lastname": "Byron"}}', 400),
]


async def refusals(sim: Simulator, monkeypatch: pytest.MonkeyPatch, seen: Secrets) -> int:
    """Every refusal of the HTTP contract, with a person in the body or the path."""
    seen.values |= {"Byron", "ada@byron.example", "Ada Byron sheet"}
    async with function(sim, monkeypatch) as http:
        for method, path, headers, body, status in REFUSALS:
            response = await http.request(method, path, content=body, headers=headers)
            assert response.status_code == status, (path, response.text)
    return len(REFUSALS)


async def injected_bugs(sim: Simulator, monkeypatch: pytest.MonkeyPatch, seen: Secrets) -> None:
    """Two bugs whose exceptions quote the person: in the route, and inside a lookup."""
    rows = people(2, "Buggy", linkedin=True)
    seen.rows(rows)
    quote = f"{rows[0]['firstname']} {rows[0]['lastname']} <{rows[0]['linkedin_url']}>"

    async def broken_route(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError(f"cannot enrich {quote}")

    async def broken_lookup(*_args: object, **_kwargs: object) -> None:
        raise KeyError(quote)

    async with function(sim, monkeypatch) as http:
        with monkeypatch.context() as patch:
            patch.setattr(Enricher, "enrich", broken_route)
            response = await http.post("/enrich", json={"contacts": rows})
            assert response.status_code == 500
        with monkeypatch.context() as patch:
            patch.setattr(ProntoClient, "enrich", broken_lookup)
            response = await http.post("/enrich", json={"contacts": rows})
            assert {r["status"] for r in response.json()["results"]} == {"failed"}


async def fills(
    sim: Simulator,
    monkeypatch: pytest.MonkeyPatch,
    seen: Secrets,
    sheets: SheetsEmulator,
    key_file: Path,
) -> None:
    """/fill: a sheet filled, a sheet not shared, a tab that does not exist."""
    rows = people(6, "Sheet")
    seen.rows(rows)
    grid: list[list[Any]] = [["First name", "Last name", "Website", "Email", "Pronto status"]]
    grid += [[r["firstname"], r["lastname"], r["domain"]] for r in rows]
    sid = sheets.create_spreadsheet({"Leads": grid})
    hidden = sheets.create_spreadsheet({"Leads": grid})
    sheets.set_shared(hidden, False)
    env = {"SHEETS_API_BASE_URL": sheets.base_url, "GOOGLE_APPLICATION_CREDENTIALS": str(key_file)}
    async with function(sim, monkeypatch, **env) as http:
        done = await http.post("/fill", json={"spreadsheet_id": sid})
        assert done.status_code == 200, done.text
        assert (await http.post("/fill", json={"spreadsheet_id": hidden})).status_code == 403
        missing = await http.post("/fill", json={"spreadsheet_id": sid, "sheet": "Byron leads"})
        assert missing.status_code == 404
    for row in sheets.cells(sid, "Leads").get("values", [])[1:]:
        seen.values |= {str(cell) for cell in row[3:4] if cell}


async def test_no_log_line_carries_a_person_or_a_secret(
    sim: Simulator,
    monkeypatch: pytest.MonkeyPatch,
    sheets_emulator: SheetsEmulator,
    tmp_path: Path,
    records: Everything,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Successes, refusals, Pronto's failures and faults, bugs: not one value in the logs."""
    seen = Secrets()
    statuses: set[str] = set()
    key_file = write_service_account_key(tmp_path / "sa.json", "fill@demo.iam.gserviceaccount.com")
    await successes_and_pronto_failures(sim, monkeypatch, seen, statuses)
    refused = await refusals(sim, monkeypatch, seen)
    await injected_bugs(sim, monkeypatch, seen)
    await fills(sim, monkeypatch, seen, sheets_emulator, key_file)

    out, err = capfd.readouterr()
    written = [line for line in (out + err).splitlines() if line.strip()]
    logged = written + records.lines
    # What the run went through, so that a quieter run cannot pass unnoticed.
    assert {"success", "not_found", "invalid", "pending", "failed", "over_budget"} <= statuses
    assert refused == 9
    events = [json.loads(line) for line in written if line.startswith("{")]
    assert {"forget", "unexpected_error"} <= {e.get("event") for e in events}
    # The route's bug once, the lookup's bug once per contact (2): each by type and place.
    bugs = [e for e in events if e.get("event") == "unexpected_error"]
    assert [(e["error_type"], e["where"].split(":")[0]) for e in bugs] == [
        ("builtins.RuntimeError", "http/routes.py"),
        ("builtins.KeyError", "enrich/engine.py"),
        ("builtins.KeyError", "enrich/engine.py"),
    ]
    assert len(written) >= 20  # one per request at least, and the lines above

    # Every line the function wrote is a structured entry Cloud Logging reads.
    for line in written:
        entry = json.loads(line)
        assert entry["severity"] in {"DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL"}
        assert isinstance(entry["message"], str) and entry["message"]
    # Not one value anywhere (short values like "3" aside: only what names a person).
    leaks = sorted(
        (value, line)
        for value in seen.values
        if len(value) >= 4
        for line in logged
        if value in line
    )
    assert leaks == [], leaks[:5]
    print(
        f"log scope: {len(written)} lines written, {len(records.lines)} logging records, "
        f"{len(seen.values)} values checked, statuses {sorted(statuses)}, {refused} refusals"
    )


def test_the_packages_logging_records_are_written_without_their_values(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A `logging` call under pronto_sheets keeps its format string, never its arguments."""
    install()
    logger = logging.getLogger("pronto_sheets.sheets.filler")
    try:
        raise ValueError("ada@byron.example not found")
    except ValueError:
        logger.exception("could not write row of %s", "Ada Byron")
    [line] = capsys.readouterr().out.splitlines()
    entry = json.loads(line)
    assert entry["message"] == "could not write row of %s"
    assert (entry["severity"], entry["error_type"]) == ("ERROR", "builtins.ValueError")
    assert entry["where"].startswith("test_logs.py:")
    assert "Byron" not in line and "ada@" not in line


def test_a_request_carries_cloud_runs_trace_as_its_id(capsys: pytest.CaptureFixture[str]) -> None:
    """Behind Cloud Run, lines of one request share its trace id, as Cloud Logging links them."""

    def one_request() -> None:
        begin_request("/enrich", "0af7651916cd43dd8448eb211c80319c/42;o=1", "demo-project")
        emit("INFO", "POST /enrich 200", status=200)

    contextvars.copy_context().run(one_request)  # as each request runs in a task of its own
    entry = json.loads(capsys.readouterr().out)
    assert entry["request_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert entry["logging.googleapis.com/trace"] == (
        "projects/demo-project/traces/0af7651916cd43dd8448eb211c80319c"
    )
    assert (entry["route"], entry["status"]) == ("/enrich", 200)
