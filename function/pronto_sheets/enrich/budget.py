"""The daily credit budget: never let a day's spending pass the cap.

Credits are counted per UTC day from what Pronto returned: each type found costs its
price (`credits_per_type`: email, phone, personal email). Before each call the worst case
is reserved, so concurrent calls cannot overshoot together; after the answer the
reservation is settled to the real cost. Pronto saying the account is out of credits (in
any of its three forms) closes the day too.

The day's ledger lives in the store (store/), shared by every process using it and kept
across restarts. This process claims credits from it in blocks (`block_credits`, 50 by
default: one store write per block, not per call) and reserves from what it claimed; a
block's credits left unused are given back when the process closes (`aclose`) and when
it has had no call under way for `idle_release_s` (Cloud Run stops idle instances without
warning; each would otherwise take a block of the day's budget with it), so at most the
calls of the last few seconds stay claimed until midnight UTC if the process is killed.
A call short of credits while others of this process hold reservations waits for them to
settle rather than being refused. When the store is unavailable, spending goes on
from an in-memory fallback holding at most `DEGRADED_SHARE` of the daily budget (and
never more than the store said was left), and is written to the ledger once the store is
back.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from pronto_sheets.errors import StoreError
from pronto_sheets.store.memory import MemoryStore
from pronto_sheets.store.protocol import Store

# While the store is down, this share of the daily budget at most (per process start).
DEGRADED_SHARE = 0.10
BLOCK_CREDITS = 50
# Idle this long (no call under way), a process gives its unused credits back.
IDLE_RELEASE_S = 20.0
# Forcing a claim past any limit: credits already spent while the store was down.
_NO_LIMIT = 2**62


def _utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def degraded_limit(daily_budget: int) -> int:
    """Credits a process may spend in a day while the store is unavailable."""
    return math.ceil(daily_budget * DEGRADED_SHARE)


@dataclass(frozen=True)
class Reservation:
    credits: int
    day: dt.date


@dataclass
class _Day:
    """This process's view of one day."""

    day: dt.date
    pool: int = 0  # claimed by this process, neither reserved nor spent
    reserved: int = 0
    spent: int = 0  # by this process
    spent_before: int = 0  # by every process, as the ledger said when the day was loaded
    claimed: int = 0  # by every process, as the ledger said at the last claim
    closed: bool = False
    loaded: bool = False  # the ledger was read for this day
    fallback_limit: int | None = None  # set once the store failed: the in-memory cap
    unsynced: int = 0  # claimed from the fallback, not yet written to the store


