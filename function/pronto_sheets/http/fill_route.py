"""POST /fill: fill a whole sheet from the function, and say plainly why when it cannot.

Body: `{"spreadsheet_id", "sheet"?, "enrichment_type"?, "overwrite"?, "dry_run"?,
"max_rows"?, "columns"?, "first_row"?, "last_row"?}`. The id (or the spreadsheet's URL)
is checked before any call to Google. Answer: the run's summary (`FillSummary.to_json`).
Refusals, each raised as an `ApiError` (routes.py renders them):

- 400 `invalid_field` / `invalid_spreadsheet_id` / `unmappable_sheet`
- 403 `sheet_not_shared`   "Share the spreadsheet with <service account> as an editor"
- 404 `spreadsheet_not_found` / `sheet_not_found`
- 502 `sheets_quota` / `sheets_unavailable` / `sheet_write_failed` (after retries)
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pronto_sheets.enrich.contacts import ContactError, EnrichmentTypes
from pronto_sheets.enrich.engine import Enricher
from pronto_sheets.errors import ApiError, BadRequest, Forbidden, NotFound, UpstreamError
from pronto_sheets.settings import Settings
from pronto_sheets.sheets.client import (
    SheetsClient,
    SheetsError,
    SheetsQuotaExhausted,
    SheetsUnavailable,
    SpreadsheetNotFound,
    SpreadsheetPermissionDenied,
    open_gspread_client,
)
from pronto_sheets.sheets.filler import (
    FillRequest,
    SheetFiller,
    SheetUnmappable,
    SheetWriteFailed,
    WorksheetNotFound,
)

# A Cloud Function may run an hour: stop enriching in time to write what was found.
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
)
_KNOWN_FIELDS = frozenset((*_FIELDS, "columns"))
ID_HELP = (
    "A spreadsheet id is the long code in the sheet's address, between /d/ and /edit: "
    "https://docs.google.com/spreadsheets/d/<id>/edit (about 44 letters, digits, - and _)."
)


def parse_spreadsheet_id(raw: object) -> str:
    """The spreadsheet id from an id or a pasted URL; `BadRequest` explains the shape."""
    if not isinstance(raw, str) or not raw.strip():
        raise BadRequest(f'"spreadsheet_id" is required. {ID_HELP}', code="invalid_spreadsheet_id")
    text = raw.strip()
    in_url = _ID_IN_URL.search(text)
    if in_url:
        text = in_url.group(1)
    if not _ID.match(text):
        raise BadRequest(
            f'"{raw[:60]}" is not a spreadsheet id. {ID_HELP}', code="invalid_spreadsheet_id"
        )
    return text


def _flag(body: Mapping[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise BadRequest(f'"{name}" must be true or false.', code="invalid_field")
    return value


def _row_number(body: Mapping[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ROWS_LIMIT:
        raise BadRequest(
            f'"{name}" must be a row number as the sheet shows it (1 is the top row).',
            code="invalid_field",
        )
    return value


def parse_fill_request(body: Mapping[str, Any]) -> FillRequest:
    """Validate a POST /fill body; every refusal names the field and what it should be."""
    unknown = sorted(set(body) - _KNOWN_FIELDS)
    if unknown:
        raise BadRequest(
            f"Unknown field(s): {', '.join(unknown)}. POST /fill accepts "
            f"{', '.join(sorted(_KNOWN_FIELDS))}.",
            code="invalid_field",
        )
    spreadsheet_id = parse_spreadsheet_id(body.get("spreadsheet_id"))
    sheet = body.get("sheet")
    if sheet is not None and (not isinstance(sheet, str) or not sheet.strip()):
        raise BadRequest(
            '"sheet" must be the name of a tab, like "Leads"; leave it out for the first tab.',
            code="invalid_field",
        )
    try:
        types = EnrichmentTypes.parse(body.get("enrichment_type"))
    except ContactError as exc:
        raise BadRequest(str(exc), code="invalid_field") from None
    max_rows = body.get("max_rows")
    if max_rows is not None and (
        isinstance(max_rows, bool)
        or not isinstance(max_rows, int)
        or not 1 <= max_rows <= MAX_ROWS_LIMIT
    ):
        raise BadRequest(
            '"max_rows" must be a whole number of rows, at least 1.', code="invalid_field"
        )
    first_row, last_row = _row_number(body, "first_row"), _row_number(body, "last_row")
    if first_row is not None and last_row is not None and last_row < first_row:
        raise BadRequest(
            f'"last_row" ({last_row}) is above "first_row" ({first_row}): give the rows top '
            "to bottom.",
            code="invalid_field",
        )
    columns = body.get("columns")
    if columns is not None and (
        not isinstance(columns, dict)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in columns.items())
    ):
        raise BadRequest(
            '"columns" must map fields to header texts or column letters, like '
            '{"firstname": "Prénom", "domain": "D"}.',
            code="invalid_field",
        )
    return FillRequest(
        spreadsheet_id=spreadsheet_id,
        sheet=sheet.strip() if isinstance(sheet, str) else None,
        types=types,
        overwrite=_flag(body, "overwrite"),
        dry_run=_flag(body, "dry_run"),
        max_rows=max_rows,
        columns=columns,
        first_row=first_row,
        last_row=last_row,
    )


def sheets_refusal(
    exc: BaseException,
    service_account: str | None,
    *,
    unknown_account: str = "the function's service account",
) -> ApiError:
    """The refusal a person reads for an error from Google Sheets or the filler.

    `service_account` is the email to share with; `unknown_account` names it when the
    credentials do not say (the emulator, or Cloud credentials not yet refreshed).
    """
    cause = exc.__cause__ if isinstance(exc, SheetWriteFailed) else None
    if isinstance(exc, SpreadsheetPermissionDenied) or isinstance(
        cause, SpreadsheetPermissionDenied
    ):
        who = service_account or unknown_account
        return Forbidden(
            f"Share the spreadsheet with {who} as an editor (Share button, top right), "
            "then run the fill again.",
            code="sheet_not_shared",
        )
    if isinstance(exc, SpreadsheetNotFound):
        return NotFound(
            "The spreadsheet was not found: check the id in its URL (the part between "
            "/d/ and /edit) and that it was not deleted.",
            code="spreadsheet_not_found",
        )
    if isinstance(exc, WorksheetNotFound):
        return NotFound(exc.message, code="sheet_not_found")
    if isinstance(exc, SheetUnmappable):
        return BadRequest(exc.message, code="unmappable_sheet")
    if isinstance(exc, SheetWriteFailed):
        return UpstreamError(exc.message, code="sheet_write_failed")
    if isinstance(exc, SheetsQuotaExhausted):
        return UpstreamError(
            "Google Sheets is limiting how often this spreadsheet can be read or written. "
            "Wait a minute and run the fill again; rows already written are kept.",
            code="sheets_quota",
        )
    if isinstance(exc, SheetsUnavailable):
        return UpstreamError(
            "Google Sheets did not answer after several tries. Run the fill again in a few "
            "minutes; rows already written are kept.",
            code="sheets_unavailable",
        )
    return UpstreamError(str(exc), code="sheets_error")


async def handle_fill(
    body: dict[str, Any], *, enricher: Enricher, settings: Settings
) -> dict[str, Any]:
    """Validate, fill the sheet at background priority, and return the run's summary."""
    request = parse_fill_request(body)
    try:
        client = await asyncio.to_thread(
            open_gspread_client, sheets_api_base_url=settings.sheets_api_base_url
        )
    except SheetsError as exc:
        raise sheets_refusal(exc, None) from exc
    filler = SheetFiller(enricher, client, deadline_s=FUNCTION_DEADLINE_S)
    try:
        summary = await filler.fill(request)
    except (SheetsError, WorksheetNotFound, SheetUnmappable, SheetWriteFailed) as exc:
        # With the emulator (or before Google credentials are refreshed) the account is
        # only known from the key file Google's libraries use.
        account = service_account_of(client, settings.google_application_credentials)
        raise sheets_refusal(exc, account) from exc
    return summary.to_json()


def service_account_of(client: SheetsClient, key_file: str | None = None) -> str | None:
    """The email the spreadsheet must be shared with: from the credentials in use, else
    from the service-account key file named (read for its `client_email` only)."""
    if client.service_account_email:
        return client.service_account_email
    if not key_file:
        return None
    try:
        email = json.loads(Path(key_file).read_text(encoding="utf-8")).get("client_email")
    except (OSError, ValueError, AttributeError):
        return None
    return email if isinstance(email, str) and "@" in email else None
