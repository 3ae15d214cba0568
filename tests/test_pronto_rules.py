"""Pronto's current rules, end to end: the simulator enforces them and counts every refusal,
so these tests prove the product never triggers one.

- phone and personal email only with a LinkedIn URL (the row's other types still go);
- personal email needs the account's consent: one refused call, then a pause;
- out of credits in its three forms stops the day's spending at once;
- adding phones to a sheet of emails re-buys nothing and overwrites nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from pronto_sheets.enrich.consent import ConsentGate
from pronto_sheets.enrich.contacts import EnrichmentTypes
from pronto_sheets.enrich.engine import Enricher
from pronto_sheets.sheets.client import SheetsClient, open_gspread_client
from pronto_sheets.sheets.filler import FillRequest, SheetFiller
from tests.sheets_fixtures import FAST_RETRY, SheetsEmulator
from tests.support.servers import ServedProcess
from tests.support.stack import FAST_FUNCTION_ENV, Function, Simulator
from tests.test_fill_route import post_fill, serve_fill_function
from tests.test_sheet_filler import expected_cells, fast_settings, padded, row_cells

EMAIL_PHONE = EnrichmentTypes(("email", "phone"))
PHONE = EnrichmentTypes(("phone",))
PERSONAL = EnrichmentTypes(("email", "personal_email"))
FIELDS = ("firstname", "lastname", "domain", "linkedin_url")


def lead(i: int, tag: str, *, linkedin: bool) -> dict[str, str]:
    return {
        "firstname": f"Noa{i}",
        "lastname": f"Rules-{tag}",
        "domain": f"rules{i % 29}.example.com",
        "linkedin_url": f"https://www.linkedin.com/in/noa{i}-{tag}/" if linkedin else "",
    }


def sheet_of(people: list[dict[str, str]], *extra: str) -> list[list[Any]]:
    rows: list[list[Any]] = [["First name", "Last name", "Website", "LinkedIn", *extra]]
    rows += [[p[f] for f in FIELDS] for p in people]
    return rows


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def current_sim(sim: Simulator) -> Simulator:
    """The simulator under Pronto's current rules, fast."""
    sim.reset(rules="current", rate=10_000, max_open=20, latency_ms=1)
    return sim


@pytest.fixture(scope="module")
def fast_fill_function(
    simulator: Simulator,
    sheets_emulator_process: ServedProcess,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Function]:
    """The function allowed the fast simulator's pace: these tests are about Pronto's
    rules, not its rate."""
    yield from serve_fill_function(
        simulator, sheets_emulator_process, tmp_path_factory, FAST_FUNCTION_ENV
    )


@pytest.fixture
def gspread_client(sheets_emulator: SheetsEmulator) -> SheetsClient:
    return open_gspread_client(sheets_api_base_url=sheets_emulator.base_url, retry=FAST_RETRY)


@pytest.fixture
async def enricher(current_sim: Simulator) -> AsyncIterator[Enricher]:
    built = Enricher.from_settings(fast_settings(current_sim.url))
    yield built
    await built.aclose()


def test_a_1000_row_fill_never_sends_a_phone_without_linkedin(
    fast_fill_function: Function,
    sheets_emulator: SheetsEmulator,
    current_sim: Simulator,
) -> None:
    """1,000 rows, 40% with a LinkedIn URL, POST /fill for email and phone: Pronto sees no
    refused call, every row gets its email lookup, phones only where a URL is, the others'
    Phone status says to add one, and each distinct contact is one call."""
    people = [lead(i, "thousand", linkedin=i % 5 < 2) for i in range(1000)]
    sid = sheets_emulator.create_spreadsheet({"Leads": sheet_of(people)})

    response = post_fill(
        fast_fill_function, {"spreadsheet_id": sid, "enrichment_type": ["email", "phone"]}
    )

    assert response.status_code == 200, response.text
    summary = response.json()
    stats = current_sim.stats()
    assert stats["refused_without_linkedin"] == 0
    assert stats["by_type"] == {"email": 1000, "phone": 400, "personal_email": 0}
    assert stats["calls"] == stats["served"] == 1000  # one call per distinct contact
    assert set(stats["by_contact"].values()) == {1}
    assert summary["needs_linkedin"] == 600
    grid = padded(sheets_emulator.cells(sid)["rows"], 9, 1001)
    for r, p in enumerate(people, start=1):
        want = expected_cells({k: p[k] for k in FIELDS}, EMAIL_PHONE)
        assert row_cells(grid, r, tuple(want)) == want, f"row {r + 1}"
        if not p["linkedin_url"]:
            assert row_cells(grid, r, ("Phone", "Phone status")) == {
                "Phone": "",
                "Phone status": "needs_linkedin: Add a LinkedIn URL to look up a phone.",
            }


async def test_phones_added_to_a_sheet_of_emails_rebuy_nothing(
    enricher: Enricher,
    gspread_client: SheetsClient,
    sheets_emulator: SheetsEmulator,
    current_sim: Simulator,
) -> None:
    """500 rows whose emails are filled, with a LinkedIn column, run for phone: exactly 500
    phone lookups, no email bought again, Email cells unchanged; run again: 0 calls."""
    people = [lead(i, "addphones", linkedin=True) for i in range(500)]
    rows = sheet_of(people, "Email", "Email status")
    for i, row in enumerate(rows[1:]):
        row += [f"kept{i}@old.example", "valid"]
    sid = sheets_emulator.create_spreadsheet({"Leads": rows})

    summary = await SheetFiller(enricher, gspread_client).fill(FillRequest(sid, types=PHONE))

    stats = current_sim.stats()
    assert stats["by_type"] == {"email": 0, "phone": 500, "personal_email": 0}
    assert stats["calls"] == 500
    assert (summary.to_enrich, summary.skipped_filled) == (500, 0)
    grid = padded(sheets_emulator.cells(sid)["rows"], 9, 501)
    assert grid[0][4:] == ["Email", "Email status", "Phone", "Phone status", "Pronto status"]
    for r, p in enumerate(people, start=1):
        assert grid[r][4:6] == [f"kept{r - 1}@old.example", "valid"]
        want = expected_cells({k: p[k] for k in FIELDS}, PHONE)
        assert row_cells(grid, r, tuple(want)) == want

    again = await SheetFiller(enricher, gspread_client).fill(FillRequest(sid, types=PHONE))
    assert (again.skipped_filled, again.upstream_calls) == (500, 0)
    assert current_sim.stats()["calls"] == 500


