"""The async lane's clock and timers: one task wakes callbacks when their time comes.

Time is the event loop's clock plus an offset that `advance` moves forward, so tests can
jump over a latency or a webhook delay without waiting for it (`POST /_simulator/clock`).
Every wait of the async lane (processing, slow or reordered webhooks, retry back-off) is a
timer here, so one jump moves them all together. Use from one event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


class LaneScheduler:
    """Timers on a clock that can jump forward; `on_tick` runs after every wake-up."""

    def __init__(self, on_tick: Callable[[], None]) -> None:
        self._on_tick = on_tick
        self._offset = 0.0
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def offset(self) -> float:
        """Seconds the clock has been moved forward since the last reset."""
        return self._offset

    @property
    def pending(self) -> int:
        """Timers not yet fired."""
        return len(self._timers)

    def now(self) -> float:
        return asyncio.get_running_loop().time() + self._offset

    def call_at(self, when: float, callback: Callable[[], None]) -> None:
        """Run `callback` once the clock reaches `when` (in the order of `when`, then of calls)."""
        heapq.heappush(self._timers, (when, next(self._order), callback))
        self.wake()

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> None:
        self.call_at(self.now() + max(0.0, delay_s), callback)

    def advance(self, seconds: float) -> None:
        """Move the clock `seconds` forward: timers due by then fire before this returns,
        so whoever moved the clock sees their effects in the next thing it asks."""
        if seconds < 0:
            raise ValueError("The clock only moves forward: advance_s must be at least 0.")
        self._offset += seconds
        self._fire_due()
        self.wake()

    def wake(self) -> None:
        """Have the driver look again (new work, a new capacity, a moved clock)."""
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._drive())
        assert self._wake is not None
        self._wake.set()

    def clear(self) -> None:
        """Forget every timer and put the clock back (a reset); the driver stays."""
        self._timers.clear()
        self._offset = 0.0

    async def aclose(self) -> None:
        """Stop the driver and forget every timer."""
        self._timers.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
        self._offset = 0.0

    async def _drive(self) -> None:
        wake = self._wake
        assert wake is not None
        while True:
            wake.clear()
            now = self._fire_due()
            timeout = self._timers[0][0] - now if self._timers else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout)

    def _fire_due(self) -> float:
        """Run the timers due now (and what each one makes due); return the time it was."""
        self._tick()
        now = self.now()
        while self._timers and self._timers[0][0] <= now:
            _, _, callback = heapq.heappop(self._timers)
            self._run(callback)
            self._tick()
        return now

    def _tick(self) -> None:
        self._run(self._on_tick)

    @staticmethod
    def _run(callback: Callable[[], None]) -> None:
        try:
            callback()
        except Exception:  # one bad callback must not stop the lane
            log.exception("async lane callback failed")
