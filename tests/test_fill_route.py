"""POST /fill end to end: the function served by functions-framework, pointed at the Pronto
simulator and at the Sheets API emulator through SHEETS_API_BASE_URL (no Google login)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pronto_sheets.enrich.contacts import EnrichmentTypes
from pronto_sheets.errors import MalformedRequest
from pronto_sheets.http.fill_route import parse_fill_request
from tests.conftest import LOG_DIR
from tests.sheets_fixtures import SheetsEmulator
from tests.support.servers import ServedProcess
from tests.support.stack import Function, Simulator, run_function
from tests.test_sheet_filler import expected_cells, padded, person, row_cells

# The emulator's fixtures (until conftest.py imports them for every module).

SERVICE_ACCOUNT = "pronto-fill@demo-project.iam.gserviceaccount.com"


def write_service_account_key(path: Path, email: str) -> Path:
    """A well-formed service-account key file (its own RSA key; never sent anywhere)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "demo-project",
                "private_key_id": "k1",
                "private_key": pem,
                "client_email": email,
                "client_id": "1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        ),
        encoding="utf-8",
    )
    return path


def serve_fill_function(
    simulator: Simulator,
    sheets_emulator_process: ServedProcess,
    tmp_path_factory: pytest.TempPathFactory,
    env: dict[str, str] | None = None,
) -> Iterator[Function]:
    """The function with SHEETS_API_BASE_URL set; its key file only names the account."""
    key = write_service_account_key(tmp_path_factory.mktemp("keys") / "sa.json", SERVICE_ACCOUNT)
    full_env = {
        "SHEETS_API_BASE_URL": sheets_emulator_process.base_url,
        "GOOGLE_APPLICATION_CREDENTIALS": str(key),
        **(env or {}),
    }
    with run_function(LOG_DIR, simulator.url, full_env) as served:
        yield served


@pytest.fixture(scope="module")
def fill_function(
    simulator: Simulator,
    sheets_emulator_process: ServedProcess,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Function]:
    yield from serve_fill_function(simulator, sheets_emulator_process, tmp_path_factory)


def post_fill(function: Function, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
    with function.client(**kwargs) as http:
        return http.post("/fill", json=body)


def contacts_sheet(tag: str, count: int) -> tuple[list[list[Any]], list[dict[str, str]]]:
    people = [person(i, tag) for i in range(count)]
    rows: list[list[Any]] = [["First name", "Last name", "Website", "Email"]]
    rows += [[p["firstname"], p["lastname"], p["domain"]] for p in people]
    return rows, people


def test_fill_requires_credentials(
    fill_function: Function, sheets_emulator: SheetsEmulator
) -> None:
    """Without a token POST /fill is refused with 401 and Google is never called."""
    response = httpx.post(f"{fill_function.url}/fill", json={"spreadsheet_id": "x" * 44})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert sheets_emulator.counters()["total"] == 0


def test_a_malformed_id_is_refused_before_any_call(
    fill_function: Function, sheets_emulator: SheetsEmulator
) -> None:
    """A malformed id gets a 400 that says what an id looks like; Google is not called."""
    response = post_fill(fill_function, {"spreadsheet_id": "my sheet"})
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid_spreadsheet_id",
            "message": '"my sheet" is not a spreadsheet id. A spreadsheet id is the long code '
            "in the sheet's address, between /d/ and /edit: "
            "https://docs.google.com/spreadsheets/d/<id>/edit (about 44 letters, digits, "
            "- and _).",
        }
    }
    assert sheets_emulator.counters()["total"] == 0


def test_an_unshared_sheet_names_the_service_account(
    fill_function: Function, sheets_emulator: SheetsEmulator, sim: Simulator
) -> None:
    """403 sheet_not_shared tells the person which account to share the sheet with."""
    rows, _ = contacts_sheet("unshared", 3)
    sid = sheets_emulator.create_spreadsheet({"Sheet1": rows})
    sheets_emulator.set_shared(sid, False)
    response = post_fill(fill_function, {"spreadsheet_id": sid})
    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "sheet_not_shared",
            "message": f"Share the spreadsheet with {SERVICE_ACCOUNT} as an editor (Share "
            "button, top right), then run the fill again.",
        }
    }
    assert sim.stats()["calls"] == 0


def test_a_wrong_id_says_the_spreadsheet_was_not_found(
    fill_function: Function, sheets_emulator: SheetsEmulator
) -> None:
    """A well-formed id naming no spreadsheet gets 404 spreadsheet_not_found."""
    response = post_fill(fill_function, {"spreadsheet_id": "1" + "a" * 43})
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "spreadsheet_not_found",
        "message": "The spreadsheet was not found: check the id in its URL (the part between "
        "/d/ and /edit) and that it was not deleted.",
    }


