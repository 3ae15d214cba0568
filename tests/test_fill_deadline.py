"""Fills that fit their caller's deadline, and a loop that stays free while a fill plans.

Cloud Scheduler gives up on an HTTP call after 1,800 s at most, so the scheduled job
passes `deadline_s` (1,500) and the fill stops in time to write what it found and answer;
the next call continues, and nothing is paid twice. Time is scaled here (1 minute of the
real thing = 0.1 s) so a 90-minute fill runs in seconds with the same shape: Pronto's
latency, its 5 slots, the deadline and the margin kept for the last write.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from pronto_sheets.enrich.contacts import EnrichmentTypes
from pronto_sheets.enrich.engine import Enricher
from pronto_sheets.sheets.client import SheetsClient, open_gspread_client
from pronto_sheets.sheets.filler import FillRequest, SheetFiller
from tests.sheets_fixtures import FAST_RETRY, SheetsEmulator
from tests.support.stack import Function, Simulator
from tests.support.wait import wait_until
from tests.test_fill_route import fill_function, post_fill  # noqa: F401 - the fixture
from tests.test_sheet_filler import expected_cells, fast_settings, padded, person, row_cells

# Deadlines and latencies measured in real time: run alone and untraced (scripts/test.sh).
pytestmark = pytest.mark.timing

MINUTE = 0.1  # seconds of test time per minute of the real thing
EMAIL = EnrichmentTypes()


@pytest.fixture
def gspread_client(sheets_emulator: SheetsEmulator) -> SheetsClient:
    return open_gspread_client(sheets_api_base_url=sheets_emulator.base_url, retry=FAST_RETRY)


@pytest.fixture
def slow_sim(sim: Simulator) -> Simulator:
    """Pronto as it is (5 slots, 50 a second), each call taking 100 ms: 50 rows a second."""
    sim.reset(rate=50, max_open=5, latency_ms=100)
    return sim


@pytest.fixture
async def enricher(slow_sim: Simulator) -> AsyncIterator[Enricher]:
    built = Enricher.from_settings(fast_settings(slow_sim.url, rate_per_second=50, max_in_flight=5))
    yield built
    await built.aclose()


def _scaled_filler(enricher: Enricher, client: SheetsClient) -> SheetFiller:
    """The production filler with its clock-bound settings scaled like the test's time."""
    return SheetFiller(
        enricher,
        client,
        flush_interval_s=5 / 60 * MINUTE,  # 5 s
        min_write_gap_s=0.01,
        write_margin_s=30 / 60 * MINUTE,  # 30 s
    )


async def test_a_90_minute_fill_completes_over_scheduled_calls_of_25_minutes(
    enricher: Enricher,
    gspread_client: SheetsClient,
    sheets_emulator: SheetsEmulator,
    slow_sim: Simulator,
) -> None:
    """90 minutes of Pronto's time at its bound (450 rows at 50 a second take 9 s, 90
    minutes at this scale), in calls with deadline_s of 25 minutes: each call answers before
    its deadline and the sheet completes: no row lost, no contact paid twice (what was
    under way at a deadline comes from the cache)."""
    people = [person(i, "ninety") for i in range(450)]
    rows: list[list[Any]] = [["First name", "Last name", "Website"]]
    rows += [[p["firstname"], p["lastname"], p["domain"]] for p in people]
    sid = sheets_emulator.create_spreadsheet({"Leads": rows})
    deadline_s = 25 * MINUTE

    calls: list[tuple[float, int, int]] = []  # (seconds, rows enriched, rows left)
    for _ in range(10):
        started = time.monotonic()
        summary = await _scaled_filler(enricher, gspread_client).fill(
            FillRequest(sid, deadline_s=deadline_s)
        )
        calls.append((time.monotonic() - started, summary.enriched, summary.to_enrich))
        if summary.to_enrich == 0:
            break

    assert calls[-1][2] == 0, calls  # the last call found nothing left to do
    # 90 minutes of work in 25-minute calls takes at least 4 (90 / 25 = 3.6); each call
    # keeps a margin for its last write, and a slower machine may need one or two more.
    print("calls (seconds, enriched, left):", calls)
    assert 4 <= len(calls) - 1 <= 6, calls
    assert all(seconds < deadline_s for seconds, _, _ in calls), calls
    stats = slow_sim.stats()
    assert stats["served"] == 450
    assert set(stats["by_contact"].values()) == {1}
    grid = padded(sheets_emulator.cells(sid)["rows"], 6, 451)
    for r, p in enumerate(people, start=1):
        fields = {k: p[k] for k in ("firstname", "lastname", "domain")}
        want = expected_cells(fields, EMAIL)
        assert row_cells(grid, r, tuple(want)) == want, f"row {r + 1}"


