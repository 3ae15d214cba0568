"""Google's errors, translated into `SheetsError`s a person can act on (errors.py).

The HTTP client (`http_client.py`) translates gspread's APIError and requests' transport
errors at this boundary, the original kept as `__cause__`; `sheets_errors` does the same
for the few errors gspread raises itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import gspread
import requests

from pronto_sheets.errors import (
    SheetsError,
    SheetsQuotaExhausted,
    SheetsUnavailable,
    SpreadsheetNotFound,
    SpreadsheetPermissionDenied,
)


def api_status(exc: gspread.exceptions.APIError) -> int:
    """The HTTP status of a gspread APIError."""
    # gspread sets code -1 when the body is not JSON (a proxy's HTML 502, say).
    return int(exc.response.status_code)


def _google_message(exc: gspread.exceptions.APIError) -> str:
    message = exc.error.get("message") if isinstance(exc.error, Mapping) else None
    return str(message or exc.response.reason or "no details")


def translate_error(
    exc: BaseException, *, spreadsheet_id: str | None = None, account_email: str | None = None
) -> SheetsError:
    """The SheetsError a person can act on for a gspread, requests or permission error."""
    if isinstance(exc, SheetsError):
        return exc
    which = f"spreadsheet {spreadsheet_id}" if spreadsheet_id else "the spreadsheet"
    if isinstance(exc, PermissionError) and isinstance(exc.__cause__, gspread.exceptions.APIError):
        exc = exc.__cause__  # gspread's open_by_key turns a 403 into a bare PermissionError
    if isinstance(exc, gspread.exceptions.SpreadsheetNotFound):
        return _not_found(404)
    if isinstance(exc, gspread.exceptions.APIError):
        return _api_error(exc, which, account_email)
    if isinstance(exc, requests.exceptions.RequestException):
        return SheetsUnavailable(
            f"Could not reach Google Sheets ({type(exc).__name__}: {exc}). Check the network "
            "connection and try again in a few minutes."
        )
    return SheetsError(f"Google Sheets failed for {which}: {exc}")


def _api_error(
    exc: gspread.exceptions.APIError, which: str, account_email: str | None
) -> SheetsError:
    """An error Google answered, by its HTTP status."""
    status = api_status(exc)
    detail = _google_message(exc)
    if status == 404:
        return _not_found(status)
    if status == 403:
        who = account_email or "the service account this service runs as"
        return SpreadsheetPermissionDenied(
            f"Share the spreadsheet with {who} as an editor (Share button, top right), "
            "then run the fill again.",
            status=status,
        )
    if status == 429:
        return SheetsQuotaExhausted(
            "Google Sheets is limiting how many requests this service may make per minute "
            f"and kept refusing after several retries ({detail}). Wait a minute, then run "
            "it again.",
            status=status,
        )
    if status >= 500 or status == 408:
        return SheetsUnavailable(
            f"Google Sheets kept failing (HTTP {status}: {detail}). Try again in a few minutes.",
            status=status,
        )
    return SheetsError(
        f"Google Sheets refused the request for {which} (HTTP {status}: {detail}).",
        status=status,
    )


def _not_found(status: int) -> SpreadsheetNotFound:
    return SpreadsheetNotFound(
        "The spreadsheet was not found: check the id in its URL (the part between /d/ and "
        "/edit) and that it was not deleted.",
        status=status,
    )


@contextmanager
def sheets_errors(
    *, spreadsheet_id: str | None = None, account_email: str | None = None
) -> Iterator[None]:
    """Translate gspread, requests and permission errors raised inside into SheetsError."""
    try:
        yield
    except (gspread.exceptions.GSpreadException, PermissionError, requests.RequestException) as exc:
        raise translate_error(
            exc, spreadsheet_id=spreadsheet_id, account_email=account_email
        ) from exc
