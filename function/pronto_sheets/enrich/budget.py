"""The daily credit budget: never let a day's spending pass the cap.

Credits are counted per UTC day from what Pronto returned: each type found costs its
price (`credits_per_type`: email, phone, personal email). Before each call the worst case
is reserved, so concurrent calls cannot overshoot together; after the answer the
reservation is settled to the real cost. Pronto saying the account is out of credits (in
any of its three forms) closes the day too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass


def _utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True)
class Reservation:
    credits: int
    day: dt.date


class CreditBudget:
    """Credits spent and reserved today against `daily_budget`."""

    def __init__(
        self,
        *,
        daily_budget: int,
        credits_per_type: Mapping[str, int],
        today: Callable[[], dt.date] = _utc_today,
    ) -> None:
        self.daily_budget = daily_budget
        self.credits_per_type = dict(credits_per_type)
        self._today = today
        self._day = today()
        self._spent = 0
        self._reserved = 0
        self._closed_by_pronto = False

    def _roll(self) -> dt.date:
        day = self._today()
        if day != self._day:
            self._day, self._spent, self._reserved, self._closed_by_pronto = day, 0, 0, False
        return day

    @property
    def spent_today(self) -> int:
        self._roll()
        return self._spent

    @property
    def remaining(self) -> int:
        self._roll()
        if self._closed_by_pronto:
            return 0
        return max(0, self.daily_budget - self._spent - self._reserved)

    def worst_case(self, types: Iterable[str]) -> int:
        """What a call asking `types` costs if Pronto finds everything."""
        return sum(self.credits_per_type[name] for name in types)

    def cost(self, found: Iterable[str]) -> int:
        """What a call costs for the types Pronto found."""
        return self.worst_case(found)

    def reserve(self, types: Iterable[str]) -> Reservation | None:
        """Set aside the worst case of one call; None when today's budget cannot cover it."""
        day = self._roll()
        credits = self.worst_case(types)
        if self._closed_by_pronto or self._spent + self._reserved + credits > self.daily_budget:
            return None
        self._reserved += credits
        return Reservation(credits, day)

    def settle(self, reservation: Reservation, spent: int) -> None:
        """Replace a reservation by what the call really cost."""
        if self._roll() == reservation.day:
            self._reserved -= reservation.credits
            self._spent += spent
        # A call that straddled midnight is billed to the day it started on, which has gone.

    def close_for_today(self) -> None:
        """Pronto said the account is out of credits: stop calling until tomorrow (UTC)."""
        self._roll()
        self._closed_by_pronto = True

    @property
    def exhausted_message(self) -> str:
        if self._closed_by_pronto:
            return (
                "Pronto says the account is out of credits for today. Rows left will be "
                "filled after midnight UTC, or add credits in your Pronto account."
            )
        return (
            f"Today's credit budget ({self.daily_budget} credits) is used up. Rows left "
            "will be filled after midnight UTC, or raise PRONTO_DAILY_CREDIT_BUDGET."
        )
