"""The async lane end to end: the function served by functions-framework with
PRONTO_PUBLIC_URL set to its own address, the Pronto simulator's async endpoints POSTing
webhooks to it, and the Sheets API emulator holding the sheet.

A function is served on a port chosen before it starts (its public URL names it), and
served again on the same port and store after a kill, as an instance replaced by Cloud
Run keeps its URL.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from pronto_sheets.enrich.contacts import Contact, EnrichmentTypes
from pronto_sheets.results import as_sentence
from pronto_sheets.vocabulary import vocabulary
from pronto_sheets_dev.simulator.outcomes import identity_key, simulated_outcome
from tests.conftest import LOG_DIR
from tests.sheets_fixtures import SheetsEmulator
from tests.support import processes
from tests.support.servers import (
    ServedProcess,
    free_port,
    functions_framework_command,
    serve_process,
)
from tests.support.stack import (
    FAST_FUNCTION_ENV,
    FAST_SIMULATOR,
    SIM_KEY,
    TOKEN,
    Function,
    Simulator,
)
from tests.support.wait import wait_until
from tests.test_fill_route import SERVICE_ACCOUNT, write_service_account_key
from tests.test_sheet_filler import expected_cells, padded, person, row_cells

SECRET = "hook-secret-0123456789abcdef"
EMAIL = EnrichmentTypes()
# The simulator's async knobs back to quiet after each test of this module.
QUIET_ASYNC: dict[str, Any] = {
    "async_capacity": 50,
    "async_latency_ms": 300.0,
    "webhook_lost": 0.0,
    "webhook_duplicated": 0.0,
    "webhook_slow": 0.0,
    "webhook_reorder_ms": 0.0,
}


@pytest.fixture
def async_sim(sim: Simulator) -> Iterator[Simulator]:
    """The session simulator at the fast pace; its async knobs quiet again afterwards."""
    sim.reset(**FAST_SIMULATOR, **QUIET_ASYNC)
    yield sim
    sim.configure(**QUIET_ASYNC)


@contextmanager
def serve_async_function(
    port: int, sim: Simulator, sheets: ServedProcess, store: Path, **env: str
) -> Iterator[Function]:
    """The function on `port`, its public URL its own address, its store the SQLite `store`."""
    key = write_service_account_key(store.parent / "sa.json", SERVICE_ACCOUNT)
    full_env = {
        "PRONTO_API_KEY": SIM_KEY,
        "PRONTO_BASE_URL": sim.url,
        "PRONTO_SHEETS_TOKENS": TOKEN,
        "PRONTO_DAILY_CREDIT_BUDGET": "100000000",
        "PRONTO_STORE": f"sqlite://{store}",
        "PRONTO_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PRONTO_WEBHOOK_SECRET": SECRET,
        "SHEETS_API_BASE_URL": sheets.base_url,
        "GOOGLE_APPLICATION_CREDENTIALS": str(key),
        **FAST_FUNCTION_ENV,
        **env,
    }
    with serve_process(
        functions_framework_command(port),
        port=port,
        ready_path="/healthz",
        env=full_env,
        log_dir=LOG_DIR,
        name="function-async",
        measure=True,
    ) as served:
        yield Function(served)


def post_fill(function: Function, body: dict[str, Any]) -> httpx.Response:
    with function.client(timeout=300.0) as http:
        return http.post("/fill", json=body)


def people_sheet(tag: str, count: int) -> tuple[list[list[Any]], list[dict[str, str]]]:
    people = [
        {k: person(i, tag)[k] for k in ("firstname", "lastname", "domain")} for i in range(count)
    ]
    rows: list[list[Any]] = [["First name", "Last name", "Website", "Email"]]
    rows += [[p["firstname"], p["lastname"], p["domain"]] for p in people]
    return rows, people


def sim_identity(p: dict[str, str]) -> str:
    contact = Contact.from_mapping(p)
    return identity_key(contact.firstname, contact.lastname, contact.domain, contact.company_name)


def async_expected(fields: dict[str, str]) -> dict[str, str]:
    """`expected_cells` as the async lane writes them: Pronto's async result carries no
    sentence for "nothing found", so the status cell has the vocabulary's own."""
    want = expected_cells(fields, EMAIL)
    if want.get("Pronto status", "").startswith("not_found"):
        want["Pronto status"] = f"not_found: {as_sentence(vocabulary().messages['not_found'])}"
    return want