class CreditBudget:
    """Credits spent and reserved today against `daily_budget` (see the module docstring).

    Without a `store` the ledger is this process's memory alone.
    """

    def __init__(
        self,
        *,
        daily_budget: int,
        credits_per_type: Mapping[str, int],
        store: Store | None = None,
        block_credits: int = BLOCK_CREDITS,
        idle_release_s: float = IDLE_RELEASE_S,
        today: Callable[[], dt.date] = _utc_today,
    ) -> None:
        self.daily_budget = daily_budget
        self.credits_per_type = dict(credits_per_type)
        self._store = store
        self._block = block_credits
        self._memory = MemoryStore()  # the ledger without a store; the fallback with one
        self._today = today
        self._state = _Day(today())
        # Held while reserving; settling notifies it: a call short of credits while others
        # hold reservations waits for them to settle (most cost less than their worst case).
        self._settled = asyncio.Condition()
        self._idle_release_s = idle_release_s
        self._idle_timer: asyncio.TimerHandle | None = None

    def _day(self) -> _Day:
        day = self._today()
        if day != self._state.day:
            self._state = _Day(day)
        return self._state

    @property
    def spent_today(self) -> int:
        state = self._day()
        return state.spent_before + state.spent

    @property
    def remaining(self) -> int:
        """What could still be reserved today, as far as this process knows (counting what
        calls under way have reserved: they may give most of it back)."""
        state = self._day()
        if state.closed:
            return 0
        limit = self.daily_budget if state.fallback_limit is None else state.fallback_limit
        claimed = state.claimed if state.fallback_limit is None else state.unsynced
        return state.pool + state.reserved + max(0, limit - claimed)

    def worst_case(self, types: Iterable[str]) -> int:
        """What a call asking `types` costs if Pronto finds everything."""
        return sum(self.credits_per_type[name] for name in types)

    def cost(self, found: Iterable[str]) -> int:
        """What a call costs for the types Pronto found."""
        return self.worst_case(found)

    async def _load(self, state: _Day) -> None:
        """Read the day's ledger once: spending so far, and whether Pronto closed the day."""
        if state.loaded or self._store is None:
            return
        state.loaded = True
        try:
            ledger = await self._store.ledger(state.day.isoformat())
        except StoreError:
            return
        state.spent_before, state.claimed = ledger.spent, ledger.claimed
        state.closed = state.closed or ledger.closed

    async def _claim(self, state: _Day, *, wanted: int, minimum: int) -> int:
        day = state.day.isoformat()
        if self._store is None:
            claim = self._memory.claim_now(
                day, wanted=wanted, minimum=minimum, limit=self.daily_budget
            )
            state.claimed = claim.claimed
            return claim.granted
        try:
            if state.unsynced:
                # Spent while the store was down: into the ledger first, past any limit.
                await self._store.claim_credits(
                    day, wanted=state.unsynced, minimum=0, limit=_NO_LIMIT
                )
                state.unsynced = 0
            claim = await self._store.claim_credits(
                day, wanted=wanted, minimum=minimum, limit=self.daily_budget
            )
        except StoreError:
            if state.fallback_limit is None:
                left = max(0, self.daily_budget - state.claimed)
                state.fallback_limit = min(degraded_limit(self.daily_budget), left)
            fallback = self._memory.claim_now(
                day, wanted=wanted, minimum=minimum, limit=state.fallback_limit
            )
            state.unsynced += fallback.granted
            return fallback.granted
        state.claimed, state.closed = claim.claimed, state.closed or claim.closed
        state.fallback_limit = None  # the store answers again
        return claim.granted

    async def reserve(self, types: Iterable[str]) -> Reservation | None:
        """Set aside the worst case of one call; None when today's budget cannot cover it.

        Short of credits while other calls of this process hold reservations, it waits for
        them to settle rather than refuse: what they do not spend comes back.
        """
        credits = self.worst_case(types)
        self._cancel_idle_release()
        async with self._settled:
            while True:
                state = self._day()
                await self._load(state)
                if state.closed:
                    return None
                if state.pool < credits:
                    need = credits - state.pool
                    state.pool += await self._claim(
                        state, wanted=max(self._block, need), minimum=need
                    )
                if state.closed:
                    return None
                if state.pool >= credits:
                    state.pool -= credits
                    state.reserved += credits
                    return Reservation(credits, state.day)
                if state.reserved == 0:
                    return None  # nothing will come back today
                await self._settled.wait()

    async def settle(self, reservation: Reservation, spent: int) -> None:
        """Replace a reservation by what the call really cost."""
        async with self._settled:
            state = self._day()
            if state.day != reservation.day:
                return  # a call that straddled midnight is billed to the day it started on
            state.reserved -= reservation.credits
            state.spent += spent
            state.pool += reservation.credits - spent
            self._settled.notify_all()
            if state.reserved == 0 and state.pool and self._store is not None:
                self._schedule_idle_release()
        if spent and self._store is not None and state.fallback_limit is None:
            # A report only: the claim already counted these credits.
            with contextlib.suppress(StoreError):
                await self._store.record_spent(state.day.isoformat(), spent)

    def _schedule_idle_release(self) -> None:
        self._cancel_idle_release()
        loop = asyncio.get_running_loop()
        self._idle_timer = loop.call_later(
            self._idle_release_s, lambda: loop.create_task(self._release_if_idle())
        )

    def _cancel_idle_release(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    async def _release_if_idle(self) -> None:
        self._idle_timer = None
        if self._day().reserved == 0:
            await self.aclose()

    async def aclose(self) -> None:
        """This process stops (or has been idle): give back to the day's ledger what it
        claimed and did not reserve (a process killed instead leaves it claimed until
        midnight UTC)."""
        self._cancel_idle_release()
        async with self._settled:
            state = self._day()
            pool, state.pool = state.pool, 0
        if pool and self._store is not None and state.fallback_limit is None:
            with contextlib.suppress(StoreError):
                await self._store.release_credits(state.day.isoformat(), pool)

    async def close_for_today(self) -> None:
        """Pronto said the account is out of credits: stop calling until tomorrow (UTC)."""
        state = self._day()
        state.closed = True
        if self._store is not None:
            with contextlib.suppress(StoreError):
                await self._store.close_day(state.day.isoformat())

    @property
    def exhausted_message(self) -> str:
        state = self._day()
        if state.closed:
            return (
                "Pronto says the account is out of credits for today. Rows left will be "
                "filled after midnight UTC, or add credits in your Pronto account."
            )
        if state.fallback_limit is not None:
            return (
                "The store that keeps today's credit count is unavailable, so spending is "
                f"held to {state.fallback_limit} credits ({DEGRADED_SHARE:.0%} of the daily "
                "budget) until it is back. Rows left will be filled by a later run."
            )
        return (
            f"Today's credit budget ({self.daily_budget} credits) is used up. Rows left "
            "will be filled after midnight UTC, or raise PRONTO_DAILY_CREDIT_BUDGET."
        )