async def test_personal_email_fills_its_own_columns(
    enricher: Enricher,
    gspread_client: SheetsClient,
    sheets_emulator: SheetsEmulator,
    current_sim: Simulator,
) -> None:
    """With consent, personal emails land in "Personal email" and its status, created only
    for a run that asks them; rows without LinkedIn say what to add."""
    people = [lead(i, "personal", linkedin=i % 2 == 0) for i in range(40)]
    sid = sheets_emulator.create_spreadsheet({"Leads": sheet_of(people)})

    summary = await SheetFiller(enricher, gspread_client).fill(FillRequest(sid, types=PERSONAL))

    grid = padded(sheets_emulator.cells(sid)["rows"], 9, 41)
    assert grid[0][4:] == [
        "Email",
        "Email status",
        "Personal email",
        "Personal email status",
        "Pronto status",
    ]
    for r, p in enumerate(people, start=1):
        want = expected_cells({k: p[k] for k in FIELDS}, PERSONAL)
        assert row_cells(grid, r, tuple(want)) == want, f"row {r + 1}"
    stats = current_sim.stats()
    assert stats["refused_without_linkedin"] == stats["consent_refusals"] == 0
    assert stats["by_type"]["personal_email"] == 20
    assert summary.found_by_type.get("personal_email", 0) == sum(
        1 for p in people if "Personal email" in expected_cells(dict(p), PERSONAL)
    )


async def test_without_consent_personal_emails_pause_and_one_call_a_minute_is_refused(
    gspread_client: SheetsClient, sheets_emulator: SheetsEmulator, current_sim: Simulator
) -> None:
    """Consent off: one refused call, the notice names Pronto's settings, emails still
    come, personal emails wait (not refused row by row); a run 59 s later sends no personal
    email; 61 s later, one probe, refused again."""
    current_sim.configure(personal_email_consent=False)
    clock = FakeClock()
    enricher = Enricher.from_settings(fast_settings(current_sim.url))
    enricher.consent = ConsentGate(60.0, clock=clock)
    people = [lead(i, "consent", linkedin=True) for i in range(60)]
    sid = sheets_emulator.create_spreadsheet({"Leads": sheet_of(people)})
    try:
        first = await SheetFiller(enricher, gspread_client).fill(FillRequest(sid, types=PERSONAL))
        refused_after_first = current_sim.stats()["consent_refusals"]
        clock.now += 59
        await SheetFiller(enricher, gspread_client).fill(FillRequest(sid, types=PERSONAL))
        refused_after_second = current_sim.stats()["consent_refusals"]
        clock.now += 2
        await SheetFiller(enricher, gspread_client).fill(FillRequest(sid, types=PERSONAL))
    finally:
        await enricher.aclose()

    assert (refused_after_first, refused_after_second) == (1, 1)
    assert current_sim.stats()["consent_refusals"] == 2
    assert "Pronto's account settings" in first.notices["personal_email_consent"]
    assert current_sim.stats()["by_type"]["email"] == 60  # emails went, once each
    grid = padded(sheets_emulator.cells(sid)["rows"], 9, 61)
    statuses = {
        row_cells(grid, r, ("Personal email status",))["Personal email status"]
        for r in range(1, 61)
    }
    assert statuses == {
        "paused: Personal emails are paused: accept personal email enrichment in your "
        "Pronto account settings."
    }


@pytest.mark.parametrize("form", ["402", "422", "200"])
async def test_each_out_of_credits_form_stops_the_day_at_once(
    form: str,
    gspread_client: SheetsClient,
    sheets_emulator: SheetsEmulator,
    current_sim: Simulator,
) -> None:
    """Pronto runs out of credits mid-fill (402, 422, or a 200 "error"): at most 5 calls
    after the first refusal (those already in flight), the remaining rows over_budget,
    none written as "not found", and a later run fills them."""
    current_sim.configure(daily_credits=60, out_of_credits_form=form, max_open=5, latency_ms=5)
    enricher = Enricher.from_settings(fast_settings(current_sim.url, max_in_flight=5))
    people = [lead(i, f"credits{form}", linkedin=False) for i in range(200)]
    sid = sheets_emulator.create_spreadsheet({"Leads": sheet_of(people)})
    try:
        summary = await SheetFiller(enricher, gspread_client).fill(FillRequest(sid))
    finally:
        await enricher.aclose()

    stats = current_sim.stats()
    assert stats["out_of_credits_refusals"] >= 1
    assert stats["calls_after_out_of_credits"] <= 5
    assert summary.over_budget > 100
    assert "over_budget" in summary.notices
    grid = padded(sheets_emulator.cells(sid)["rows"], 7, 201)
    over = [r for r in range(1, 201) if grid[r][6].startswith("over_budget: ")]
    assert len(over) == summary.over_budget
    for r in over:
        assert grid[r][4] == ""  # no email invented, no "not found" recorded
        assert grid[r][5].startswith("over_budget: ")
