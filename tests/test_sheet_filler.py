"""The sheet filler in-process, against the Pronto simulator and the Sheets API emulator.

Both are real servers in their own processes; the filler talks to them through the real
enricher (httpx) and real gspread. Every expected value comes from the simulator's own
rules (`simulated_outcome`) and is checked in the emulator's stored cells.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pronto_sheets.enrich.contacts import Contact, EnrichmentTypes
from pronto_sheets.enrich.engine import Enricher
from pronto_sheets.errors import ColumnMappingError, SheetWriteFailed, WorksheetNotFound
from pronto_sheets.settings import Settings
from pronto_sheets.sheets.client import SheetsClient, open_gspread_client
from pronto_sheets.sheets.filler import FillProgress, FillRequest, SheetFiller
from pronto_sheets.sheets.writer import FlushPolicy
from pronto_sheets_dev.simulator import NOT_FOUND_MESSAGE, identity_key, simulated_outcome
from tests.sheets_fixtures import FAST_RETRY, SheetsEmulator
from tests.support.stack import Simulator

# The emulator's fixtures (until conftest.py imports them for every module).

BOTH = EnrichmentTypes(("email", "phone"))
EMAIL = EnrichmentTypes(("email",))
EMAIL_COLUMNS = ("Email", "Email status", "Pronto status")  # what an email-only run appends
OUTPUT_NAMES = ("Email", "Email status", "Phone", "Phone status", "Pronto status")
LABELS = {"email": "Email", "phone": "Phone", "personal_email": "Personal email"}
NEEDS_LINKEDIN = {
    "phone": "Add a LinkedIn URL to look up a phone.",
    "personal_email": "Add a LinkedIn URL to look up a personal email.",
}


def fast_settings(pronto_url: str, **changes: Any) -> Settings:
    """An enricher's settings for correctness tests: a fast simulator, a big budget."""
    base: dict[str, Any] = {
        "pronto_api_key": "sim-key",
        "pronto_base_url": pronto_url,
        "rate_per_second": 10_000,
        "max_in_flight": 20,
        "daily_credit_budget": 100_000_000,
        "retry_total_s": 20.0,
    }
    return Settings(**{**base, **changes})


@pytest.fixture
def fast_sim(sim: Simulator) -> Simulator:
    """The session simulator with 0–2 ms latency and limits far above what tests use."""
    sim.reset(rate=10_000, max_open=20, latency_ms=1, latency_jitter_ms=1)
    return sim


@pytest.fixture
async def enricher(fast_sim: Simulator) -> AsyncIterator[Enricher]:
    built = Enricher.from_settings(fast_settings(fast_sim.url))
    yield built
    await built.aclose()


@pytest.fixture
def gspread_client(sheets_emulator: SheetsEmulator) -> SheetsClient:
    return open_gspread_client(sheets_api_base_url=sheets_emulator.base_url, retry=FAST_RETRY)


def expected_cells(fields: dict[str, str], types: EnrichmentTypes = BOTH) -> dict[str, str]:
    """The output cells the simulator's answer gives this row (by header), spelled out by
    hand from the done rule (docs/how-it-works.md) rather than by the code under test."""
    contact = Contact.from_mapping(fields)
    reason = contact.invalid_reason()
    if reason:
        return {"Pronto status": f"invalid: {reason}"}
    outcome = simulated_outcome(
        contact.firstname,
        contact.lastname,
        domain=contact.domain or None,
        company_name=contact.company_name or None,
        linkedin_url=contact.linkedin_url or None,
    )
    cells: dict[str, str] = {}
    found_any = not_found_any = False
    notes: list[str] = []
    for name in types:
        label = LABELS[name]
        if name in NEEDS_LINKEDIN and not contact.linkedin_url:
            cells[f"{label} status"] = f"needs_linkedin: {NEEDS_LINKEDIN[name]}"
            notes.append(NEEDS_LINKEDIN[name])
            continue
        if name == "email":
            value, status = outcome.email, outcome.email_status or ""
        elif name == "phone":
            value, status = ", ".join(outcome.phones), "valid"
        else:
            value, status = outcome.personal_email, outcome.personal_email_status or ""
        if value:
            cells[label], cells[f"{label} status"] = value, status
            found_any = True
        else:
            cells[f"{label} status"] = "not_found"
            not_found_any = True
    if found_any:
        row = "success"
    elif not_found_any:
        row = "not_found"
        notes.insert(0, NOT_FOUND_MESSAGE + ".")
    else:
        row = "invalid"
    cells["Pronto status"] = f"{row}: {' '.join(notes)}" if notes else row
    return cells


def sim_key(fields: dict[str, str]) -> str:
    """The simulator's `by_contact` key for the contact this row names."""
    contact = Contact.from_mapping(fields)
    return identity_key(
        contact.firstname,
        contact.lastname,
        contact.domain or None,
        contact.company_name or None,
        contact.linkedin_url or None,
    )


def padded(rows: list[list[Any]], width: int, height: int) -> list[list[Any]]:
    grid = [list(row) + [""] * (width - len(row)) for row in rows]
    return grid + [[""] * width for _ in range(height - len(grid))]


