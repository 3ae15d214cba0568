"""Every error pronto-sheets raises on purpose, in one tree with one root.

Each carries `.message`, the sentence a person reads (what happened and what to do next),
and `.code`, a stable slug the add-in and scripts may branch on. Only the HTTP layer
(`http/routes.py`) knows status codes; the CLI prints `.message`.

    ProntoSheetsError
    ├── SettingsError                a variable in the environment cannot be used (names it)
    ├── RequestError                 what the caller sent cannot be served
    │   ├── MalformedRequest         bad JSON or a field of the wrong shape (names the field)
    │   │   ├── ContactError         one contact's field is not text
    │   │   └── ColumnMappingError   a sheet's columns cannot be told apart (lists headers)
    │   ├── UnknownRoute             no such path
    │   ├── MethodNotAllowed         wrong method (carries the allowed ones)
    │   └── RequestTooLarge          body or contact count over the limit
    ├── AuthError
    │   ├── Unauthenticated          no credentials, wrong ones, or none configured
    │   └── CallerNotAllowed         a valid identity that is not on the allow list
    ├── ProntoError                  Pronto gave no answer for a contact (becomes a row status)
    │   ├── ProntoKeyRejected        401/403 from Pronto: the key needs fixing
    │   ├── ProntoOutOfCredits       402, 422 or 200 saying credits are insufficient
    │   ├── ConsentRequired          422: personal emails need the account's consent
    │   ├── BudgetExhausted          our daily budget cannot cover the call (never sent)
    │   ├── ProntoRejectedRow        another 4xx: this contact, retrying would not help
    │   └── ProntoUnavailable        retries exhausted (5xx, 429, transport, truncated)
    ├── SheetsError                  Google Sheets refused or failed (after retries)
    │   ├── SheetsCredentialsError   no usable Google credentials
    │   ├── SpreadsheetNotFound      wrong id, or a spreadsheet this account cannot see
    │   ├── SpreadsheetPermissionDenied  not shared with the service account
    │   ├── SheetsQuotaExhausted     429 still after the retries
    │   └── SheetsUnavailable        5xx or network failure still after the retries
    ├── SheetFillError               a fill could not start or finish
    │   ├── WorksheetNotFound        no tab of that name
    │   └── SheetWriteFailed         a write kept failing; earlier writes are kept
    └── StoreError                   the durable store failed (the function goes on in memory)
"""

from __future__ import annotations

from typing import Any, ClassVar


class ProntoSheetsError(Exception):
    """The root: `message` is for a person, `code` for programs."""

    default_code: ClassVar[str] = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code

    def to_json(self) -> dict[str, Any]:
        """The error body of the HTTP contract: `{"error": {"code", "message"}}`."""
        return {"error": {"code": self.code, "message": self.message}}


class SettingsError(ProntoSheetsError):
    default_code = "bad_setting"


class RequestError(ProntoSheetsError):
    default_code = "bad_request"


class MalformedRequest(RequestError):
    default_code = "bad_request"


class ContactError(MalformedRequest):
    default_code = "invalid_contacts"


class ColumnMappingError(MalformedRequest):
    default_code = "unmappable_sheet"


class UnknownRoute(RequestError):
    default_code = "not_found"


class MethodNotAllowed(RequestError):
    default_code = "method_not_allowed"

    def __init__(self, message: str, *, allow: str, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.allow = allow  # the Allow header of a 405 (RFC 9110)


class RequestTooLarge(RequestError):
    default_code = "payload_too_large"


class AuthError(ProntoSheetsError):
    default_code = "unauthenticated"


class Unauthenticated(AuthError):
    default_code = "unauthenticated"


class CallerNotAllowed(AuthError):
    default_code = "forbidden"


class ProntoError(ProntoSheetsError):
    default_code = "pronto_error"


class ProntoKeyRejected(ProntoError):
    default_code = "pronto_key_rejected"


class ProntoOutOfCredits(ProntoError):
    default_code = "out_of_credits"


class ConsentRequired(ProntoError):
    default_code = "personal_email_consent"


class BudgetExhausted(ProntoError):
    default_code = "over_budget"


class ProntoRejectedRow(ProntoError):
    default_code = "pronto_rejected_row"


class ProntoUnavailable(ProntoError):
    default_code = "pronto_unavailable"


class SheetsError(ProntoSheetsError):
    """`status` is the HTTP status Google answered, when there was an answer."""

    default_code = "sheets_error"

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.status = status


class SheetsCredentialsError(SheetsError):
    default_code = "no_google_credentials"


class SpreadsheetNotFound(SheetsError):
    default_code = "spreadsheet_not_found"


class SpreadsheetPermissionDenied(SheetsError):
    default_code = "sheet_not_shared"


class SheetsQuotaExhausted(SheetsError):
    default_code = "sheets_quota"


class SheetsUnavailable(SheetsError):
    default_code = "sheets_unavailable"


class SheetFillError(ProntoSheetsError):
    default_code = "fill_failed"


class WorksheetNotFound(SheetFillError):
    default_code = "sheet_not_found"


class SheetWriteFailed(SheetFillError):
    """A write kept failing; `summary` is what the run did before it (a `FillSummary`)."""

    default_code = "sheet_write_failed"

    def __init__(self, message: str, summary: Any, *, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.summary = summary


class StoreError(ProntoSheetsError):
    default_code = "store_unavailable"


def first_line(exc: BaseException) -> str:
    """A short reason for a log line: the message, without a stack trace or a secret."""
    text = exc.message if isinstance(exc, ProntoSheetsError) else type(exc).__name__
    return text.splitlines()[0] if text else type(exc).__name__


__all__ = [
    "AuthError",
    "BudgetExhausted",
    "CallerNotAllowed",
    "ColumnMappingError",
    "ConsentRequired",
    "ContactError",
    "MalformedRequest",
    "MethodNotAllowed",
    "ProntoError",
    "ProntoKeyRejected",
    "ProntoOutOfCredits",
    "ProntoRejectedRow",
    "ProntoSheetsError",
    "ProntoUnavailable",
    "RequestError",
    "RequestTooLarge",
    "SettingsError",
    "SheetFillError",
    "SheetWriteFailed",
    "SheetsCredentialsError",
    "SheetsError",
    "SheetsQuotaExhausted",
    "SheetsUnavailable",
    "SpreadsheetNotFound",
    "SpreadsheetPermissionDenied",
    "StoreError",
    "Unauthenticated",
    "UnknownRoute",
    "WorksheetNotFound",
    "first_line",
]
