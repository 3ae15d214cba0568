"""The gate: Pronto's rate and concurrency limits, strict priority, FIFO within a priority."""

from __future__ import annotations

import asyncio
import time

import pytest

from pronto_sheets.enrich.gate import Gate, Priority, Ticket


async def _grant_order(gate: Gate, asks: list[tuple[str, Priority]]) -> list[str]:
    """Hold the only slot, queue `asks`, release, and return the order they were granted."""
    order: list[str] = []
    await gate.acquire(Ticket(Priority.BACKGROUND))

    async def ask(name: str, priority: Priority) -> None:
        async with gate.slot(priority):
            order.append(name)

    tasks = [asyncio.create_task(ask(name, priority)) for name, priority in asks]
    await asyncio.sleep(0)  # let every task queue up behind the held slot
    gate.release()
    await asyncio.gather(*tasks)
    return order


async def test_strict_priority_then_first_come_first_served() -> None:
    """Interactive goes before batch before background; equal priorities keep their order."""
    gate = Gate(rate=1000, max_in_flight=1)
    order = await _grant_order(
        gate,
        [
            ("bg-1", Priority.BACKGROUND),
            ("batch-1", Priority.BATCH),
            ("typed", Priority.INTERACTIVE),
            ("batch-2", Priority.BATCH),
            ("bg-2", Priority.BACKGROUND),
        ],
    )
    assert order == ["typed", "batch-1", "batch-2", "bg-1", "bg-2"]


async def test_promoted_ticket_overtakes_bulk_work() -> None:
    """A queued background lookup promoted to interactive is served before other bulk work."""
    gate = Gate(rate=1000, max_in_flight=1)
    await gate.acquire(Ticket(Priority.BACKGROUND))
    order: list[str] = []

    async def ask(name: str, ticket: Ticket) -> None:
        await gate.acquire(ticket)
        order.append(name)
        gate.release()

    tickets = {f"bg-{i}": Ticket(Priority.BACKGROUND) for i in range(4)}
    tasks = [asyncio.create_task(ask(n, t)) for n, t in tickets.items()]
    await asyncio.sleep(0)
    gate.promote(tickets["bg-3"], Priority.INTERACTIVE)
    gate.release()
    await asyncio.gather(*tasks)
    assert order == ["bg-3", "bg-0", "bg-1", "bg-2"]


async def test_never_more_than_max_in_flight() -> None:
    """With 5 slots, 40 concurrent holders never exceed 5 at once, and all get through."""
    gate = Gate(rate=1000, max_in_flight=5)
    open_now = peak = 0

    async def call() -> None:
        nonlocal open_now, peak
        async with gate.slot(Priority.BATCH):
            open_now += 1
            peak = max(peak, open_now)
            await asyncio.sleep(0.005)
            open_now -= 1

    await asyncio.gather(*(call() for _ in range(40)))
    assert peak == 5
    assert gate.started == 40
    assert gate.in_flight == 0


async def test_rolling_window_is_never_exceeded() -> None:
    """No window of `window_s` ever holds more than `rate` starts, even in a burst of 30."""
    gate = Gate(rate=5, max_in_flight=100, window_s=0.1, safety_margin_s=0.0)
    starts: list[float] = []

    async def call() -> None:
        async with gate.slot(Priority.BATCH):
            starts.append(time.monotonic())

    await asyncio.gather(*(call() for _ in range(30)))
    starts.sort()
    assert len(starts) == 30
    for first, sixth in zip(starts, starts[5:], strict=False):
        assert sixth - first >= 0.1 - 1e-3


async def test_hold_off_pauses_every_start() -> None:
    """After Retry-After, nothing starts until the pause is over."""
    gate = Gate(rate=1000, max_in_flight=5)
    gate.hold_off(0.2)
    paused_at = time.monotonic()
    async with gate.slot(Priority.INTERACTIVE):
        resumed_at = time.monotonic()
    assert resumed_at - paused_at >= 0.19


async def test_cancelled_waiter_gives_its_place_back() -> None:
    """A request that stops waiting neither holds a slot nor blocks the queue."""
    gate = Gate(rate=1000, max_in_flight=1)
    await gate.acquire(Ticket(Priority.BATCH))
    waiter = asyncio.create_task(gate.acquire(Ticket(Priority.BATCH)))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    gate.release()
    async with gate.slot(Priority.BATCH):
        assert gate.in_flight == 1
    assert gate.in_flight == 0


def test_impossible_limits_are_refused() -> None:
    """A gate with no slots or no rate is a configuration error, said at once."""
    with pytest.raises(ValueError, match="rate >= 1"):
        Gate(rate=0, max_in_flight=5)
    with pytest.raises(ValueError, match='priority must be "interactive"'):
        Priority.parse("urgent")