def row_cells(grid: list[list[Any]], row_index: int, names: tuple[str, ...]) -> dict[str, Any]:
    header = grid[0]
    return {name: grid[row_index][header.index(name)] for name in names}


def write_log(emulator: SheetsEmulator) -> list[dict[str, Any]]:
    return [r for r in emulator.requests() if r["kind"] == "write" and r["status"] == 200]


def person(i: int, tag: str) -> dict[str, str]:
    return {
        "firstname": f"Zoé{i}",
        "lastname": f"Durand-{tag}",
        "company_name": f"Acme {i % 13}",
        "domain": f"acme{i % 17}.example.com",
    }


# The 2,000-row sheet: A Prénom, B NOM, C Company Website, D Société, E Email and F Email
# status (output columns the sheet already has), G Notes (text, numbers, formulas),
# H Pronto status.
BIG_HEADER = [
    "Prénom",
    "NOM",
    "Company Website",
    "Société",
    "Email",
    "Email status",
    "Notes",
    "Pronto status",
]


def big_sheet(tag: str) -> tuple[list[list[Any]], dict[int, dict[str, str]], set[int]]:
    """Rows, the contact each to-do row names (by 0-based grid row), and the skipped rows."""
    kinds = (
        ["blank"] * 20
        + ["note_only"] * 5
        + ["filled_email"] * 200
        + ["filled_not_found"] * 60
        + ["filled_success"] * 40
        + ["retry_failed"] * 20
        + ["retry_over_budget"] * 10
        + ["invalid"] * 10
        + ["duplicate"] * 200
    )
    kinds += ["new"] * (2000 - len(kinds))
    rng = random.Random(7)
    rng.shuffle(kinds)
    first_new = kinds.index("new")  # duplicates always have an earlier row to copy
    kinds[0], kinds[first_new] = kinds[first_new], kinds[0]
    rows: list[list[Any]] = [BIG_HEADER]
    todo: dict[int, dict[str, str]] = {}
    skipped: set[int] = set()
    seen: list[dict[str, str]] = []
    for i, kind in enumerate(kinds):
        grid_row = i + 1
        sheet_row = grid_row + 1
        note: Any = f"=LEN(A{sheet_row})" if i % 100 == 3 else (42 if i % 100 == 4 else "")
        p = person(i, tag)
        cells: list[Any] = [p["firstname"], p["lastname"], p["domain"], p["company_name"]]
        if kind == "blank":
            rows.append([])
            skipped.add(grid_row)
            continue
        if kind == "note_only":
            rows.append(["", "", "", "", "", "", "a note, no contact"])
            skipped.add(grid_row)
            continue
        if kind == "duplicate":
            source = rng.choice(seen)
            spelled = [
                source["firstname"].upper(),
                f"  {source['lastname'].lower()}  ",
                f"https://www.{source['domain']}/about",
                source["company_name"],
            ]
            rows.append([*spelled, "", "", note])
            todo[grid_row] = dict(
                zip(("firstname", "lastname", "domain", "company_name"), spelled, strict=True)
            )
            continue
        if kind.startswith("filled"):
            # Done for email: an address, or an Email status recording an answer.
            email, email_status, status = {
                "filled_email": (f"kept{i}@old.example", "", ""),
                "filled_not_found": ("", "not_found", "not_found: nothing last time"),
                "filled_success": (f"found{i}@old.example", "valid", "success"),
            }[kind]
            rows.append([*cells, email, email_status, note, status])
            skipped.add(grid_row)
            continue
        if kind == "invalid":
            cells[1] = ""
        # Not done: a "try again" status is looked at again.
        status = {
            "retry_failed": "failed: Pronto did not answer",
            "retry_over_budget": "over_budget: budget used up",
        }.get(kind, "")
        rows.append([*cells, "", status, note, status])
        fields = {"firstname": cells[0], "lastname": cells[1], "domain": cells[2]}
        fields["company_name"] = cells[3]
        todo[grid_row] = fields
        if kind != "invalid":
            seen.append(fields)
    return rows, todo, skipped


