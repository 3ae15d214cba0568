"""POST /fill: fill a whole sheet from the function, and say plainly why when it cannot.

Body: `{"spreadsheet_id", "sheet"?, "enrichment_type"?, "overwrite"?, "dry_run"?,
"max_rows"?, "columns"?, "first_row"?, "last_row"?, "deadline_s"?, "header_row"?}`. The id (or the
spreadsheet's URL) is checked before any call to Google. Answer: the run's summary
(`FillSummary.to_json`). Refusals are the errors of errors.py, each with its sentence
(routes.py gives their statuses): a malformed field (400 `invalid_field`,
`invalid_spreadsheet_id`, `unmappable_sheet`), a sheet not shared with the service
account (403 `sheet_not_shared`, naming the account), a spreadsheet or tab not found
(404), Google failing after retries (502 `sheets_quota`, `sheets_unavailable`,
`sheet_write_failed`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pronto_sheets.enrich.async_lane import AsyncLane
from pronto_sheets.enrich.contacts import EnrichmentTypes
from pronto_sheets.enrich.engine import Enricher
from pronto_sheets.errors import MalformedRequest
from pronto_sheets.settings import Settings
from pronto_sheets.sheets.client import open_gspread_client, run_blocking
from pronto_sheets.sheets.filler import FillRequest, SheetFiller

# A Cloud Function may run an hour: stop enriching in time to write what was found. A
# caller with a shorter deadline says so (Cloud Scheduler gives up after 1,800 s at most).
FUNCTION_DEADLINE_S = 50 * 60
MAX_ROWS_LIMIT = 10_000_000

_ID = re.compile(r"^[A-Za-z0-9_-]{20,128}$")
_ID_IN_URL = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]+)")
_FIELDS = (
    "spreadsheet_id",
    "sheet",
    "enrichment_type",
    "overwrite",
    "dry_run",
    "max_rows",
    "first_row",
    "last_row",
    "deadline_s",
    "header_row",
)
_KNOWN_FIELDS = frozenset((*_FIELDS, "columns"))
ID_HELP = (
    "A spreadsheet id is the long code in the sheet's address, between /d/ and /edit: "
    "https://docs.google.com/spreadsheets/d/<id>/edit (about 44 letters, digits, - and _)."
)


def parse_spreadsheet_id(raw: object) -> str:
    """The spreadsheet id from an id or a pasted URL; `MalformedRequest` explains the shape."""
    if not isinstance(raw, str) or not raw.strip():
        raise MalformedRequest(
            f'"spreadsheet_id" is required. {ID_HELP}', code="invalid_spreadsheet_id"
        )
    text = raw.strip()
    in_url = _ID_IN_URL.search(text)
    if in_url:
        text = in_url.group(1)
    if not _ID.match(text):
        raise MalformedRequest(
            f'"{raw[:60]}" is not a spreadsheet id. {ID_HELP}', code="invalid_spreadsheet_id"
        )
    return text


def _flag(body: Mapping[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise MalformedRequest(f'"{name}" must be true or false.', code="invalid_field")
    return value


def _row_number(body: Mapping[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ROWS_LIMIT:
        raise MalformedRequest(
            f'"{name}" must be a row number as the sheet shows it (1 is the top row).',
            code="invalid_field",
        )
    return value


def parse_fill_request(body: Mapping[str, Any]) -> FillRequest:
    """Validate a POST /fill body; every refusal names the field and what it should be."""
    unknown = sorted(set(body) - _KNOWN_FIELDS)
    if unknown:
        raise MalformedRequest(
            f"Unknown field(s): {', '.join(unknown)}. POST /fill accepts "
            f"{', '.join(sorted(_KNOWN_FIELDS))}.",
            code="invalid_field",
        )
    # Field by field, in this order: a body with several mistakes hears of the first.
    spreadsheet_id = parse_spreadsheet_id(body.get("spreadsheet_id"))
    sheet = _sheet_name(body)
    types = EnrichmentTypes.parse(body.get("enrichment_type"))
    max_rows = _max_rows(body)
    first_row, last_row = _row_number(body, "first_row"), _row_number(body, "last_row")
    header_row = _row_number(body, "header_row")
    _check_row_order(first_row, last_row)
    columns = _columns(body)
    deadline_s = _deadline_s(body)
    return FillRequest(
        spreadsheet_id=spreadsheet_id,
        sheet=sheet,
        types=types,
        overwrite=_flag(body, "overwrite"),
        dry_run=_flag(body, "dry_run"),
        max_rows=max_rows,
        columns=columns,
        first_row=first_row,
        last_row=last_row,
        deadline_s=float(deadline_s) if deadline_s is not None else None,
        header_row=header_row,
    )


def _sheet_name(body: Mapping[str, Any]) -> str | None:
    sheet = body.get("sheet")
    if sheet is not None and (not isinstance(sheet, str) or not sheet.strip()):
        raise MalformedRequest(
            '"sheet" must be the name of a tab, like "Leads"; leave it out for the first tab.',
            code="invalid_field",
        )
    return sheet.strip() if isinstance(sheet, str) else None


def _max_rows(body: Mapping[str, Any]) -> int | None:
    max_rows = body.get("max_rows")
    if max_rows is not None and (
        isinstance(max_rows, bool)
        or not isinstance(max_rows, int)
        or not 1 <= max_rows <= MAX_ROWS_LIMIT
    ):
        raise MalformedRequest(
            '"max_rows" must be a whole number of rows, at least 1.', code="invalid_field"
        )
    return max_rows


def _check_row_order(first_row: int | None, last_row: int | None) -> None:
    if first_row is not None and last_row is not None and last_row < first_row:
        raise MalformedRequest(
            f'"last_row" ({last_row}) is above "first_row" ({first_row}): give the rows top '
            "to bottom.",
            code="invalid_field",
        )


def _columns(body: Mapping[str, Any]) -> dict[str, str] | None:
    columns = body.get("columns")
    if columns is not None and (
        not isinstance(columns, dict)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in columns.items())
    ):
        raise MalformedRequest(
            '"columns" must map fields to header texts or column letters, like '
            '{"firstname": "Prénom", "domain": "D"}.',
            code="invalid_field",
        )
    return columns


def _deadline_s(body: Mapping[str, Any]) -> int | float | None:
    deadline_s = body.get("deadline_s")
    if deadline_s is not None and (
        isinstance(deadline_s, bool)
        or not isinstance(deadline_s, int | float)
        or not 10 <= deadline_s <= FUNCTION_DEADLINE_S
    ):
        raise MalformedRequest(
            f'"deadline_s" must be the seconds the caller waits for the answer, between 10 '
            f"and {FUNCTION_DEADLINE_S}; the fill stops in time to answer before it.",
            code="invalid_field",
        )
    return deadline_s


async def handle_fill(
    body: dict[str, Any],
    *,
    enricher: Enricher,
    settings: Settings,
    lane: AsyncLane | None = None,
) -> dict[str, Any]:
    """Validate, fill the sheet at background priority, and return the run's summary."""
    request = parse_fill_request(body)
    client = await run_blocking(
        open_gspread_client,
        sheets_api_base_url=settings.sheets_api_base_url,
        # With the emulator (or before Google credentials are refreshed) the account to
        # share with is only known from the key file Google's libraries use.
        key_file_hint=settings.google_application_credentials,
    )
    filler = SheetFiller(enricher, client, deadline_s=FUNCTION_DEADLINE_S, lane=lane)
    summary = await filler.fill(request)
    return summary.to_json()
