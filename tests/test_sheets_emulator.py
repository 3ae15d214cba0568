"""The Sheets API emulator driven through real gspread (and raw HTTP where the exact body
matters): answer shapes, RAW vs USER_ENTERED, A1 ranges, Google's errors, quotas, faults,
counters, Drive calls and big sheets."""

from __future__ import annotations

from typing import TYPE_CHECKING

import gspread
import httpx
import pytest
from gspread.utils import ValueInputOption, ValueRenderOption

from pronto_sheets.errors import SheetsError, SpreadsheetNotFound

if TYPE_CHECKING:
    from tests.sheets_fixtures import SheetsEmulator

# The emulator fixtures (one served process per session), whether or not conftest imports them.

HYPERLINK = '=HYPERLINK("http://x","y")'


def _get(emulator: SheetsEmulator, path: str, **params: str) -> httpx.Response:
    return emulator.http.get(path, params=params)


def test_values_are_trimmed_like_googles(
    sheets_emulator: SheetsEmulator, emulated_gspread: gspread.Client
) -> None:
    """Trailing empty cells and rows are cut, an empty row inside the range is `[]`."""
    book = sheets_emulator.create_spreadsheet({"Sheet1": [["a", "b", ""], [], ["", "c"], [""]]})
    answer = emulated_gspread.open_by_key(book).values_get("Sheet1!A1:D4")
    assert answer == {
        "range": "Sheet1!A1:D4",
        "majorDimension": "ROWS",
        "values": [["a", "b"], [], ["", "c"]],
    }


def test_an_empty_range_has_no_values_key(
    sheets_emulator: SheetsEmulator, emulated_gspread: gspread.Client
) -> None:
    """Reading cells that hold nothing answers without a `values` key at all."""
    book = sheets_emulator.create_spreadsheet({"Sheet1": [["a"]]})
    answer = emulated_gspread.open_by_key(book).values_get("Sheet1!C3:D9")
    assert answer == {"range": "Sheet1!C3:D9", "majorDimension": "ROWS"}


def test_unbounded_and_partial_ranges_echo_the_grid_edge(
    sheets_emulator: SheetsEmulator, emulated_gspread: gspread.Client
) -> None:
    """`A:C`, `A2:C`, `2:3`, a bare title and a title-less range resolve as Google's do."""
    rows = [["h1", "h2", "h3", "h4"], ["a", "b", "c", "d"], ["e", "f", "g", "h"]]
    book = sheets_emulator.create_spreadsheet({"Sheet1": rows, "Other": [["x"]]})
    sheet = emulated_gspread.open_by_key(book)
    assert sheet.values_get("Sheet1!A:C")["range"] == "Sheet1!A1:C1000"
    assert sheet.values_get("Sheet1!A2:C")["values"] == [["a", "b", "c"], ["e", "f", "g"]]
    assert sheet.values_get("Sheet1!2:3")["range"] == "Sheet1!A2:Z3"
    assert sheet.values_get("Other") == {
        "range": "Other!A1:Z1000",
        "majorDimension": "ROWS",
        "values": [["x"]],
    }
    assert sheet.values_get("B2:C3")["range"] == "Sheet1!B2:C3"
    assert sheet.values_get("Sheet1!D3:B2")["values"] == [["b", "c", "d"], ["f", "g", "h"]]
    columns = sheet.values_get("Sheet1!A1:B3", params={"majorDimension": "COLUMNS"})
    assert columns["values"] == [["h1", "a", "e"], ["h2", "b", "f"]]


def test_quoted_sheet_names_are_read_written_and_echoed(
    sheets_emulator: SheetsEmulator, emulated_gspread: gspread.Client
) -> None:
    """Titles with spaces, apostrophes or a cell-like name are quoted as Google quotes them."""
    book = sheets_emulator.create_spreadsheet({"Leads Q3 'west'": [["Prénom"]], "D3": [["z"]]})
    sheet = emulated_gspread.open_by_key(book)
    worksheet = sheet.worksheet("Leads Q3 'west'")
    answer = worksheet.update([["Ada", "Lovelace"]], "A2")
    assert answer["updatedRange"] == "'Leads Q3 ''west'''!A2:B2"
    assert worksheet.get_all_values() == [["Prénom", ""], ["Ada", "Lovelace"]]
    assert sheet.values_get("'Leads Q3 ''west'''!A:B")["range"] == "'Leads Q3 ''west'''!A1:B1000"
    assert sheet.values_get("'D3'!A1")["range"] == "'D3'!A1"