@pytest.mark.timing
async def test_a_big_messy_sheet_is_filled_exactly(
    enricher: Enricher,
    gspread_client: SheetsClient,
    sheets_emulator: SheetsEmulator,
    fast_sim: Simulator,
) -> None:
    """2,000 rows: only unfilled distinct contacts reach Pronto, each result lands on its own
    row, and every other cell (formulas, notes, filled and blank rows) is unchanged."""
    rows, todo, _ = big_sheet("big")
    sid = sheets_emulator.create_spreadsheet({"Leads": rows})
    before = sheets_emulator.cells(sid)
    sheets_emulator.http.post("/_emulator/counters/reset").raise_for_status()

    summary = await SheetFiller(enricher, gspread_client).fill(FillRequest(sid))

    valid = {r: f for r, f in todo.items() if Contact.from_mapping(f).invalid_reason() is None}
    distinct = {sim_key(f) for f in valid.values()}
    assert len(distinct) == 1465
    stats = fast_sim.stats()
    assert stats["calls"] == 1465
    assert stats["by_contact"] == dict.fromkeys(distinct, 1)

    after = sheets_emulator.cells(sid)
    width = len(BIG_HEADER)
    old = padded(before["rows"], width, 2001)
    new = padded(after["rows"], width, 2001)
    assert new[0] == BIG_HEADER  # an email run needs no column it does not have
    output_columns = {new[0].index(name) for name in EMAIL_COLUMNS}
    for r in range(1, 2001):
        if r in todo:
            want = expected_cells(todo[r], EMAIL)
            assert row_cells(new, r, tuple(want)) == want, f"row {r + 1}"
            kept = [c for c in range(width) if c not in output_columns]
            assert [new[r][c] for c in kept] == [old[r][c] for c in kept], f"row {r + 1}"
        else:
            assert new[r] == old[r], f"row {r + 1} should not change"
    assert after["formulas"] == before["formulas"] != []

    assert summary.rows == 1975
    assert summary.skipped_filled == 300
    assert summary.to_enrich == 1675
    assert summary.duplicates == 200
    assert summary.invalid == 10
    assert summary.enriched == 1665
    assert summary.upstream_calls == 1465
    assert summary.found + summary.not_found == 1665
    assert summary.found == sum(
        1 for f in valid.values() if expected_cells(f, EMAIL)["Pronto status"] == "success"
    )

    counters = sheets_emulator.counters()
    assert counters["by_method"]["spreadsheets.values.get"] == 1  # one read for the data
    assert counters["by_method"]["spreadsheets.get"] == 1
    writes = write_log(sheets_emulator)
    # Before each write, one check that the rows still hold the same people.
    assert counters["by_method"]["spreadsheets.values.batchGet"] == len(writes)
    assert 1 <= len(writes) <= 1675 // 200 + 1
    assert summary.sheets_writes == len(writes)
    gaps = [b["monotonic"] - a["monotonic"] for a, b in itertools.pairwise(writes)]
    assert all(gap >= 1.0 for gap in gaps), gaps


async def test_a_sheet_with_only_full_names_is_filled(
    enricher: Enricher, gspread_client: SheetsClient, sheets_emulator: SheetsEmulator
) -> None:
    """ "Full name" (split into first and last) plus "Company" is enough to fill a sheet."""
    names = ["Grace Hopper", "Lovelace, Ada", "Alan  Mathison Turing", "Cher"]
    rows = [["Full name", "Company"]] + [[n, "Analytical Engines"] for n in names]
    sid = sheets_emulator.create_spreadsheet({"People": rows})

    summary = await SheetFiller(enricher, gspread_client).fill(FillRequest(sid))

    grid = padded(sheets_emulator.cells(sid)["rows"], 5, 5)
    assert grid[0] == ["Full name", "Company", *EMAIL_COLUMNS]
    firsts_lasts = [("Grace", "Hopper"), ("Ada", "Lovelace"), ("Alan", "Mathison Turing")]
    for r, (first, last) in enumerate(firsts_lasts, start=1):
        fields = {"firstname": first, "lastname": last, "company_name": "Analytical Engines"}
        want = expected_cells(fields, EnrichmentTypes())
        assert row_cells(grid, r, tuple(want)) == want
    status = "invalid: Add the last name to this row."
    assert grid[4] == ["Cher", "Analytical Engines", "", "", status]
    assert summary.invalid == 1
    assert summary.upstream_calls == 3


@pytest.mark.timing
async def test_a_run_stopped_by_max_rows_continues_where_it_stopped(
    fast_sim: Simulator, gspread_client: SheetsClient, sheets_emulator: SheetsEmulator
) -> None:
    """max_rows=120 then a second run (a new process, empty cache): every row once, none left."""
    people = [person(i, "resume") for i in range(300)]
    rows = [["First name", "Last name", "Website"]] + [
        [p["firstname"], p["lastname"], p["domain"]] for p in people
    ]
    sid = sheets_emulator.create_spreadsheet({"Sheet1": rows})

    first = Enricher.from_settings(fast_settings(fast_sim.url))
    try:
        summary = await SheetFiller(first, gspread_client).fill(FillRequest(sid, max_rows=120))
    finally:
        await first.aclose()
    assert (summary.to_enrich, summary.remaining) == (120, 180)
    grid = sheets_emulator.cells(sid)["rows"]
    assert [len(row) > 3 for row in grid[1:]] == [True] * 120 + [False] * 180

    second = Enricher.from_settings(fast_settings(fast_sim.url))
    try:
        again = await SheetFiller(second, gspread_client).fill(FillRequest(sid))
    finally:
        await second.aclose()
    assert (again.skipped_filled, again.to_enrich, again.upstream_calls) == (120, 180, 180)
    stats = fast_sim.stats()
    assert stats["calls"] == 300
    assert set(stats["by_contact"].values()) == {1}
    grid = padded(sheets_emulator.cells(sid)["rows"], 8, 301)
    for r, p in enumerate(people, start=1):
        fields = {"firstname": p["firstname"], "lastname": p["lastname"], "domain": p["domain"]}
        want = expected_cells(fields, EnrichmentTypes())
        assert row_cells(grid, r, tuple(want)) == want