def assert_every_row_right(
    sheets_emulator: SheetsEmulator, sid: str, people: list[dict[str, str]], first_row: int = 1
) -> None:
    grid = padded(sheets_emulator.cells(sid)["rows"], 6, len(people) + first_row)
    wrong = []
    for r, p in enumerate(people, start=first_row):
        fields = {k: p[k] for k in ("firstname", "lastname", "domain")}
        want = async_expected(fields)
        if row_cells(grid, r, tuple(want)) != want:
            wrong.append((r, row_cells(grid, r, tuple(want)), want))
    assert wrong == [], f"{len(wrong)} rows wrong, first: {wrong[:3]}"


def submissions(store: Path) -> list[dict[str, Any]]:
    """The lane's durable submissions, read straight from the function's SQLite file."""
    with sqlite3.connect(store) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("SELECT * FROM submissions")]


def states(store: Path) -> set[str]:
    """The states of the submissions of the SQLite file (empty before it exists)."""
    if not store.exists():
        return set()
    try:
        return {row["state"] for row in submissions(store)}
    except sqlite3.OperationalError:  # the table is not created yet
        return set()


def stored_answer(store: Path, identity_suffix: str) -> dict[str, Any] | None:
    with sqlite3.connect(store) as db:
        row = db.execute(
            "SELECT record FROM answers WHERE key LIKE ?", (f"%{identity_suffix}:email",)
        ).fetchone()
    return None if row is None else dict(json.loads(row[0]))


@pytest.mark.slow
def test_a_fill_under_webhook_faults_and_a_restart_is_right_and_paid_once(
    async_sim: Simulator,
    sheets_emulator: SheetsEmulator,
    sheets_emulator_process: ServedProcess,
    tmp_path: Path,
) -> None:
    """400 rows, 10% of webhooks lost, 5% duplicated, order shuffled, the function killed
    once mid-job (every contact submitted, most answers still on their way) and served
    again: every row right, each contact submitted and charged once, lost webhooks and
    those sent while it was down recovered by polling."""
    async_sim.configure(
        async_capacity=50,
        async_latency_ms=3000,
        webhook_lost=0.10,
        webhook_duplicated=0.05,
        webhook_reorder_ms=400,
    )
    rows, people = people_sheet("async-faults", 400)
    sid = sheets_emulator.create_spreadsheet({"Sheet1": rows})
    port, store = free_port(), tmp_path / "store.db"
    env = {"PRONTO_ASYNC_POLL_AFTER_S": "2"}

    with serve_async_function(port, async_sim, sheets_emulator_process, store, **env) as function:
        outcome: dict[str, Any] = {}

        def first_run() -> None:
            try:
                outcome["response"] = post_fill(function, {"spreadsheet_id": sid})
            except httpx.HTTPError as exc:  # the kill breaks the connection
                outcome["error"] = exc

        runner = threading.Thread(target=first_run)
        runner.start()
        # Killed once every submission is written down with its id (a kill while one is
        # on the wire leaves it unconfirmed: docs/async-lane.md, "What recovers what"). On a
        # busy machine the first answers may already have settled some: that is fine.
        wait_until(
            lambda: (
                async_sim.stats()["async"]["submitted"] == 400
                and len(submissions(store)) == 400
                and "unconfirmed" not in states(store)
            ),
            timeout=60,
            what="the first run to submit all 400 contacts",
        )
        processes.kill(function.served.process)
        runner.join(timeout=30)
    assert "error" in outcome, "the first run was meant to be cut short by the kill"
    assert async_sim.stats()["async"]["settled"] < 400, "the kill was meant to be mid-job"

    with serve_async_function(port, async_sim, sheets_emulator_process, store, **env) as function:
        summaries = []
        for _ in range(5):  # a later run writes the rest; bounded, and asserted below
            response = post_fill(function, {"spreadsheet_id": sid, "deadline_s": 60})
            assert response.status_code == 200, response.text
            summaries.append(response.json())
            if summaries[-1]["waiting"] == 0 and summaries[-1]["to_enrich"] == 0:
                break
    keys = ("to_enrich", "found", "not_found", "submitted", "waiting", "remaining", "stopped")
    assert summaries[-1]["to_enrich"] == 0, [{k: x.get(k) for k in keys} for x in summaries]
    assert summaries[0]["lane"] == "async"

    assert_every_row_right(sheets_emulator, sid, people)
    stats = async_sim.stats()
    lane = stats["async"]
    assert lane["submitted"] == 400
    assert set(lane["submitted_by_contact"].values()) == {1}
    assert len(lane["submitted_by_contact"]) == 400
    assert set(stats["charged_by_contact"].values()) == {1}
    found = {sim_identity(p) for p in people if simulated_outcome(**_sim_fields(p)).email}
    assert set(stats["charged_by_contact"]) == found
    assert stats["calls"] == 0, "no contact went to the sync lane"
    assert lane["webhooks"]["lost"] > 0 and lane["polls"]["finished"] > 0