def test_raw_keeps_a_formula_as_text_and_user_entered_makes_it_a_formula(
    sheets_emulator: SheetsEmulator, emulated_gspread: gspread.Client
) -> None:
    """`=HYPERLINK(...)` written RAW is stored as text; written USER_ENTERED it is a formula."""
    book = sheets_emulator.create_spreadsheet({"Sheet1": []})
    worksheet = emulated_gspread.open_by_key(book).sheet1
    worksheet.update([[HYPERLINK]], "A1", value_input_option=ValueInputOption.raw)
    worksheet.update([[HYPERLINK]], "B1", value_input_option=ValueInputOption.user_entered)
    assert worksheet.get("A1:B1") == [[HYPERLINK, "y"]]
    assert worksheet.get("A1:B1", value_render_option=ValueRenderOption.formula) == [
        [HYPERLINK, HYPERLINK]
    ]
    cells = sheets_emulator.cells(book)
    assert cells["formulas"] == ["B1"]
    assert cells["formatted"] == [[HYPERLINK, "y"]]


def test_user_entered_parses_numbers_where_raw_keeps_the_text(
    sheets_emulator: SheetsEmulator, emulated_gspread: gspread.Client
) -> None:
    """A phone number and a zero-padded code stay text under RAW but become numbers typed."""
    book = sheets_emulator.create_spreadsheet({"Sheet1": []})
    worksheet = emulated_gspread.open_by_key(book).sheet1
    values = [["+33612345678", "0042", "2,000.25", "12%", "2020-01-31", "TRUE"]]
    worksheet.update(values, "A1", value_input_option=ValueInputOption.raw)
    worksheet.update(values, "A2", value_input_option=ValueInputOption.user_entered)
    unformatted = worksheet.get("A1:F2", value_render_option=ValueRenderOption.unformatted)
    assert unformatted == [values[0], [33612345678, 42, 2000.25, 0.12, 43861, True]]
    assert worksheet.get("A2:F2") == [
        ["33612345678", "42", "2,000.25", "12%", "2020-01-31", "TRUE"]
    ]


def test_formulas_are_evaluated_on_read(
    sheets_emulator: SheetsEmulator, emulated_gspread: gspread.Client
) -> None:
    """Arithmetic, references and errors show what Sheets would show."""
    book = sheets_emulator.create_spreadsheet(
        {"Sheet1": [["2", "3", "=A1*B1+1", "=1/0", '=CONCATENATE("a", A1)', "=NOPE(1)"]]}
    )
    worksheet = emulated_gspread.open_by_key(book).sheet1
    assert worksheet.get("A1:F1") == [["2", "3", "7", "#DIV/0!", "a2", "#NAME?"]]


def test_append_writes_below_the_table_and_grows_the_sheet(
    sheets_emulator: SheetsEmulator, emulated_gspread: gspread.Client
) -> None:
    """Appended rows land after the last row of the table, even past the grid's edge."""
    book = sheets_emulator.create_spreadsheet(
        {"Sheet1": [["name", "email"], ["ada", "ada@x.io"]]}, sizes={"Sheet1": (2, 2)}
    )
    worksheet = emulated_gspread.open_by_key(book).sheet1
    answer = worksheet.append_rows([["bob", "bob@x.io"], ["cy", "cy@x.io"]])
    assert answer["tableRange"] == "Sheet1!A1:B2"
    assert answer["updates"]["updatedRange"] == "Sheet1!A3:B4"
    assert sheets_emulator.cells(book)["rowCount"] == 4
    assert worksheet.get_all_values()[-1] == ["cy", "cy@x.io"]


def test_batch_get_and_batch_update_keep_request_order(
    sheets_emulator: SheetsEmulator, emulated_gspread: gspread.Client
) -> None:
    """One values:batchUpdate writes every range; values:batchGet answers in request order."""
    book = sheets_emulator.create_spreadsheet({"Sheet1": [["a"]]})
    worksheet = emulated_gspread.open_by_key(book).sheet1
    answer = worksheet.batch_update(
        [{"range": "C3", "values": [["x"]]}, {"range": "A5:B5", "values": [["y", "z"]]}]
    )
    assert {
        k: answer[k] for k in ("totalUpdatedCells", "totalUpdatedRows", "totalUpdatedSheets")
    } == {
        "totalUpdatedCells": 3,
        "totalUpdatedRows": 2,
        "totalUpdatedSheets": 1,
    }
    assert worksheet.batch_get(["A5:B5", "C3", "A1"]) == [[["y", "z"]], [["x"]], [["a"]]]


