"""What the durable store promises, shown with real processes: the function served by
functions-framework (killed and served again), two functions sharing one Firestore
emulator, `pronto-sheets fill` stopped with Ctrl-C, and WORKERS=2 refused at start.

Pronto is the simulator; its counters say what was called and charged. Firestore is the
gRPC emulator (a fresh one per test); SQLite a file in the test's own folder.
"""

from __future__ import annotations

import json
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from subprocess import PIPE
from typing import Any

import httpx
import pytest

from pronto_sheets.enrich.contacts import Contact
from pronto_sheets_dev.simulator import simulated_outcome
from tests.sheets_fixtures import SheetsEmulator
from tests.support import processes
from tests.support.firestore import FirestoreEmulator
from tests.support.people import people
from tests.support.servers import (
    REPO_ROOT,
    free_port,
    functions_framework_command,
    pronto_sheets_command,
)
from tests.support.stack import (
    FAST_FUNCTION_ENV,
    FAST_SIMULATOR,
    Function,
    Simulator,
    run_function,
)
from tests.support.wait import wait_until
from tests.test_fill_cli import FIELDS, leads, run_fill
from tests.test_sheet_filler import expected_cells, padded, row_cells

BACKENDS = ["sqlite", "firestore"]
BOTH = ["email", "phone"]


