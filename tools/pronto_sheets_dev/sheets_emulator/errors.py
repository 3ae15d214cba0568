"""Google's error bodies, raised as `ApiError` anywhere in the emulator and rendered once.

Sheets answers `{"error": {"code", "message", "status", "details"?}}`; Drive answers
`{"error": {"code", "message", "errors": [{"domain", "reason", "message", ...}]}}`.
"""

from __future__ import annotations

from typing import Any

_STATUS = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class ApiError(Exception):
    """An answer other than 2xx, with the exact JSON body Google would send."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        drive_reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}
        self.drive_reason = drive_reason

    def body(self) -> dict[str, Any]:
        if self.drive_reason is not None:
            error: dict[str, Any] = {
                "code": self.code,
                "message": self.message,
                "errors": [
                    {"message": self.message, "domain": "global", "reason": self.drive_reason}
                ],
            }
            return {"error": error}
        error = {"code": self.code, "message": self.message, "status": _STATUS.get(self.code)}
        if self.details:
            error["details"] = self.details
        return {"error": error}


def invalid_argument(message: str) -> ApiError:
    return ApiError(400, message)


def bad_field(field: str, proto_type: str, value: object) -> ApiError:
    """A body field of the wrong JSON type, worded as Google's JSON parser words it."""
    shown = value if isinstance(value, str) else repr(value)
    message = f"Invalid value at '{field}' ({proto_type}), \"{shown}\""
    return ApiError(
        400,
        message,
        details=[
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": field, "description": message}],
            }
        ],
    )


def unknown_field(name: str) -> ApiError:
    message = f'Invalid JSON payload received. Unknown name "{name}": Cannot find field.'
    return ApiError(
        400,
        message,
        details=[
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"description": message}],
            }
        ],
    )


def not_found() -> ApiError:
    return ApiError(404, "Requested entity was not found.")


def permission_denied() -> ApiError:
    return ApiError(403, "The caller does not have permission")


def unable_to_parse(text: str) -> ApiError:
    return ApiError(400, f"Unable to parse range: {text}")


def drive_not_found(file_id: str) -> ApiError:
    return ApiError(404, f"File not found: {file_id}.", drive_reason="notFound")


def quota_exceeded(kind: str, limit: int, retry_after: str | None) -> ApiError:
    """The 429 Google sends when a per-minute per-user quota is used up."""
    metric = "Read requests" if kind == "read" else "Write requests"
    limit_name = (
        "ReadRequestsPerMinutePerUser" if kind == "read" else "WriteRequestsPerMinutePerUser"
    )
    message = (
        f"Quota exceeded for quota metric '{metric}' and limit '{metric} per minute per user' "
        "of service 'sheets.googleapis.com' for consumer 'project_number:000000000000'."
    )
    details: list[dict[str, Any]] = [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "RATE_LIMIT_EXCEEDED",
            "domain": "googleapis.com",
            "metadata": {
                "quota_limit": limit_name,
                "quota_limit_value": str(limit),
                "quota_location": "global",
                "quota_metric": f"sheets.googleapis.com/{kind}_requests",
                "quota_unit": "1/min/{project}/{user}",
                "consumer": "projects/000000000000",
                "service": "sheets.googleapis.com",
            },
        },
        {
            "@type": "type.googleapis.com/google.rpc.Help",
            "links": [
                {
                    "description": "Request a higher quota limit.",
                    "url": "https://cloud.google.com/docs/quotas/help/request_increase",
                }
            ],
        },
    ]
    headers = {"Retry-After": retry_after} if retry_after else None
    return ApiError(429, message, details=details, headers=headers)


def injected_fault(status: int, retry_after: str | None) -> ApiError:
    """A forced failure, with the body Google sends for that status."""
    messages = {
        429: "Resource has been exhausted (e.g. check quota).",
        500: "Internal error encountered.",
        502: "Bad Gateway",
        503: "The service is currently unavailable.",
        504: "The request timed out. Please try again.",
    }
    headers = {"Retry-After": retry_after} if retry_after else None
    return ApiError(
        status, messages.get(status, "Error injected by the emulator."), headers=headers
    )
