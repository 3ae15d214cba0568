"""What one row gets back: a status from a closed set and, when found, the values.

Statuses (DESIGN.md, "The HTTP contract"):
- `success`     Pronto found what was asked.
- `not_found`   Pronto answered; nothing found.
- `invalid`     the row lacks a name, or has none of domain, company, LinkedIn.
- `pending`     not done by `timeout_s`; the call goes on and lands in the cache.
- `failed`      Pronto kept failing after retries; retry later.
- `over_budget` the daily credit budget (ours or Pronto's) is reached.

Only `success` and `not_found` are answers; the others say "ask again later" or
"fix the row", and are never cached.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    SUCCESS = "success"
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    PENDING = "pending"
    FAILED = "failed"
    OVER_BUDGET = "over_budget"

    @property
    def is_answer(self) -> bool:
        """True for what Pronto decided (cacheable, final); False for "try again"."""
        return self in (Status.SUCCESS, Status.NOT_FOUND)


@dataclass(frozen=True)
class Phone:
    number: str
    type: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"number": self.number, "type": self.type}


@dataclass(frozen=True)
class RowResult:
    """The answer for one contact row, as the function returns it."""

    status: Status
    email: str | None = None
    email_status: str | None = None
    phones: tuple[Phone, ...] = ()
    phone_status: str | None = None
    message: str | None = None
    cached: bool = False
    custom: Any = None

    @property
    def first_phone(self) -> str | None:
        return self.phones[0].number if self.phones else None

    def for_row(self, *, cached: bool, custom: Any) -> RowResult:
        """This result as seen by one particular row (its own `custom`, whether from cache)."""
        return replace(self, cached=cached, custom=custom)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "email": self.email,
            "email_status": self.email_status,
            "phones": [phone.to_json() for phone in self.phones],
            "phone_status": self.phone_status,
            "message": self.message,
            "cached": self.cached,
            "custom": self.custom,
        }


def failed(message: str) -> RowResult:
    return RowResult(Status.FAILED, message=message)


def over_budget(message: str) -> RowResult:
    return RowResult(Status.OVER_BUDGET, message=message)


PENDING_MESSAGE = (
    "Still searching: Pronto is taking a while. Recalculate in a minute; the answer will be free."
)