def _sim_fields(p: dict[str, str]) -> dict[str, str | None]:
    contact = Contact.from_mapping(p)
    return {
        "firstname": contact.firstname,
        "lastname": contact.lastname,
        "domain": contact.domain or None,
        "company_name": contact.company_name or None,
    }


@pytest.fixture
def held_in_flight(
    async_sim: Simulator,
    sheets_emulator: SheetsEmulator,
    sheets_emulator_process: ServedProcess,
    tmp_path: Path,
) -> Iterator[tuple[Function, Path, str, list[dict[str, str]]]]:
    """A function whose fill of 4 rows left them in flight: every webhook lost, polls far
    off. Yields the function, its store, the spreadsheet id and the people."""
    async_sim.configure(async_latency_ms=0, webhook_lost=1.0)
    rows, people = people_sheet("async-forged", 4)
    sid = sheets_emulator.create_spreadsheet({"Sheet1": rows})
    port, store = free_port(), tmp_path / "store.db"
    env = {"PRONTO_ASYNC_POLL_AFTER_S": "3600"}
    with serve_async_function(port, async_sim, sheets_emulator_process, store, **env) as function:
        response = post_fill(function, {"spreadsheet_id": sid, "deadline_s": 10})
        assert response.status_code == 200, response.text
        summary = response.json()
        assert (summary["submitted"], summary["waiting"]) == (4, 4)
        yield function, store, sid, people


def finished_body(p: dict[str, str], enrichment_id: str, token: str) -> dict[str, Any]:
    outcome = simulated_outcome(**_sim_fields(p))
    return {
        "enrichment_id": enrichment_id,
        "first_name": p["firstname"],
        "last_name": p["lastname"],
        "status": "finished",
        "email": outcome.email,
        "email_status": outcome.email_status or "N/A",
        "phone": [],
        "custom": {"pronto_sheets_token": token},
    }