async def test_a_row_range_fills_only_those_rows(
    fast_sim: Simulator, gspread_client: SheetsClient, sheets_emulator: SheetsEmulator
) -> None:
    """first_row=5, last_row=9 (the sidebar's selection run on the server): rows 5-9 only."""
    people = [person(i, "range") for i in range(20)]
    rows = [["First name", "Last name", "Website"]] + [
        [p["firstname"], p["lastname"], p["domain"]] for p in people
    ]
    sid = sheets_emulator.create_spreadsheet({"Sheet1": rows})

    enricher = Enricher.from_settings(fast_settings(fast_sim.url))
    try:
        summary = await SheetFiller(enricher, gspread_client).fill(
            FillRequest(sid, first_row=5, last_row=9)
        )
    finally:
        await enricher.aclose()
    assert (summary.rows, summary.to_enrich, summary.upstream_calls) == (5, 5, 5)
    grid = sheets_emulator.cells(sid)["rows"]
    filled = [number for number, row in enumerate(grid, start=1) if number > 1 and len(row) > 3]
    assert filled == [5, 6, 7, 8, 9]


@pytest.mark.timing
async def test_a_cancelled_run_writes_what_it_paid_for_and_the_next_run_finishes(
    fast_sim: Simulator, gspread_client: SheetsClient, sheets_emulator: SheetsEmulator
) -> None:
    """Cancelled after its first write, then run again from scratch: no contact is paid
    twice and no row is left out."""
    fast_sim.configure(latency_ms=5, latency_jitter_ms=2)
    people = [person(i, "cancel") for i in range(900)]
    rows = [["First name", "Last name", "Website"]] + [
        [p["firstname"], p["lastname"], p["domain"]] for p in people
    ]
    sid = sheets_emulator.create_spreadsheet({"Sheet1": rows})

    first = Enricher.from_settings(fast_settings(fast_sim.url))
    written = asyncio.Event()

    def on_progress(progress: FillProgress) -> None:
        if progress.rows_written > 0:
            written.set()

    filler = SheetFiller(first, gspread_client, progress=on_progress)
    run = asyncio.create_task(filler.fill(FillRequest(sid)))
    await asyncio.wait_for(written.wait(), timeout=60)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    await first.aclose()
    paid_first = fast_sim.stats()["calls"]
    filled_first = sum(1 for row in sheets_emulator.cells(sid)["rows"][1:] if len(row) > 3)
    assert 0 < filled_first == paid_first < 900

    second = Enricher.from_settings(fast_settings(fast_sim.url))
    try:
        again = await SheetFiller(second, gspread_client).fill(FillRequest(sid))
    finally:
        await second.aclose()
    assert again.skipped_filled == filled_first
    stats = fast_sim.stats()
    assert stats["calls"] == 900
    assert set(stats["by_contact"].values()) == {1}
    grid = padded(sheets_emulator.cells(sid)["rows"], 8, 901)
    for r, p in enumerate(people, start=1):
        fields = {"firstname": p["firstname"], "lastname": p["lastname"], "domain": p["domain"]}
        want = expected_cells(fields, EnrichmentTypes())
        assert row_cells(grid, r, tuple(want)) == want


