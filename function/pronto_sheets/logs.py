"""The function's log lines: structured JSON for Cloud Logging, and never personal data.

Cloud Run reads each line a process writes to stdout as one log entry, and a line that is
a JSON object as a structured entry: `severity` and `message` become the entry's own
fields, `logging.googleapis.com/trace` ties it to the request's trace, everything else
lands in `jsonPayload` (https://cloud.google.com/logging/docs/structured-logging).

What a line may carry: the route, counts, durations, statuses, the caller's kind, a
request id, our own fixed sentences. What it never carries: names, emails, phones,
LinkedIn URLs, companies or domains of rows, tokens, the Pronto key. So:

- `emit` writes the fields it is given (callers pass counts and codes, not row values),
  with the request id and route of the request being served;
- an unexpected exception is logged by `log_unexpected` as its type and the code location
  that raised it, never its message or traceback (either can quote a row);
- records of the standard `logging` module under `pronto_sheets` (`install`) are written
  the same way: the format string as written in the code, without its arguments, and an
  exception as type and location.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import sys
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

_PACKAGE_ROOT = Path(__file__).resolve().parent


@dataclass(frozen=True)
class RequestContext:
    """The request a line belongs to: an id (from Cloud Run's trace header when present),
    the route, who called (their kind; a Google identity's email only in audit lines)."""

    request_id: str
    route: str
    trace: str | None = None


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "pronto_sheets_request", default=None
)


def begin_request(route: str, trace_header: str | None, project: str | None) -> RequestContext:
    """Start the context of one request (each request runs in its own task, so its own
    context): the id is the trace id of `X-Cloud-Trace-Context` when Cloud Run sent one."""
    trace_id = (trace_header or "").split("/", 1)[0].strip()
    if not trace_id.isalnum() or len(trace_id) > 64:
        trace_id = ""
    request_id = trace_id or uuid.uuid4().hex
    trace = f"projects/{project}/traces/{trace_id}" if trace_id and project else None
    context = RequestContext(request_id, route, trace)
    _current.set(context)
    return context


def current_request() -> RequestContext | None:
    return _current.get()


def emit(severity: str, message: str, **fields: Any) -> None:
    """Write one structured line: `message` is a fixed sentence, `fields` counts and codes."""
    line: dict[str, Any] = {"severity": severity, "message": message}
    context = _current.get()
    if context is not None:
        line["request_id"] = context.request_id
        line.setdefault("route", context.route)
        if context.trace:
            line["logging.googleapis.com/trace"] = context.trace
    line.update(fields)
    sys.stdout.write(json.dumps(line, default=str) + "\n")
    sys.stdout.flush()


def where(tb: TracebackType | None) -> str:
    """The code location an exception came from: the innermost frame of our package (or the
    innermost at all), as "enrich/engine.py:420 in _ask". Paths, lines, names: no values."""
    frames = traceback.extract_tb(tb) if tb is not None else []
    ours = [f for f in frames if Path(f.filename).resolve().is_relative_to(_PACKAGE_ROOT)]
    if not frames:
        return "unknown"
    frame = (ours or frames)[-1]
    path = Path(frame.filename).resolve()
    shown = path.relative_to(_PACKAGE_ROOT) if path.is_relative_to(_PACKAGE_ROOT) else path.name
    return f"{shown}:{frame.lineno} in {frame.name}"


def exception_fields(exc: BaseException) -> dict[str, str]:
    """An exception as a log line may carry it: its type and where it was raised."""
    kind = type(exc)
    return {
        "error_type": f"{kind.__module__}.{kind.__qualname__}",
        "where": where(exc.__traceback__),
    }


def log_unexpected(exc: BaseException, message: str, **fields: Any) -> None:
    """Log an exception nobody expected: type and location, never its message or stack."""
    emit("ERROR", message, event="unexpected_error", **exception_fields(exc), **fields)


def audit(message: str, **fields: Any) -> None:
    """An audit line (who did what, how many, when): Cloud Logging's NOTICE severity."""
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    emit("NOTICE", message, audit=True, time=now, **fields)


class StructuredHandler(logging.Handler):
    """Writes `logging` records as `emit` does: the format string without its arguments
    (they are values), and an exception as its type and location."""

    def emit(self, record: logging.LogRecord) -> None:
        fields: dict[str, Any] = {"logger": record.name}
        if record.exc_info and record.exc_info[1] is not None:
            fields.update(exception_fields(record.exc_info[1]))
        severity = {"WARNING": "WARNING", "ERROR": "ERROR", "CRITICAL": "CRITICAL"}.get(
            record.levelname, "INFO" if record.levelno >= logging.INFO else "DEBUG"
        )
        try:
            emit(severity, str(record.msg), **fields)
        except Exception:  # a log line must never take a request down
            self.handleError(record)


def install() -> None:
    """Route the package's `logging` records through `StructuredHandler`, and only there
    (no propagation to a root handler that would print messages and tracebacks)."""
    package = logging.getLogger("pronto_sheets")
    if not any(isinstance(h, StructuredHandler) for h in package.handlers):
        package.addHandler(StructuredHandler())
    package.setLevel(logging.INFO)
    package.propagate = False