def store_env(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    """The function's environment for a store of `backend` that outlives its processes."""
    if backend == "firestore":
        emulator: FirestoreEmulator = request.getfixturevalue("firestore_emulator")
        return emulator.env()
    return {"PRONTO_STORE": f"sqlite://{tmp_path}/store.db"}


def kill(function: Function) -> None:
    """SIGKILL to the function's whole process group (functions-framework and its gunicorn
    worker): no shutdown code runs, as when an instance is torn down."""
    processes.kill(function.served.process)


def answers(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(r["status"], r["email"], json.dumps(r["phones"])) for r in body["results"]]


def found_email_only(count: int, tag: str) -> list[dict[str, Any]]:
    """`count` contacts whose email the simulator finds (3 credits each, nothing else)."""
    chosen: list[dict[str, Any]] = []
    for row in people(4 * count, tag):
        contact = Contact.from_mapping(row)
        outcome = simulated_outcome(
            contact.firstname,
            contact.lastname,
            domain=contact.domain or None,
            company_name=contact.company_name or None,
        )
        if outcome.email:
            chosen.append(row)
        if len(chosen) == count:
            return chosen
    raise AssertionError("the simulator finds too few emails for this test")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_function_served_again_pays_nothing_for_what_it_had(
    backend: str, sim: Simulator, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """200 contacts (email and phone) enriched, the process killed, the function served
    again on the same store: the same request makes 0 Pronto calls and answers the same."""
    sim.reset(**FAST_SIMULATOR)  # about what survives a process, not Pronto's pace
    env = store_env(backend, tmp_path, request) | FAST_FUNCTION_ENV
    contacts = people(200, f"restart-{backend}", linkedin=True)
    with run_function(tmp_path, sim.url, env) as function:
        first = function.enrich(contacts, enrichment_type=BOTH)
        kill(function)
    assert sim.stats()["served"] == 200
    assert first["stats"]["upstream_calls"] == 200

    sim.reset(**FAST_SIMULATOR)
    with run_function(tmp_path, sim.url, env) as function:
        again = function.enrich(contacts, enrichment_type=BOTH)
    assert sim.stats()["calls"] == 0
    assert answers(again) == answers(first)
    assert (again["stats"]["cache_hits"], again["stats"]["upstream_calls"]) == (200, 0)
    assert all(row["cached"] for row in again["results"])


def test_two_functions_on_one_firestore_never_pass_the_budget_together(
    sim: Simulator, tmp_path: Path, firestore_emulator: FirestoreEmulator
) -> None:
    """Two function processes on one Firestore, 300 credits a day, four clients sending
    email+phone lookups to both at once: Pronto charges at most 300, and both spent."""
    sim.reset(rate=1000, max_open=20, latency_ms=5)
    env = firestore_emulator.env(PRONTO_DAILY_CREDIT_BUDGET="300")
    with run_function(tmp_path, sim.url, env) as one, run_function(tmp_path, sim.url, env) as two:

        def load(worker: int) -> tuple[int, int]:
            function = (one, two)[worker % 2]
            spent = over = 0
            for batch in range(4):
                tag = f"shared-{worker}-{batch}"
                body = function.enrich(people(25, tag, linkedin=True), enrichment_type=BOTH)
                spent += body["stats"]["credits_spent"]
                over += sum(r["status"] == "over_budget" for r in body["results"])
            return spent, over

        with ThreadPoolExecutor(4) as pool:
            outcomes = list(pool.map(load, range(4)))
    charged = sim.stats()["credits_spent"]
    print(f"two functions, budget 300: charged {charged}, by function {outcomes}")
    assert charged <= 300
    assert charged == sum(spent for spent, _ in outcomes)
    by_function = [outcomes[0][0] + outcomes[2][0], outcomes[1][0] + outcomes[3][0]]
    assert min(by_function) > 0, by_function
    assert sum(over for _, over in outcomes) > 0  # the budget, not the load, was the limit


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_day_s_budget_survives_a_restart(
    backend: str, sim: Simulator, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Budget 300: 150 credits spent (50 emails found), the process killed and served
    again, then plenty of lookups: at most 150 more are charged."""
    sim.reset(**FAST_SIMULATOR)
    env = (
        store_env(backend, tmp_path, request)
        | FAST_FUNCTION_ENV
        | {"PRONTO_DAILY_CREDIT_BUDGET": "300"}
    )
    with run_function(tmp_path, sim.url, env) as function:
        body = function.enrich(found_email_only(50, f"survive-{backend}"))
        kill(function)
    assert body["stats"]["credits_spent"] == sim.stats()["credits_spent"] == 150

    with run_function(tmp_path, sim.url, env) as function:
        body = function.enrich(
            people(200, f"survive-more-{backend}", linkedin=True), enrichment_type=BOTH
        )
    second = sim.stats()["credits_spent"] - 150
    print(f"{backend}: 150 spent, restart, then {second} more")
    assert 0 < second <= 150
    assert body["stats"]["credits_spent"] == second
    over = [r for r in body["results"] if r["status"] == "over_budget"]
    assert over and "Today's credit budget (300 credits) is used up." in over[0]["message"]


def test_a_fill_stopped_with_ctrl_c_never_pays_a_contact_twice(
    sim: Simulator, sheets_emulator: SheetsEmulator, tmp_path: Path
) -> None:
    """`pronto-sheets fill` gets SIGINT mid-run while every write to the sheet is refused,
    so what it paid is not written; run again, it pays only the contacts not yet paid and
    fills every row, the paid-but-unwritten ones from the store."""
    rows, contacts = leads("ctrlc", 300)
    sid = sheets_emulator.create_spreadsheet({"Leads": rows})
    sheets_emulator.force_faults(1000, 429, retry_after="3600", kinds=("write",))
    store = {
        "PRONTO_STORE": f"sqlite://{tmp_path}/store.db",
        "PRONTO_DAILY_CREDIT_BUDGET": "1000000",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOOGLE_")}
    env.update(
        SHEETS_API_BASE_URL=sheets_emulator.base_url,
        PRONTO_API_KEY="sim-key",
        PRONTO_BASE_URL=sim.url,
        PRONTO_RATE_PER_SECOND="20",  # slow enough to be mid-run before the first write
        PYTHONUNBUFFERED="1",
        **store,
    )
    with processes.started(
        pronto_sheets_command("fill", sid, "--type", "email,phone", "--no-progress"),
        env=env,
        cwd=REPO_ROOT,
        stdout=PIPE,
        stderr=PIPE,
        text=True,
    ) as process:
        wait_until(lambda: sim.stats()["served"] >= 30, timeout=60, what="30 Pronto answers")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "Interrupted. Results found so far are saved" in err, (out, err)
    paid = sim.stats()["served"]
    print(f"Ctrl-C after {paid} contacts paid, none written")
    assert 30 <= paid < 300
    written = [row for row in sheets_emulator.cells(sid, "Leads")["rows"][1:] if len(row) > 4]
    assert written == []  # everything paid so far is paid but not written

    sheets_emulator.http.delete("/_emulator/faults").raise_for_status()
    sim.configure(**FAST_SIMULATOR)  # counters kept: they span both runs
    done = run_fill(
        sid, "--type", "email,phone", "--json", sim=sim, emulator=sheets_emulator,
        **store, **FAST_FUNCTION_ENV,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["enriched"], summary["upstream_calls"]) == (300, 300 - paid)
    stats = sim.stats()
    assert stats["served"] == 300
    assert set(stats["by_contact"].values()) == {1}  # no contact paid twice
    grid = padded(sheets_emulator.cells(sid, "Leads")["rows"], 9, 301)
    for r, person in enumerate(contacts, start=1):
        want = expected_cells({k: person[k] for k in FIELDS})
        assert row_cells(grid, r, tuple(want)) == want


def test_workers_2_stops_the_function_at_start_saying_why(tmp_path: Path) -> None:
    """Served by functions-framework with WORKERS=2, the function does not start: the
    gate and the budget of one process would be doubled."""
    env = {
        **os.environ,
        "WORKERS": "2",
        "PRONTO_SHEETS_TOKENS": "t",
        "PRONTO_STORE": "memory",
        "PYTHONUNBUFFERED": "1",
    }
    port = free_port()
    done = processes.run(
        functions_framework_command(port),
        env=env,
        cwd=REPO_ROOT,
        stdout=PIPE,
        stderr=PIPE,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert (
        "WORKERS=2: this function must run as one worker process, because the gate that "
        "keeps Pronto's limits (5 calls at once, 50 a second) and the credit budget live in "
        "that process"
    ) in done.stdout + done.stderr
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)


def test_a_store_that_cannot_be_reached_degrades_to_memory(sim: Simulator, tmp_path: Path) -> None:
    """Firestore unreachable: /enrich still answers from Pronto and memory, /healthz says
    degraded and why, the log says so once, and spending stops at 10% of the budget."""
    env = {
        "PRONTO_STORE": "firestore",
        "FIRESTORE_EMULATOR_HOST": f"127.0.0.1:{free_port()}",  # nothing listens there
        "GOOGLE_CLOUD_PROJECT": "pronto-sheets-test",
        "PRONTO_STORE_TIMEOUT_S": "1",
        "PRONTO_DAILY_CREDIT_BUDGET": "1000",
    }
    contacts = people(60, "degraded", linkedin=True)
    with run_function(tmp_path, sim.url, env) as function:
        health = httpx.get(f"{function.url}/healthz").json()
        first = function.enrich(contacts, enrichment_type=BOTH)
        again = function.enrich(contacts, enrichment_type=BOTH)
        log = function.served.log()
    assert (health["store"], health["store_status"]) == ("firestore", "degraded")
    assert health["store_message"].startswith("Firestore ")
    assert "spending is held to 100 credits (10% of the daily budget)" in health["store_message"]
    statuses = {r["status"] for r in first["results"]}
    assert statuses <= {"success", "not_found", "over_budget"} and "success" in statuses
    over = [r for r in first["results"] if r["status"] == "over_budget"]
    assert over and over[0]["message"].startswith(
        "The store that keeps today's credit count is unavailable, so spending is held to "
        "100 credits"
    )
    assert 0 < sim.stats()["credits_spent"] <= 100
    assert again["stats"]["upstream_calls"] == len(over)  # the answers came from memory
    lines = [json.loads(line) for line in log.splitlines() if '"store_degraded"' in line]
    assert len(lines) == 1
    assert lines[0]["severity"] == "WARNING"
    assert "sim-key" not in log