def by_person(store: Path, people: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The submissions in the order of `people` (by identity)."""
    rows = {row["identity"].split(":", 1)[1]: row for row in submissions(store)}
    return [rows[Contact.from_mapping(p).identity()] for p in people]


def test_forged_webhooks_get_a_4xx_and_change_nothing(
    held_in_flight: tuple[Function, Path, str, list[dict[str, str]]],
) -> None:
    """A wrong secret, an unknown enrichment_id, and a known id carrying another contact's
    custom are refused with a 4xx saying why; no answer is stored, nothing is settled."""
    function, store, _sid, people = held_in_flight
    ada, bob = by_person(store, people)[:2]
    ada_id, ada_token = ada["enrichment_id"].split(":", 1)[1], ada["token"].split(":", 1)[1]
    bob_token = bob["token"].split(":", 1)[1]
    before = submissions(store)
    hook = f"{function.url}/webhooks/pronto"

    wrong_secret = httpx.post(
        f"{hook}/not-the-secret", json=finished_body(people[0], ada_id, ada_token)
    )
    unknown = httpx.post(f"{hook}/{SECRET}", json=finished_body(people[0], "no-such-id", ada_token))
    swapped = httpx.post(f"{hook}/{SECRET}", json=finished_body(people[0], ada_id, bob_token))
    not_json = httpx.post(f"{hook}/{SECRET}", content=b"{not json")
    not_a_result = httpx.post(f"{hook}/{SECRET}", json={"enrichment_id": ada_id})

    assert (wrong_secret.status_code, wrong_secret.json()["error"]["code"]) == (
        404,
        "unknown_webhook",
    )
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "unknown_enrichment")
    assert (swapped.status_code, swapped.json()["error"]["code"]) == (409, "correlation_mismatch")
    assert (not_json.status_code, not_json.json()["error"]["code"]) == (400, "malformed_webhook")
    assert not_a_result.status_code in (400, 409)
    assert "another contact" in swapped.json()["error"]["message"]
    assert submissions(store) == before
    assert stored_answer(store, Contact.from_mapping(people[0]).identity()) is None


def test_a_webhook_is_stored_before_it_is_acknowledged_and_only_once(
    held_in_flight: tuple[Function, Path, str, list[dict[str, str]]],
    sheets_emulator: SheetsEmulator,
    async_sim: Simulator,
) -> None:
    """When the webhook gets its 200 the answer is already in the store; the same webhook
    again is acknowledged as a duplicate (2xx, so the sender stops) and changes nothing; the
    next fill writes the row without submitting."""
    function, store, sid, people = held_in_flight
    ada = by_person(store, people)[0]
    ada_id, ada_token = ada["enrichment_id"].split(":", 1)[1], ada["token"].split(":", 1)[1]
    body = finished_body(people[0], ada_id, ada_token)
    identity = Contact.from_mapping(people[0]).identity()

    first = httpx.post(f"{function.url}/webhooks/pronto/{SECRET}", json=body)
    kept = stored_answer(store, identity)  # read as soon as the 200 is in hand
    again = httpx.post(f"{function.url}/webhooks/pronto/{SECRET}", json=body)

    assert first.status_code == 200, first.text
    want = simulated_outcome(**_sim_fields(people[0])).email
    assert kept is not None and kept["value"] == want
    assert kept["status"] == ("success" if want else "not_found")
    assert (again.status_code, again.json()) == (200, {"ok": True, "duplicate": True})
    assert stored_answer(store, identity) == kept
    assert by_person(store, people)[0]["state"] == "settled"

    submitted = async_sim.stats()["async"]["submitted"]
    response = post_fill(function, {"spreadsheet_id": sid, "deadline_s": 10})
    assert response.status_code == 200, response.text
    assert response.json()["submitted"] == 0
    assert async_sim.stats()["async"]["submitted"] == submitted
    grid = padded(sheets_emulator.cells(sid)["rows"], 6, 5)
    fields = {k: people[0][k] for k in ("firstname", "lastname", "domain")}
    want_cells = async_expected(fields)
    assert row_cells(grid, 1, tuple(want_cells)) == want_cells


def test_an_interactive_formula_joins_the_answer_on_its_way(
    held_in_flight: tuple[Function, Path, str, list[dict[str, str]]],
    async_sim: Simulator,
) -> None:
    """A formula asking for a contact the async lane has in flight waits for that answer
    (pending at its timeout) instead of paying Pronto's sync endpoint again."""
    function, store, _sid, people = held_in_flight
    contact = {k: people[1][k] for k in ("firstname", "lastname", "domain")}
    body = function.enrich([contact], priority="interactive", timeout_s=1)
    assert body["results"][0]["status"] == "pending"
    assert async_sim.stats()["calls"] == 0

    bob = by_person(store, people)[1]
    bob_id, bob_token = bob["enrichment_id"].split(":", 1)[1], bob["token"].split(":", 1)[1]
    hook = httpx.post(
        f"{function.url}/webhooks/pronto/{SECRET}", json=finished_body(people[1], bob_id, bob_token)
    )
    assert hook.status_code == 200, hook.text
    answered = function.enrich([contact], priority="interactive", timeout_s=5)
    want = simulated_outcome(**_sim_fields(people[1])).email
    assert answered["results"][0]["email"] == want
    assert async_sim.stats()["calls"] == 0


@pytest.mark.parametrize("form", ["402", "422", "200"])
def test_out_of_credits_in_any_form_stops_submissions(
    form: str,
    async_sim: Simulator,
    sheets_emulator: SheetsEmulator,
    sheets_emulator_process: ServedProcess,
    tmp_path: Path,
) -> None:
    """Pronto's account holds 10 emails' worth of credits: once it says "out of credits"
    (402, 422 or a 200 "error"), the lane submits nothing more and the rows left say
    over_budget; the contacts it did submit are answered and written."""
    async_sim.configure(daily_credits=30, out_of_credits_form=form)
    rows, _ = people_sheet(f"async-credits-{form}", 40)
    sid = sheets_emulator.create_spreadsheet({"Sheet1": rows})
    port, store = free_port(), tmp_path / "store.db"
    with serve_async_function(port, async_sim, sheets_emulator_process, store) as function:
        response = post_fill(function, {"spreadsheet_id": sid, "deadline_s": 60})
    assert response.status_code == 200, response.text
    summary = response.json()
    stats = async_sim.stats()
    assert stats["out_of_credits_refusals"] >= 1
    workers = 2 * int(FAST_FUNCTION_ENV["PRONTO_MAX_IN_FLIGHT"])
    assert stats["calls_after_out_of_credits"] < workers  # only those already on their way
    assert summary["submitted"] == stats["async"]["submitted"] == 10
    assert summary["over_budget"] == 30
    assert summary["found"] + summary["not_found"] == 10
    assert [n["code"] for n in summary["notices"]] == ["over_budget"]
    assert "Pronto says the account is out of credits" in summary["notices"][0]["message"]
    grid = padded(sheets_emulator.cells(sid)["rows"], 6, 41)
    statuses = [grid[r][grid[0].index("Pronto status")] for r in range(1, 41)]
    assert sum(status.startswith("over_budget") for status in statuses) == 30
    assert set(stats["charged_by_contact"].values()) <= {1}


def test_missing_consent_pauses_personal_emails_and_the_emails_still_go(
    async_sim: Simulator,
    sheets_emulator: SheetsEmulator,
    sheets_emulator_process: ServedProcess,
    tmp_path: Path,
) -> None:
    """Without the account's consent one personal-email submission is refused (422); the
    others are not sent, their rows say so, and every email is still submitted."""
    async_sim.configure(personal_email_consent=False)
    people = [
        {**p, "linkedin_url": f"https://www.linkedin.com/in/consent-{i}"}
        for i, p in enumerate(people_sheet("async-consent", 12)[1])
    ]
    rows: list[list[Any]] = [["First name", "Last name", "Website", "LinkedIn"]]
    rows += [[p["firstname"], p["lastname"], p["domain"], p["linkedin_url"]] for p in people]
    sid = sheets_emulator.create_spreadsheet({"Sheet1": rows})
    port, store = free_port(), tmp_path / "store.db"
    with serve_async_function(port, async_sim, sheets_emulator_process, store) as function:
        response = post_fill(
            function,
            {
                "spreadsheet_id": sid,
                "enrichment_type": ["email", "personal_email"],
                "deadline_s": 60,
            },
        )
    assert response.status_code == 200, response.text
    summary = response.json()
    stats = async_sim.stats()
    assert stats["consent_refusals"] == 1
    assert stats["async"]["submitted"] == 12  # the emails, one request each
    assert [n["code"] for n in summary["notices"]] == ["personal_email_consent"]
    grid = sheets_emulator.cells(sid)["rows"]
    status = grid[0].index("Pronto status")
    paused = str(vocabulary().messages["paused_consent"])
    assert all(paused in row[status] for row in grid[1:13])


def test_a_submission_whose_id_was_never_stored_is_adopted_by_its_webhook(
    held_in_flight: tuple[Function, Path, str, list[dict[str, str]]],
) -> None:
    """A contact whose submission answer was lost (the function stopped with the request
    on the wire) stays unconfirmed; its webhook, carrying its token, settles it."""
    function, store, _sid, people = held_in_flight
    ada = by_person(store, people)[0]
    ada_id, ada_token = ada["enrichment_id"].split(":", 1)[1], ada["token"].split(":", 1)[1]
    with sqlite3.connect(store) as db:  # as if Pronto's answer had never been written down
        db.execute(
            "UPDATE submissions SET state = 'unconfirmed', enrichment_id = NULL WHERE token = ?",
            (ada["token"],),
        )
    forged = finished_body(people[0], ada_id, by_person(store, people)[1]["token"].split(":")[1])
    refused = httpx.post(f"{function.url}/webhooks/pronto/{SECRET}", json=forged)
    adopted = httpx.post(
        f"{function.url}/webhooks/pronto/{SECRET}", json=finished_body(people[0], ada_id, ada_token)
    )
    assert refused.status_code == 404  # neither its id nor another's token adopts it
    assert adopted.status_code == 200, adopted.text
    settled = by_person(store, people)[0]
    assert (settled["state"], settled["enrichment_id"].split(":", 1)[1]) == ("settled", ada_id)


def test_a_fill_joins_a_formula_s_call_already_on_its_way(
    async_sim: Simulator,
    sheets_emulator: SheetsEmulator,
    sheets_emulator_process: ServedProcess,
    tmp_path: Path,
) -> None:
    """A contact a formula is asking the sync endpoint about is not submitted again by a
    fill: the fill waits for that answer and writes it; the others go async."""
    async_sim.configure(latency_ms=2000)  # the sync call stays open while the fill plans
    rows, people = people_sheet("async-join-sync", 3)
    sid = sheets_emulator.create_spreadsheet({"Sheet1": rows})
    port, store = free_port(), tmp_path / "store.db"
    with serve_async_function(port, async_sim, sheets_emulator_process, store) as function:
        formula: dict[str, Any] = {}
        asking = threading.Thread(
            target=lambda: formula.update(function.enrich([people[0]], priority="interactive"))
        )
        asking.start()
        wait_until(lambda: async_sim.stats()["serving"] == 1, timeout=30, what="the formula's call")
        response = post_fill(function, {"spreadsheet_id": sid, "deadline_s": 60})
        asking.join(timeout=30)
    assert response.status_code == 200, response.text
    stats = async_sim.stats()
    assert stats["served"] == 1  # the formula's call, and only it, on the sync lane
    assert sim_identity(people[0]) not in stats["async"]["submitted_by_contact"]
    assert stats["async"]["submitted"] == 2
    assert formula["results"][0]["email"] == simulated_outcome(**_sim_fields(people[0])).email
    assert_every_row_right(sheets_emulator, sid, people[1:], first_row=2)
    grid = padded(sheets_emulator.cells(sid)["rows"], 6, 4)
    want = expected_cells(people[0], EMAIL)  # the sync answer, with Pronto's own sentence
    assert row_cells(grid, 1, tuple(want)) == want