async def test_the_deadline_is_kept_while_waiting_for_pronto(
    gspread_client: SheetsClient, sheets_emulator: SheetsEmulator, sim: Simulator
) -> None:
    """With every Pronto call taking 3 s, a 1-second deadline is still kept: the fill stops
    waiting, writes nothing wrong, says why, and leaves the rows for the next run."""
    sim.reset(latency_ms=3000)
    enricher = Enricher.from_settings(fast_settings(sim.url))
    people = [person(i, "slow-deadline") for i in range(20)]
    rows: list[list[Any]] = [["First name", "Last name", "Website"]]
    rows += [[p["firstname"], p["lastname"], p["domain"]] for p in people]
    sid = sheets_emulator.create_spreadsheet({"Leads": rows})
    try:
        started = time.monotonic()
        summary = await SheetFiller(enricher, gspread_client, write_margin_s=0.2).fill(
            FillRequest(sid, deadline_s=1.0)
        )
        seconds = time.monotonic() - started
    finally:
        await enricher.aclose()
    assert seconds < 1.0
    assert summary.stopped == "Stopped before the time limit; run the fill again to continue."
    assert summary.remaining == 20
    grid = padded(sheets_emulator.cells(sid)["rows"], 6, 21)
    assert all(row[3:] == ["", "", ""] for row in grid[1:])


def test_an_interactive_formula_answers_while_a_100000_row_fill_is_planned(
    fill_function: Function,  # noqa: F811 - the fixture imported above
    sheets_emulator: SheetsEmulator,
    sim: Simulator,
) -> None:
    """A 100,000-row sheet is read and planned off the event loop: a formula recalculated
    (its answer cached) while the plan is being made answers within 0.5 s, before the plan
    is done."""
    people = [person(i, "hundredk") for i in range(100_000)]
    rows: list[list[Any]] = [["First name", "Last name", "Website"]]
    rows += [[p["firstname"], p["lastname"], p["domain"]] for p in people]
    sid = sheets_emulator.create_spreadsheet(
        {"Leads": rows}, sizes={"Leads": (100_001, 3)}, value_input="RAW"
    )
    sheets_emulator.http.post("/_emulator/counters/reset").raise_for_status()
    formula = {"contacts": [person(0, "interactive")], "priority": "interactive"}
    headers = {"Authorization": f"Bearer {fill_function.token}"}
    with httpx.Client(base_url=fill_function.url, headers=headers, timeout=30) as http:
        http.post("/enrich", json=formula).raise_for_status()  # now a recalculation: cached
    fill_done: list[float] = []

    def plan() -> None:
        response = post_fill(fill_function, {"spreadsheet_id": sid, "dry_run": True})
        assert response.status_code == 200, response.text
        assert response.json()["rows"] == 100_000
        fill_done.append(time.monotonic())

    planner = threading.Thread(target=plan)
    planner.start()
    # Wait until the function has read the whole sheet: from now on it parses and plans.
    wait_until(
        lambda: sheets_emulator.counters()["by_method"].get("spreadsheets.values.get", 0) >= 11,
        timeout=120,
        what="the fill to read the whole sheet (11 reads)",
        interval=0.01,
    )
    with httpx.Client(base_url=fill_function.url, headers=headers, timeout=30) as http:
        started = time.monotonic()
        answer = http.post("/enrich", json=formula)
        answered = time.monotonic()
    planner.join(timeout=300)
    assert answer.status_code == 200
    print(f"\ninteractive /enrich during a 100,000-row plan: {answered - started:.3f} s")
    assert answered - started < 0.5
    assert fill_done and fill_done[0] > answered  # the plan was still being made