def test_a_batch_with_one_bad_range_writes_nothing(
    sheets_emulator: SheetsEmulator, emulated_gspread: gspread.Client
) -> None:
    """values:batchUpdate is atomic: a bad range refuses the whole batch."""
    book = sheets_emulator.create_spreadsheet({"Sheet1": [["keep"]]})
    data = [{"range": "A1", "values": [["lost"]]}, {"range": "Nope!A1", "values": [["x"]]}]
    with pytest.raises(SheetsError) as refused:
        emulated_gspread.open_by_key(book).values_batch_update(
            {"valueInputOption": "RAW", "data": data}
        )
    assert refused.value.status == 400
    assert "Unable to parse range: Nope!A1" in str(refused.value)
    assert sheets_emulator.cells(book)["rows"] == [["keep"]]


def test_bad_and_out_of_grid_ranges_get_googles_400(sheets_emulator: SheetsEmulator) -> None:
    """Unparsable ranges and ranges past the grid answer Google's exact error bodies."""
    book = sheets_emulator.create_spreadsheet({"Sheet1": []})
    bad = _get(sheets_emulator, f"/v4/spreadsheets/{book}/values/Sheet1!A1:B2:C3")
    assert (bad.status_code, bad.json()) == (
        400,
        {
            "error": {
                "code": 400,
                "message": "Unable to parse range: Sheet1!A1:B2:C3",
                "status": "INVALID_ARGUMENT",
            }
        },
    )
    past = _get(sheets_emulator, f"/v4/spreadsheets/{book}/values/Sheet1!A999:A1001")
    assert past.status_code == 400
    assert past.json()["error"]["message"] == (
        "Range (Sheet1!A1001) exceeds grid limits. Max rows: 1000, max columns: 26"
    )


def test_unknown_and_unshared_spreadsheets_get_404_and_403(sheets_emulator: SheetsEmulator) -> None:
    """A wrong id is NOT_FOUND; a spreadsheet not shared is PERMISSION_DENIED (Drive hides it)."""
    missing = _get(sheets_emulator, "/v4/spreadsheets/no-such-id", includeGridData="false")
    assert (missing.status_code, missing.json()) == (
        404,
        {
            "error": {
                "code": 404,
                "message": "Requested entity was not found.",
                "status": "NOT_FOUND",
            }
        },
    )
    book = sheets_emulator.create_spreadsheet({"Sheet1": [["a"]]})
    sheets_emulator.set_shared(book, False)
    denied = _get(sheets_emulator, f"/v4/spreadsheets/{book}/values/A1")
    assert (denied.status_code, denied.json()) == (
        403,
        {
            "error": {
                "code": 403,
                "message": "The caller does not have permission",
                "status": "PERMISSION_DENIED",
            }
        },
    )
    assert _get(sheets_emulator, f"/drive/v3/files/{book}").status_code == 404


def test_per_minute_quotas_answer_429_with_googles_body(sheets_emulator: SheetsEmulator) -> None:
    """Past the reads-per-minute quota reads get RESOURCE_EXHAUSTED while writes still pass."""
    book = sheets_emulator.create_spreadsheet({"Sheet1": [["a"]]})
    sheets_emulator.set_quota(reads_per_minute=2)
    path = f"/v4/spreadsheets/{book}/values/A1"
    assert [_get(sheets_emulator, path).status_code for _ in range(3)] == [200, 200, 429]
    refused = _get(sheets_emulator, path).json()["error"]
    assert refused["status"] == "RESOURCE_EXHAUSTED"
    assert refused["message"].startswith(
        "Quota exceeded for quota metric 'Read requests' and limit "
        "'Read requests per minute per user' of service 'sheets.googleapis.com'"
    )
    assert refused["details"][0]["reason"] == "RATE_LIMIT_EXCEEDED"
    write = sheets_emulator.http.put(
        path, params={"valueInputOption": "RAW"}, json={"values": [["b"]]}
    )
    assert write.status_code == 200
    assert sheets_emulator.counters()["by_status"] == {"200": 3, "429": 2}