class _FormulaPronto(BaseHTTPRequestHandler):
    """A stand-in Pronto whose answers start with =, +, - and @."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        body = json.dumps(
            {
                "status": "success",
                "email": '=HYPERLINK("http://x","y")',
                "email_status": "@valid",
                "phones": [{"number": "+33 6 12 34 56 78", "type": "mobile"}],
                "phone_status": "-valid",
            }
        ).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def formula_pronto() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FormulaPronto)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_values_that_look_like_formulas_are_written_as_text(
    formula_pronto: str, gspread_client: SheetsClient, sheets_emulator: SheetsEmulator
) -> None:
    """A Pronto answer `=HYPERLINK("http://x","y")` is stored as that text, not a formula."""
    sid = sheets_emulator.create_spreadsheet(
        {
            "Sheet1": [
                ["First name", "Last name", "Domain", "LinkedIn"],
                ["Eve", "Mallory", "evil.example", "linkedin.com/in/eve"],
            ]
        }
    )
    enricher = Enricher.from_settings(fast_settings(formula_pronto))
    try:
        await SheetFiller(enricher, gspread_client).fill(FillRequest(sid, types=BOTH))
    finally:
        await enricher.aclose()
    cells = sheets_emulator.cells(sid)
    assert cells["rows"][1] == [
        "Eve",
        "Mallory",
        "evil.example",
        "linkedin.com/in/eve",
        '=HYPERLINK("http://x","y")',
        "@valid",
        "+33 6 12 34 56 78",
        "-valid",
        "success",
    ]
    assert cells["formulas"] == []
    assert cells["formatted"][1][4] == '=HYPERLINK("http://x","y")'


@pytest.mark.timing
async def test_bursts_of_429_from_sheets_lose_no_write(
    enricher: Enricher,
    gspread_client: SheetsClient,
    sheets_emulator: SheetsEmulator,
    fast_sim: Simulator,
) -> None:
    """Sheets answers 429 (Retry-After: 1) to bursts of reads and writes: the fill waits,
    completes, and every row holds its value."""
    people = [person(i, "burst") for i in range(700)]
    rows = [["First name", "Last name", "Website"]] + [
        [p["firstname"], p["lastname"], p["domain"]] for p in people
    ]
    sid = sheets_emulator.create_spreadsheet({"Sheet1": rows})
    sheets_emulator.force_faults(2, 429, retry_after="1", kinds=("read",))
    sheets_emulator.force_faults(2, 429, retry_after="1", kinds=("write",))
    bursts = {"armed": False}

    def second_burst(progress: FillProgress) -> None:
        if progress.rows_written > 0 and not bursts["armed"]:
            bursts["armed"] = True
            sheets_emulator.force_faults(2, 429, retry_after="1", kinds=("write",))

    filler = SheetFiller(enricher, gspread_client, progress=second_burst, flush_rows=100)
    summary = await filler.fill(FillRequest(sid))

    assert bursts["armed"]
    counters = sheets_emulator.counters()
    assert counters["by_status"]["429"] == 6
    assert summary.enriched == 700
    grid = padded(sheets_emulator.cells(sid)["rows"], 8, 701)
    for r, p in enumerate(people, start=1):
        fields = {"firstname": p["firstname"], "lastname": p["lastname"], "domain": p["domain"]}
        want = expected_cells(fields, EnrichmentTypes())
        assert row_cells(grid, r, tuple(want)) == want
    assert fast_sim.stats()["calls"] == 700


@pytest.mark.timing
async def test_a_write_that_keeps_failing_stops_the_run_and_keeps_earlier_writes(
    enricher: Enricher,
    gspread_client: SheetsClient,
    sheets_emulator: SheetsEmulator,
    fast_sim: Simulator,
) -> None:
    """After a first write, Sheets fails every write: the run stops with a clear message,
    the rows written stay, and the next run fills the rest without paying again."""
    people = [person(i, "failwrite") for i in range(500)]
    rows = [["First name", "Last name", "Website"]] + [
        [p["firstname"], p["lastname"], p["domain"]] for p in people
    ]
    sid = sheets_emulator.create_spreadsheet({"Sheet1": rows})

    broken: list[int] = []

    def break_writes(progress: FillProgress) -> None:
        if progress.rows_written > 0 and not broken:
            broken.append(progress.rows_written)
            sheets_emulator.force_faults(50, 503, kinds=("write",))

    filler = SheetFiller(enricher, gspread_client, progress=break_writes, flush_rows=100)
    with pytest.raises(SheetWriteFailed) as caught:
        await filler.fill(FillRequest(sid))
    written = sum(1 for row in sheets_emulator.cells(sid)["rows"][1:] if len(row) > 3)
    assert written == broken[0] >= 100
    assert caught.value.message.startswith("Google Sheets kept refusing to save results (")
    assert caught.value.message.endswith(
        f"so the fill stopped after writing {written} rows. Those rows are kept; run the fill "
        "again later and it will continue where it stopped without paying twice."
    )

    sheets_emulator.http.delete("/_emulator/faults").raise_for_status()
    again = await SheetFiller(enricher, gspread_client).fill(FillRequest(sid))
    assert again.skipped_filled == written
    stats = fast_sim.stats()
    assert set(stats["by_contact"].values()) == {1}
    assert len(stats["by_contact"]) == 500
    grid = padded(sheets_emulator.cells(sid)["rows"], 8, 501)
    for r, p in enumerate(people, start=1):
        fields = {"firstname": p["firstname"], "lastname": p["lastname"], "domain": p["domain"]}
        want = expected_cells(fields, EnrichmentTypes())
        assert row_cells(grid, r, tuple(want)) == want


async def test_rows_past_the_budget_are_marked_and_picked_up_later(
    fast_sim: Simulator, gspread_client: SheetsClient, sheets_emulator: SheetsEmulator
) -> None:
    """With a 30-credit budget the rows it cannot pay say over_budget; a later run with
    budget left fills exactly those rows."""
    people = [person(i, "budget") for i in range(80)]
    rows = [["First name", "Last name", "Website"]] + [
        [p["firstname"], p["lastname"], p["domain"]] for p in people
    ]
    sid = sheets_emulator.create_spreadsheet({"Sheet1": rows})
    tight = Enricher.from_settings(fast_settings(fast_sim.url, daily_credit_budget=30))
    try:
        summary = await SheetFiller(tight, gspread_client).fill(FillRequest(sid))
    finally:
        await tight.aclose()

    message = (
        "over_budget: Today's credit budget (30 credits) is used up. Rows left will be "
        "filled after midnight UTC, or raise PRONTO_DAILY_CREDIT_BUDGET."
    )
    grid = padded(sheets_emulator.cells(sid)["rows"], 6, 81)
    assert grid[0][3:] == list(EMAIL_COLUMNS)
    over = [r for r in range(1, 81) if grid[r][5] == message]
    assert summary.over_budget == len(over) > 0
    assert fast_sim.stats()["credits_spent"] <= 30
    for r in range(1, 81):
        if r not in over:
            fields = {k: people[r - 1][k] for k in ("firstname", "lastname", "domain")}
            want = expected_cells(fields, EnrichmentTypes())
            assert row_cells(grid, r, tuple(want)) == want
        else:  # no value; the type's status says why, so the next run asks again
            assert grid[r][3:5] == ["", message]

    later = Enricher.from_settings(fast_settings(fast_sim.url))
    try:
        again = await SheetFiller(later, gspread_client).fill(FillRequest(sid))
    finally:
        await later.aclose()
    assert again.to_enrich == len(over)
    assert again.upstream_calls == len(over)
    assert set(fast_sim.stats()["by_contact"].values()) == {1}
    grid = padded(sheets_emulator.cells(sid)["rows"], 8, 81)
    for r in over:
        fields = {k: people[r - 1][k] for k in ("firstname", "lastname", "domain")}
        want = expected_cells(fields, EnrichmentTypes())
        assert row_cells(grid, r, tuple(want)) == want


async def test_a_dry_run_plans_without_calling_pronto_or_writing(
    enricher: Enricher,
    gspread_client: SheetsClient,
    sheets_emulator: SheetsEmulator,
    fast_sim: Simulator,
) -> None:
    """dry_run counts rows, duplicates, invalid rows and credits; Pronto and the sheet are
    untouched; the real run then does what the plan said."""
    people = [person(i, "dry") for i in range(40)]
    rows = [["First name", "Last name", "Website", "Email"]]
    rows += [[p["firstname"], p["lastname"], p["domain"]] for p in people]
    rows += [[p["firstname"], p["lastname"], p["domain"]] for p in people[:5]]  # duplicates
    rows += [["Solo", "", "x.example"], [*list(people[0].values())[:2], "y.example", "a@b.c"]]
    sid = sheets_emulator.create_spreadsheet({"Sheet1": rows})
    before = sheets_emulator.cells(sid)["rows"]

    plan = await SheetFiller(enricher, gspread_client).fill(FillRequest(sid, dry_run=True))

    assert plan.to_json() | {"seconds": 0} == {
        "spreadsheet_id": sid,
        "sheet": "Sheet1",
        "dry_run": True,
        "rows": 47,
        "to_enrich": 46,
        "enriched": 0,
        "found": 0,
        "not_found": 0,
        "skipped_filled": 1,
        "duplicates": 5,
        "invalid": 1,
        "needs_linkedin": 0,
        "failed": 0,
        "over_budget": 0,
        "pending": 0,
        "remaining": 0,
        "credits": 0,
        "upstream_calls": 0,
        "sheets_reads": 2,
        "sheets_writes": 0,
        "seconds": 0,
        "found_by_type": {},
        "notices": [],
        "unique": 40,
        "cached": 0,
        "to_call": 40,
        "estimated_credits": 120,
    }
    assert fast_sim.stats()["calls"] == 0
    assert sheets_emulator.cells(sid)["rows"] == before

    real = await SheetFiller(enricher, gspread_client).fill(FillRequest(sid))
    assert (real.to_enrich, real.duplicates, real.invalid, real.skipped_filled) == (46, 5, 1, 1)
    assert real.upstream_calls == fast_sim.stats()["calls"] == 40
    assert real.credits <= 120


async def test_overwrite_replaces_results_without_paying_again(
    enricher: Enricher,
    gspread_client: SheetsClient,
    sheets_emulator: SheetsEmulator,
    fast_sim: Simulator,
) -> None:
    """overwrite re-enriches rows that have results, free from the cache; a new value found
    replaces a stale one, and "nothing found" never erases a value already there."""
    people = [person(i, "overwrite") for i in range(10)]
    rows = [["First name", "Last name", "Website"]] + [
        [p["firstname"], p["lastname"], p["domain"]] for p in people
    ]
    sid = sheets_emulator.create_spreadsheet({"Sheet1": rows})
    fields = [{k: p[k] for k in ("firstname", "lastname", "domain")} for p in people]
    found = next(i for i, f in enumerate(fields) if "Email" in expected_cells(f, EMAIL))
    missing = next(i for i, f in enumerate(fields) if "Email" not in expected_cells(f, EMAIL))
    await SheetFiller(enricher, gspread_client).fill(FillRequest(sid))
    sheet = gspread_client.open_by_key(sid).sheet1
    sheet.update([["stale@wrong.example"]], f"D{found + 2}")
    sheet.update([["kept@by-hand.example"]], f"D{missing + 2}")

    skipped = await SheetFiller(enricher, gspread_client).fill(FillRequest(sid))
    assert (skipped.skipped_filled, skipped.to_enrich) == (10, 0)
    redone = await SheetFiller(enricher, gspread_client).fill(FillRequest(sid, overwrite=True))
    assert (redone.to_enrich, redone.upstream_calls) == (10, 0)
    assert fast_sim.stats()["calls"] == 10
    grid = padded(sheets_emulator.cells(sid)["rows"], 6, 11)
    assert grid[found + 1][3] == expected_cells(fields[found], EMAIL)["Email"]
    assert grid[missing + 1][3] == "kept@by-hand.example"


async def test_an_overwrite_that_fails_keeps_the_answers_there(
    gspread_client: SheetsClient, sheets_emulator: SheetsEmulator, fast_sim: Simulator
) -> None:
    """Re-asked with overwrite while Pronto fails, rows keep their Email and Email status;
    only Pronto status says the lookup failed (a data cell only holds Pronto's values)."""
    people = [person(i, "keep") for i in range(12)]
    rows = [["First name", "Last name", "Website"]] + [
        [p["firstname"], p["lastname"], p["domain"]] for p in people
    ]
    sid = sheets_emulator.create_spreadsheet({"Sheet1": rows})
    first = Enricher.from_settings(fast_settings(fast_sim.url))
    try:
        await SheetFiller(first, gspread_client).fill(FillRequest(sid))
    finally:
        await first.aclose()
    before = padded(sheets_emulator.cells(sid)["rows"], 6, 13)

    fast_sim.configure(fault_503=1.0)
    failing = Enricher.from_settings(fast_settings(fast_sim.url, retry_attempts=1))
    try:
        redone = await SheetFiller(failing, gspread_client).fill(FillRequest(sid, overwrite=True))
    finally:
        await failing.aclose()

    assert redone.failed == 12
    after = padded(sheets_emulator.cells(sid)["rows"], 6, 13)
    for r in range(1, 13):
        assert after[r][3:5] == before[r][3:5], f"row {r + 1}"
        assert after[r][5].startswith("failed: ")


async def test_a_sheet_without_name_columns_is_refused_with_its_headers(
    enricher: Enricher, gspread_client: SheetsClient, sheets_emulator: SheetsEmulator
) -> None:
    """An unmappable sheet is refused before anything is sent or written."""
    sid = sheets_emulator.create_spreadsheet({"Sheet1": [["City", "Budget"], ["Paris", 10]]})
    with pytest.raises(ColumnMappingError, match='Headers found: "City", "Budget"'):
        await SheetFiller(enricher, gspread_client).fill(FillRequest(sid))
    assert sheets_emulator.counters()["writes"] == 0


async def test_a_named_tab_that_does_not_exist_lists_the_tabs(
    enricher: Enricher, gspread_client: SheetsClient, sheets_emulator: SheetsEmulator
) -> None:
    """Asking for a tab that is not there names the tabs that are."""
    sid = sheets_emulator.create_spreadsheet({"Leads": [], "Archive": []})
    with pytest.raises(WorksheetNotFound) as caught:
        await SheetFiller(enricher, gspread_client).fill(FillRequest(sid, sheet="leads"))
    assert caught.value.message == (
        'There is no sheet named "leads" in this spreadsheet. Its sheets are: "Leads", '
        '"Archive". Check the tab name (it is case-sensitive).'
    )


async def test_output_columns_past_the_grid_edge_grow_the_grid(
    enricher: Enricher, gspread_client: SheetsClient, sheets_emulator: SheetsEmulator
) -> None:
    """A sheet exactly as wide as its data gets columns appended before results land."""
    sid = sheets_emulator.create_spreadsheet(
        {"Sheet1": [["First name", "Last name", "Domain"], ["Ada", "Byron", "engines.example"]]},
        sizes={"Sheet1": (10, 3)},
    )
    await SheetFiller(enricher, gspread_client).fill(FillRequest(sid))
    cells = sheets_emulator.cells(sid)
    assert cells["columnCount"] == 6  # an email run adds Email, Email status, Pronto status
    fields = {"firstname": "Ada", "lastname": "Byron", "domain": "engines.example"}
    want = expected_cells(fields, EnrichmentTypes())
    assert cells["rows"][0][3:] == list(EMAIL_COLUMNS)
    assert padded(cells["rows"], 6, 2)[1][3:] == [
        want.get("Email", ""),
        want["Email status"],
        want["Pronto status"],
    ]


def test_flush_policy_writes_every_200_rows_or_every_few_seconds() -> None:
    """Flush at 200 pending rows or 3 s after the first pending one; never 2 writes < 1 s apart."""
    policy = FlushPolicy(rows=200, interval_s=3.0, min_gap_s=1.0)
    assert not policy.due(0, None, now=100.0)
    assert not policy.due(199, first_pending_at=99.0, now=100.0)
    assert policy.due(200, first_pending_at=99.9, now=100.0)
    assert policy.due(1, first_pending_at=97.0, now=100.0)
    assert policy.wait_before_write(now=100.0) == 0.0
    policy.last_write = 100.0
    assert policy.wait_before_write(now=100.25) == 0.75
    assert policy.wait_before_write(now=101.5) == 0.0


async def test_a_refresh_that_finds_nothing_new_writes_nothing(
    enricher: Enricher, gspread_client: SheetsClient, sheets_emulator: SheetsEmulator
) -> None:
    """Invalid rows met again already say so: the second run sends no write at all."""
    rows = [
        ["First name", "Last name", "Website"],
        ["Ada", "Byron", "engines.example"],
        ["Charles", "", "engines.example"],
        ["", "Babbage", ""],
    ]
    sid = sheets_emulator.create_spreadsheet({"Sheet1": rows})
    first = await SheetFiller(enricher, gspread_client).fill(FillRequest(sid))
    assert (first.invalid, first.sheets_writes) == (2, 1)

    again = await SheetFiller(enricher, gspread_client).fill(FillRequest(sid))

    assert (again.skipped_filled, again.to_enrich, again.invalid) == (1, 2, 2)
    assert again.sheets_writes == 0
    grid = padded(sheets_emulator.cells(sid)["rows"], 6, 4)
    assert [grid[r][5] for r in (2, 3)] == [
        "invalid: Add the last name to this row.",
        "invalid: Add the first name to this row.",
    ]


@pytest.mark.timing
async def test_a_row_inserted_mid_run_never_gets_another_rows_result(
    enricher: Enricher,
    gspread_client: SheetsClient,
    sheets_emulator: SheetsEmulator,
    fast_sim: Simulator,
) -> None:
    """Someone inserts a row while the fill runs: rows that moved are not written (no value
    lands beside the wrong person) and the next run fills them, paying nothing twice."""
    people = [person(i, "insert") for i in range(400)]
    rows = [["First name", "Last name", "Website"]] + [
        [p["firstname"], p["lastname"], p["domain"]] for p in people
    ]
    sid = sheets_emulator.create_spreadsheet({"Sheet1": rows})
    worksheet = gspread_client.open_by_key(sid).sheet1
    inserted: list[int] = []

    def insert_a_row(progress: FillProgress) -> None:
        if progress.rows_written > 0 and not inserted:
            inserted.append(progress.rows_written)
            worksheet.insert_row(["Grace", "Inserted", "navy.example"], index=2)

    filler = SheetFiller(enricher, gspread_client, progress=insert_a_row, flush_rows=50)
    summary = await filler.fill(FillRequest(sid))

    assert summary.changed_during_run == 400 - inserted[0] > 0
    assert summary.remaining == summary.changed_during_run
    grid = padded(sheets_emulator.cells(sid)["rows"], 6, 402)
    assert grid[1] == ["Grace", "Inserted", "navy.example", "", "", ""]
    with_results = 0
    for r in range(2, 402):
        fields = dict(zip(("firstname", "lastname", "domain"), grid[r][:3], strict=True))
        want = expected_cells(fields, EnrichmentTypes())
        if grid[r][5]:  # written before the insert, and moved down with its row
            with_results += 1
            assert row_cells(grid, r, tuple(want)) == want, f"row {r + 1}"
        else:
            assert grid[r][3:] == [""] * 3, f"row {r + 1}"
    assert with_results == inserted[0]

    again = await SheetFiller(enricher, gspread_client).fill(FillRequest(sid))

    assert again.upstream_calls == 1  # the inserted person; the others come from the cache
    assert set(fast_sim.stats()["by_contact"].values()) == {1}
    grid = padded(sheets_emulator.cells(sid)["rows"], 8, 402)
    for r in range(1, 402):
        fields = dict(zip(("firstname", "lastname", "domain"), grid[r][:3], strict=True))
        want = expected_cells(fields, EnrichmentTypes())
        assert row_cells(grid, r, tuple(want)) == want


async def test_a_rejected_pronto_key_stops_the_run_instead_of_failing_every_row(
    fast_sim: Simulator, gspread_client: SheetsClient, sheets_emulator: SheetsEmulator
) -> None:
    """After 30 contacts in a row fail (here: a wrong key), the run stops, says why, and
    leaves the other rows untouched for the next run."""
    people = [person(i, "badkey") for i in range(300)]
    rows = [["First name", "Last name", "Website"]] + [
        [p["firstname"], p["lastname"], p["domain"]] for p in people
    ]
    sid = sheets_emulator.create_spreadsheet({"Sheet1": rows})
    wrong = Enricher.from_settings(fast_settings(fast_sim.url, pronto_api_key="wrong-key"))
    try:
        summary = await SheetFiller(wrong, gspread_client).fill(FillRequest(sid))
    finally:
        await wrong.aclose()

    reason = (
        "The Pronto API key was rejected. Ask your admin to check PRONTO_API_KEY where the "
        "function runs."
    )
    assert summary.stopped == (
        f"Stopped because Pronto kept failing ({reason}) Run the fill again later to continue."
    )
    assert 30 <= summary.failed < 200
    assert summary.failed + summary.remaining == 300
    statuses = [row[5] for row in padded(sheets_emulator.cells(sid)["rows"], 6, 301)[1:]]
    assert statuses.count(f"failed: {reason}") == summary.failed
    assert statuses.count("") == summary.remaining


async def test_a_sheet_past_10000_rows_is_read_in_chunks_of_10000(
    enricher: Enricher, gspread_client: SheetsClient, sheets_emulator: SheetsEmulator
) -> None:
    """A 25,000-row grid is read in three requests, and a contact on row 12,001 is filled."""
    people = [person(i, "tall") for i in range(4)]
    rows: list[list[Any]] = [["First name", "Last name", "Website"]]
    rows += [[p["firstname"], p["lastname"], p["domain"]] for p in people[:2]]
    rows += [[] for _ in range(12_000 - len(rows))]
    rows += [[p["firstname"], p["lastname"], p["domain"]] for p in people[2:]]
    sid = sheets_emulator.create_spreadsheet({"Sheet1": rows}, sizes={"Sheet1": (25_000, 8)})

    summary = await SheetFiller(enricher, gspread_client).fill(FillRequest(sid))

    assert sheets_emulator.counters()["by_method"]["spreadsheets.values.get"] == 3
    assert (summary.rows, summary.enriched) == (4, 4)
    grid = padded(sheets_emulator.cells(sid)["rows"], 8, 12_002)
    for r, p in zip((1, 2, 12_000, 12_001), people, strict=True):
        assert grid[r][:3] == [p["firstname"], p["lastname"], p["domain"]]
        fields = {k: p[k] for k in ("firstname", "lastname", "domain")}
        want = expected_cells(fields, EnrichmentTypes())
        assert row_cells(grid, r, tuple(want)) == want