def test_a_missing_tab_is_a_404_naming_the_tabs(
    fill_function: Function, sheets_emulator: SheetsEmulator
) -> None:
    """A "sheet" that is not a tab of the spreadsheet lists the tabs it has."""
    sid = sheets_emulator.create_spreadsheet({"Leads": [["First name"]]})
    response = post_fill(fill_function, {"spreadsheet_id": sid, "sheet": "Prospects"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "sheet_not_found"
    assert response.json()["error"]["message"].startswith(
        'There is no sheet named "Prospects" in this spreadsheet. Its sheets are: "Leads".'
    )


def test_an_unmappable_sheet_is_a_400_listing_its_headers(
    fill_function: Function, sheets_emulator: SheetsEmulator
) -> None:
    """A sheet without name columns gets 400 unmappable_sheet with the headers found."""
    sid = sheets_emulator.create_spreadsheet({"Sheet1": [["Ville", "Budget"], ["Paris", 1]]})
    response = post_fill(fill_function, {"spreadsheet_id": sid})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "unmappable_sheet"
    assert 'Headers found: "Ville", "Budget".' in error["message"]
    assert sheets_emulator.counters()["writes"] == 0


def test_dry_run_plans_then_the_real_run_does_what_the_plan_said(
    fill_function: Function, sheets_emulator: SheetsEmulator, sim: Simulator
) -> None:
    """The dry run's counts and calls are those of the real run; every row gets its value."""
    rows, people = contacts_sheet("plan", 30)
    rows += [[p["firstname"].upper(), p["lastname"], p["domain"]] for p in people[:4]]
    rows += [["Solo", "", "x.example"], ["Kept", "Row", "k.example", "kept@k.example"]]
    sid = sheets_emulator.create_spreadsheet({"Sheet1": rows})
    before = sheets_emulator.cells(sid)["rows"]
    url = f"https://docs.google.com/spreadsheets/d/{sid}/edit#gid=0"

    plan = post_fill(fill_function, {"spreadsheet_id": url, "dry_run": True})

    assert plan.status_code == 200, plan.text
    body = plan.json()
    assert {k: body[k] for k in ("rows", "to_enrich", "skipped_filled", "duplicates")} == {
        "rows": 36,
        "to_enrich": 35,
        "skipped_filled": 1,
        "duplicates": 4,
    }
    assert (body["invalid"], body["to_call"], body["estimated_credits"]) == (1, 30, 90)
    assert body["dry_run"] is True
    assert sim.stats()["calls"] == 0
    assert sheets_emulator.cells(sid)["rows"] == before

    real = post_fill(fill_function, {"spreadsheet_id": sid, "enrichment_type": ["email"]})

    assert real.status_code == 200, real.text
    done = real.json()
    stats = sim.stats()
    assert done["upstream_calls"] == body["to_call"] == stats["served"] == 30
    assert set(stats["by_contact"].values()) == {1}
    assert (done["to_enrich"], done["duplicates"], done["invalid"]) == (35, 4, 1)
    assert done["enriched"] == 34
    assert done["found"] + done["not_found"] == 34
    assert done["credits"] <= body["estimated_credits"]
    assert 1 <= done["sheets_writes"] <= 2
    assert done["sheets_reads"] == 2 + done["sheets_writes"]  # the data, then a check per write
    grid = padded(sheets_emulator.cells(sid)["rows"], 6, 37)
    assert grid[0] == [
        "First name",
        "Last name",
        "Website",
        "Email",
        "Email status",
        "Pronto status",
    ]
    for r, p in enumerate(people, start=1):
        fields = {k: p[k] for k in ("firstname", "lastname", "domain")}
        want = expected_cells(fields, EnrichmentTypes())
        assert row_cells(grid, r, tuple(want)) == want
        if r <= 4:  # the duplicate rows, paid once, hold the same values
            assert row_cells(grid, 30 + r, tuple(want)) == want
    assert grid[35][5] == "invalid: Add the last name to this row."
    assert grid[36] == ["Kept", "Row", "k.example", "kept@k.example", "", ""]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, '"spreadsheet_id" is required.'),
        ({"spreadsheet_id": "1" * 44, "dryrun": True}, "Unknown field(s): dryrun."),
        ({"spreadsheet_id": "1" * 44, "dry_run": "yes"}, '"dry_run" must be true or false.'),
        ({"spreadsheet_id": "1" * 44, "max_rows": 0}, '"max_rows" must be a whole number'),
        ({"spreadsheet_id": "1" * 44, "enrichment_type": ["fax"]}, "enrichment_type can only"),
        ({"spreadsheet_id": "1" * 44, "columns": ["A"]}, '"columns" must map fields'),
        ({"spreadsheet_id": "1" * 44, "sheet": ""}, '"sheet" must be the name of a tab'),
    ],
)
def test_malformed_bodies_are_refused_with_the_field_named(
    body: dict[str, Any], message: str
) -> None:
    """Each malformed field gets a 400 whose message names it and what it should be."""
    with pytest.raises(MalformedRequest) as caught:
        parse_fill_request(body)
    assert caught.value.message.startswith(message)


def test_fill_row_range_is_checked_before_any_call_to_google() -> None:
    """first_row/last_row must be row numbers, top to bottom; the refusal names the field."""
    parsed = parse_fill_request({"spreadsheet_id": "1" * 44, "first_row": 5, "last_row": 9})
    assert (parsed.first_row, parsed.last_row) == (5, 9)
    with pytest.raises(MalformedRequest, match='"last_row" \\(3\\) is above "first_row" \\(5\\)'):
        parse_fill_request({"spreadsheet_id": "1" * 44, "first_row": 5, "last_row": 3})
    with pytest.raises(MalformedRequest, match='"first_row" must be a row number'):
        parse_fill_request({"spreadsheet_id": "1" * 44, "first_row": 0})