def test_forced_faults_answer_the_next_requests_then_stop(sheets_emulator: SheetsEmulator) -> None:
    """A forced 503 with Retry-After answers the next request only, with Google's body."""
    book = sheets_emulator.create_spreadsheet({"Sheet1": [["a"]]})
    sheets_emulator.force_faults(1, 503, retry_after="2")
    path = f"/v4/spreadsheets/{book}/values/A1"
    first, second = _get(sheets_emulator, path), _get(sheets_emulator, path)
    assert (first.status_code, first.headers["retry-after"]) == (503, "2")
    assert first.json()["error"] == {
        "code": 503,
        "message": "The service is currently unavailable.",
        "status": "UNAVAILABLE",
    }
    assert second.json()["values"] == [["a"]]


def test_counters_tell_reads_writes_and_methods_apart(
    sheets_emulator: SheetsEmulator, emulated_gspread: gspread.Client
) -> None:
    """Each request is counted once as a read, a write or a Drive call, and by method."""
    book = sheets_emulator.create_spreadsheet({"Sheet1": [["a"]]})
    worksheet = emulated_gspread.open_by_key(book).sheet1  # two spreadsheets.get in gspread
    worksheet.get_all_values()
    worksheet.update([["b"]], "B1")
    worksheet.batch_update([{"range": "C1", "values": [["c"]]}])
    emulated_gspread.list_spreadsheet_files()
    assert sheets_emulator.counters() == {
        "reads": 3,
        "writes": 2,
        "drive": 1,
        "total": 6,
        "by_method": {
            "spreadsheets.get": 2,
            "spreadsheets.values.get": 1,
            "spreadsheets.values.update": 1,
            "spreadsheets.values.batchUpdate": 1,
            "drive.files.list": 1,
        },
        "by_status": {"200": 6},
    }
    assert [r["method"] for r in sheets_emulator.requests()][-2:] == [
        "spreadsheets.values.batchUpdate",
        "drive.files.list",
    ]


def test_gspread_creates_opens_and_deletes_through_drive(emulated_gspread: gspread.Client) -> None:
    """create, open by title, add a worksheet and del_spreadsheet work as on Google."""
    created = emulated_gspread.create("Prospects")
    assert emulated_gspread.open("Prospects").id == created.id
    created.add_worksheet("Extra", rows=10, cols=5)
    assert [w.title for w in emulated_gspread.open_by_key(created.id).worksheets()] == [
        "Sheet1",
        "Extra",
    ]
    emulated_gspread.del_spreadsheet(created.id)
    with pytest.raises(SpreadsheetNotFound):
        emulated_gspread.open_by_key(created.id)


def test_a_2000_row_sheet_reads_back_whole_and_takes_200_row_writes(
    sheets_emulator: SheetsEmulator, emulated_gspread: gspread.Client
) -> None:
    """2,000 × 12 reads back in one request; a 200-range batch write lands in its rows."""
    rows = [[f"r{r}c{c}" for c in range(12)] for r in range(2000)]
    book = sheets_emulator.create_spreadsheet({"Sheet1": rows}, value_input="RAW")
    worksheet = emulated_gspread.open_by_key(book).sheet1
    values = worksheet.get_all_values()
    assert (len(values), values[1999][11]) == (2000, "r1999c11")
    data = [{"range": f"M{r}", "values": [[f"=x{r}"]]} for r in range(1001, 1201)]
    worksheet.batch_update(data)
    cells = sheets_emulator.cells(book)
    assert cells["rows"][1199][12] == "=x1200"
    assert cells["formulas"] == []
    assert sheets_emulator.counters()["writes"] == 1


def test_bodies_over_ten_megabytes_are_refused(sheets_emulator: SheetsEmulator) -> None:
    """A body over Google's 10 MB limit answers 400 with the limit in the message."""
    book = sheets_emulator.create_spreadsheet({"Sheet1": []})
    big = b'{"values": [["' + b"x" * (10 * 1024 * 1024) + b'"]]}'
    answer = sheets_emulator.http.put(
        f"/v4/spreadsheets/{book}/values/A1", params={"valueInputOption": "RAW"}, content=big
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == (
        "Request payload size exceeds the limit: 10485760 bytes."
    )
