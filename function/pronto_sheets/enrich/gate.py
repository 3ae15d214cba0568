"""The gate: every call to Pronto from this instance passes through one `Gate`.

It enforces Pronto's limits for one API key — at most `rate` calls started in any
rolling window and at most `max_in_flight` open at once — and decides who goes next:
strict priority (interactive > batch > background), first come first served within a
priority. A ticket still waiting can be promoted, so a typed formula that asks for a
contact already queued by bulk work does not wait behind that bulk work.

Why not aiolimiter: a leaky bucket has neither priorities nor a concurrency cap, and
Pronto counts calls per rolling second, which a sliding log of start times matches exactly.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from enum import IntEnum


class Priority(IntEnum):
    """Lower value goes first."""

    INTERACTIVE = 0
    BATCH = 1
    BACKGROUND = 2

    @classmethod
    def parse(cls, raw: object) -> Priority:
        if raw is None:
            return cls.BATCH
        if isinstance(raw, str):
            try:
                return cls[raw.strip().upper()]
            except KeyError:
                pass
        raise ValueError('priority must be "interactive", "batch" or "background".')


class Ticket:
    """A place in the gate's queue; its priority may only go up while it waits."""

    __slots__ = ("future", "priority", "seq", "start")

    def __init__(self, priority: Priority) -> None:
        self.priority = priority
        self.future: asyncio.Future[None] | None = None
        self.seq = 0
        self.start = Start(0.0, time.monotonic)


class Start:
    """When one granted call really left: the grant time until the caller says "sent now".

    A granted task may resume late (a busy event loop, a busy machine); what Pronto counts
    is when the request arrives, so the window must hold the send time, not the grant time.
    """

    __slots__ = ("_clock", "at")

    def __init__(self, at: float, clock: Callable[[], float]) -> None:
        self.at = at
        self._clock = clock

    def sending(self) -> None:
        self.at = max(self.at, self._clock())


class Gate:
    """Start at most `rate` calls per `window_s` and keep at most `max_in_flight` open."""

    def __init__(
        self,
        rate: int,
        max_in_flight: int,
        *,
        window_s: float = 1.0,
        safety_margin_s: float = 0.03,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate < 1 or max_in_flight < 1:
            raise ValueError("a gate needs rate >= 1 and max_in_flight >= 1")
        self.rate = rate
        self.max_in_flight = max_in_flight
        # Pronto counts arrivals; ours are starts. The margin absorbs the jitter between the two.
        self._window = window_s + safety_margin_s
        self._clock = clock
        self._starts: deque[Start] = deque()
        self._queue: list[tuple[int, int, Ticket]] = []
        self._seq = itertools.count()
        self._in_flight = 0
        self._paused_until = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self.started = 0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @asynccontextmanager
    async def slot(self, ticket: Ticket | Priority) -> AsyncIterator[Start]:
        """Hold one of the gate's slots for one upstream call; call `.sending()` just before."""
        if isinstance(ticket, Priority):
            ticket = Ticket(ticket)
        start = await self.acquire(ticket)
        try:
            yield start
        finally:
            self.release()

    async def acquire(self, ticket: Ticket) -> Start:
        loop = asyncio.get_running_loop()
        ticket.future = loop.create_future()
        self._push(ticket)
        self._dispatch()
        try:
            await ticket.future
            return ticket.start
        except asyncio.CancelledError:
            if ticket.future.done() and not ticket.future.cancelled():
                self.release()  # granted just as we were cancelled: give the slot back
            else:
                ticket.future.cancel()
            raise

    def release(self) -> None:
        self._in_flight -= 1
        self._dispatch()

    def promote(self, ticket: Ticket, priority: Priority) -> None:
        """Move a waiting ticket up to `priority` (never down)."""
        if priority >= ticket.priority or ticket.future is None or ticket.future.done():
            ticket.priority = min(ticket.priority, priority)
            return
        ticket.priority = priority
        self._push(ticket)  # the old heap entry is skipped when popped (its seq is stale)
        self._dispatch()

    def hold_off(self, seconds: float) -> None:
        """Start nothing for `seconds` (Pronto said Retry-After: the whole key is limited)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
        self._dispatch()

    def _push(self, ticket: Ticket) -> None:
        ticket.seq = next(self._seq)
        heapq.heappush(self._queue, (ticket.priority, ticket.seq, ticket))

    def _dispatch(self) -> None:
        now = self._clock()
        # Send times may be out of grant order, so filter all (at most `rate` entries).
        if self._starts and now - min(s.at for s in self._starts) >= self._window:
            self._starts = deque(s for s in self._starts if now - s.at < self._window)
        while self._queue and self._in_flight < self.max_in_flight:
            _, seq, ticket = self._queue[0]
            if seq != ticket.seq or ticket.future is None or ticket.future.done():
                heapq.heappop(self._queue)
                continue
            wake_at = self._paused_until
            if len(self._starts) >= self.rate:
                wake_at = max(wake_at, min(s.at for s in self._starts) + self._window)
            if wake_at > now:
                self._wake_at(wake_at)
                return
            heapq.heappop(self._queue)
            self._in_flight += 1
            self.started += 1
            ticket.start = Start(now, self._clock)
            self._starts.append(ticket.start)
            ticket.future.set_result(None)

    def _wake_at(self, when: float) -> None:
        loop = asyncio.get_running_loop()
        delay = max(0.0, when - self._clock())
        if self._timer is not None:
            if self._timer.when() <= loop.time() + delay:
                return
            self._timer.cancel()
        self._timer = loop.call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._dispatch()
