"""The gate: every call to Pronto from this instance passes through one `Gate`.

It enforces Pronto's limits for one API key — at most `rate` calls started in any
rolling window and at most `max_in_flight` open at once — and decides who goes next:
strict priority (interactive > batch > background), first come first served within a
priority. A ticket still waiting can be promoted, so a typed formula that asks for a
contact already queued by bulk work does not wait behind that bulk work.

Time has one source, the gate's `Clock`: it reads the time and schedules the wake-ups
from the same clock, so a test that gives it a virtual clock never waits in real time. By
default the clock is the running event loop (its `time()` and `call_at()`, as aiolimiter
uses them), which is also what `asyncio.sleep` and `asyncio.wait_for` run on.

Why not aiolimiter: a leaky bucket has neither priorities nor a concurrency cap, and
Pronto counts calls per rolling second, which a sliding log of start times matches exactly.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from enum import IntEnum
from typing import Protocol


class Timer(Protocol):
    """A scheduled wake-up that can be called off (`asyncio.TimerHandle` is one)."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    """Where the gate reads the time and schedules its wake-ups: one source for both.

    An asyncio event loop is a `Clock`; so is any object whose `call_at(when, callback)`
    runs `callback` once `time()` has reached `when`.
    """

    def time(self) -> float: ...

    def call_at(self, when: float, callback: Callable[[], object], /) -> Timer: ...


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
        self.start = Start(0.0, _not_granted)


def _not_granted() -> float:
    raise RuntimeError("this ticket has not been granted a slot yet")


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
        clock: Clock | None = None,
    ) -> None:
        """`clock` defaults to the event loop the gate is used in."""
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
        self._paused_until = float("-inf")
        self._timer: Timer | None = None
        self._timer_at = 0.0
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
        self._paused_until = max(self._paused_until, self._time_source().time() + seconds)
        self._dispatch()

    def _time_source(self) -> Clock:
        return self._clock if self._clock is not None else asyncio.get_running_loop()

    def _push(self, ticket: Ticket) -> None:
        ticket.seq = next(self._seq)
        heapq.heappush(self._queue, (ticket.priority, ticket.seq, ticket))

    def _dispatch(self) -> None:
        clock = self._time_source()
        now = clock.time()
        # Send times may be out of grant order, so filter all (at most `rate` entries).
        # "Still in the window" is `at + window > now` here and below, written the same way
        # both times: in floating point, `now - at < window` can disagree with it.
        if self._starts and min(s.at for s in self._starts) + self._window <= now:
            self._starts = deque(s for s in self._starts if s.at + self._window > now)
        while self._queue and self._in_flight < self.max_in_flight:
            _, seq, ticket = self._queue[0]
            if seq != ticket.seq or ticket.future is None or ticket.future.done():
                heapq.heappop(self._queue)
                continue
            wake_at = self._paused_until
            if len(self._starts) >= self.rate:
                wake_at = max(wake_at, min(s.at for s in self._starts) + self._window)
            if wake_at > now:
                self._wake_at(clock, wake_at)
                return
            heapq.heappop(self._queue)
            self._in_flight += 1
            self.started += 1
            ticket.start = Start(now, clock.time)
            self._starts.append(ticket.start)
            ticket.future.set_result(None)

    def _wake_at(self, clock: Clock, when: float) -> None:
        if self._timer is not None:
            if self._timer_at <= when:
                return  # an earlier wake-up is already set; it will look again
            self._timer.cancel()
        self._timer_at = when
        self._timer = clock.call_at(when, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._dispatch()
