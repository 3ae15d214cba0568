"""The three limits Pronto enforces, as small single-threaded (event-loop) objects.

- `RollingWindow`: how many events arrived in the last second (the 50 req/s rate).
- `FifoSlots`: at most N requests served at once, the rest wait in arrival order
  (Pronto queues extra requests server-side) until a deadline.
- `CreditLedger`: credits spent per UTC day against a daily cap.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections import deque
from collections.abc import Callable


class RollingWindow:
    """Counts events in the last `span` seconds (times from a monotonic clock)."""

    def __init__(self, span: float = 1.0) -> None:
        self._span = span
        self._times: deque[float] = deque()

    def count(self, now: float) -> int:
        """Events in `(now - span, now]`."""
        horizon = now - self._span
        while self._times and self._times[0] <= horizon:
            self._times.popleft()
        return len(self._times)

    def add(self, now: float) -> int:
        """Record an event at `now`; return the count including it."""
        count = self.count(now) + 1
        self._times.append(now)
        return count

    def clear(self) -> None:
        self._times.clear()


class FifoSlots:
    """At most `limit` holders at once; waiters get a freed slot strictly first come, first served.

    Not thread-safe: use from one event loop. `acquire` returns the loop time at which
    the slot became the caller's (a queued caller may resume a little later), or None
    if none came within its wait; every grant must be paired with one `release`.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("A slot limit must be at least 1.")
        self._limit = limit
        self._held = 0
        self._waiters: deque[asyncio.Future[float | None]] = deque()

    @property
    def held(self) -> int:
        return self._held

    @property
    def waiting(self) -> int:
        return sum(1 for waiter in self._waiters if not waiter.done())

    def set_limit(self, limit: int) -> None:
        """Change the limit; a higher one lets waiters in at once, a lower one drains naturally."""
        if limit < 1:
            raise ValueError("A slot limit must be at least 1.")
        self._limit = limit
        self._wake()

    async def acquire(self, wait_s: float) -> float | None:
        """Take a slot, waiting in line for up to `wait_s` seconds; None if none came."""
        loop = asyncio.get_running_loop()
        if self._held < self._limit and not self._waiters:
            self._held += 1
            return loop.time()
        waiter: asyncio.Future[float | None] = loop.create_future()
        self._waiters.append(waiter)
        timer = loop.call_later(wait_s, _settle, waiter, None)
        try:
            granted_at = await waiter
        except asyncio.CancelledError:
            # A slot handed over just before the cancellation must not leak.
            if waiter.done() and not waiter.cancelled() and waiter.result() is not None:
                self.release()
            else:
                self._discard(waiter)
            raise
        finally:
            timer.cancel()
        if granted_at is None:
            self._discard(waiter)
        return granted_at

    def release(self) -> None:
        self._held -= 1
        self._wake()

    def _wake(self) -> None:
        now: float | None = None
        while self._held < self._limit and self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                now = asyncio.get_running_loop().time() if now is None else now
                self._held += 1  # the slot passes straight to the waiter
                waiter.set_result(now)

    def _discard(self, waiter: asyncio.Future[float | None]) -> None:
        with contextlib.suppress(ValueError):
            self._waiters.remove(waiter)


def _settle(waiter: asyncio.Future[float | None], value: float | None) -> None:
    if not waiter.done():
        waiter.set_result(value)


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class CreditLedger:
    """Credits spent today (UTC) against `daily_limit`; the count restarts at each new day."""

    def __init__(self, daily_limit: int, today: Callable[[], dt.date] = utc_today) -> None:
        self.daily_limit = daily_limit
        self._today = today
        self._day = today()
        self._spent = 0

    @property
    def spent(self) -> int:
        self._roll_over()
        return self._spent

    @property
    def left(self) -> int:
        return max(0, self.daily_limit - self.spent)

    def try_charge(self, cost: int) -> bool:
        """Spend `cost` credits if that many are left today; a zero cost always succeeds."""
        if cost > self.left:
            return False
        self._spent += cost
        return True

    def reset(self) -> None:
        self._day = self._today()
        self._spent = 0

    def _roll_over(self) -> None:
        today = self._today()
        if today != self._day:
            self._day = today
            self._spent = 0
