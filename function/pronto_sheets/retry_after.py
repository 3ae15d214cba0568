"""Reading a Retry-After header, in both forms HTTP allows (RFC 9110 §10.2.3).

Shared by the Pronto client and the Sheets client: both honour what the server asks.
"""

from __future__ import annotations

import datetime as dt
import email.utils


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from `Retry-After: 3` or `Retry-After: <HTTP date>`.

    None when the header is absent or unreadable (the caller backs off on its own); a
    date in the past means 0. Callers cap the result to what they are willing to wait.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())
