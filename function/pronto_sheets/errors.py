"""Refusals the function answers with, each mapped to one HTTP status in one place.

    ApiError                      {"error": {"code", "message"}}
    ├── BadRequest         400    malformed JSON or fields; the message names the field
    ├── Unauthenticated    401    no credentials, wrong ones, or none configured
    ├── Forbidden          403    a valid identity that is not allowed, or a sheet not shared
    ├── NotFound           404    unknown path, or a spreadsheet that does not exist
    ├── MethodNotAllowed   405
    ├── PayloadTooLarge    413    body over the size limit or too many contacts
    └── UpstreamError      502    Google Sheets failed after retries (never from client input)

Every message is a sentence a person can act on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class ApiError(Exception):
    status: ClassVar[int] = 400
    default_code: ClassVar[str] = "bad_request"

    def __init__(
        self, message: str, *, code: str | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.headers = dict(headers or {})  # e.g. Allow on a 405 (RFC 9110)

    def to_json(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


class BadRequest(ApiError):
    status = 400
    default_code = "bad_request"


class Unauthenticated(ApiError):
    status = 401
    default_code = "unauthenticated"


class Forbidden(ApiError):
    status = 403
    default_code = "forbidden"


class NotFound(ApiError):
    status = 404
    default_code = "not_found"


class MethodNotAllowed(ApiError):
    status = 405
    default_code = "method_not_allowed"


class PayloadTooLarge(ApiError):
    status = 413
    default_code = "payload_too_large"


class UpstreamError(ApiError):
    status = 502
    default_code = "upstream_error"
