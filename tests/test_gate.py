"""The gate: Pronto's rate and concurrency limits, strict priority, FIFO within a priority.

Every test runs on virtual time (tests/support/virtual_time.py): the gate's clock is the
running loop, whose time moves only when every task waits, straight to the next timer.
So the times asserted below are exact, and none of these tests sleeps in real time.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from pronto_sheets.enrich.gate import Gate, Priority, Start, Ticket
from tests.support.virtual_time import VirtualTimeDeadlock, VirtualTimeLoop, now, on_virtual_time

# Gate(window_s=1.0) keeps each start in its window for 1 s plus this margin.
WINDOW = 1.03


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


async def _starts_of(gate: Gate, count: int, *, hold_s: float = 0.0) -> list[float]:
    """Run `count` concurrent calls through `gate`, each open `hold_s`; their start times."""
    starts: list[float] = []

    async def call() -> None:
        async with gate.slot(Priority.BATCH):
            starts.append(now())
            await asyncio.sleep(hold_s)

    await asyncio.gather(*(call() for _ in range(count)))
    return starts


@on_virtual_time
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


@on_virtual_time
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


@on_virtual_time
async def test_promotion_never_demotes_and_is_kept_once_granted() -> None:
    """Promoting to a lower priority changes nothing; a granted ticket just records it."""
    gate = Gate(rate=1000, max_in_flight=1)
    await gate.acquire(Ticket(Priority.BACKGROUND))
    typed = Ticket(Priority.INTERACTIVE)
    bulk = Ticket(Priority.BATCH)
    order: list[str] = []

    async def ask(name: str, ticket: Ticket) -> None:
        await gate.acquire(ticket)
        order.append(name)
        gate.release()

    tasks = [asyncio.create_task(ask("bulk", bulk)), asyncio.create_task(ask("typed", typed))]
    await asyncio.sleep(0)
    gate.promote(typed, Priority.BACKGROUND)  # "promoting" downwards: ignored
    gate.release()
    await asyncio.gather(*tasks)
    assert order == ["typed", "bulk"]
    assert typed.priority is Priority.INTERACTIVE
    gate.promote(bulk, Priority.INTERACTIVE)  # already served: only the label moves
    assert bulk.priority is Priority.INTERACTIVE
    assert gate.in_flight == 0


@on_virtual_time
async def test_promotion_jumps_a_queue_held_by_the_rate_window() -> None:
    """While the window is full, a promoted ticket is the first to start when it reopens."""
    gate = Gate(rate=2, max_in_flight=100)
    await _starts_of(gate, 2)  # both starts at t=0: the window is full until t=1.03
    order: list[tuple[str, float]] = []
    tickets = {name: Ticket(Priority.BACKGROUND) for name in ("a", "b", "c")}

    async def ask(name: str) -> None:
        async with gate.slot(tickets[name]):
            order.append((name, now()))

    tasks = [asyncio.create_task(ask(name)) for name in tickets]
    await asyncio.sleep(0.5)
    gate.promote(tickets["c"], Priority.INTERACTIVE)
    await asyncio.gather(*tasks)
    assert [name for name, _ in order] == ["c", "a", "b"]
    assert [at for _, at in order] == pytest.approx([WINDOW, WINDOW, 2 * WINDOW])


@on_virtual_time
async def test_never_more_than_max_in_flight() -> None:
    """With 5 slots, 40 calls of 5 ms each run 5 at a time, back to back: 8 rounds, 40 ms."""
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
    assert now() == pytest.approx(0.040)
    assert gate.started == 40
    assert gate.in_flight == 0


@on_virtual_time
async def test_a_freed_slot_goes_at_once_to_the_next_in_line() -> None:
    """The in-flight cap costs no time beyond the calls themselves: starts follow releases."""
    gate = Gate(rate=1000, max_in_flight=2)
    starts = await _starts_of(gate, 6, hold_s=0.25)
    assert starts == pytest.approx([0.0, 0.0, 0.25, 0.25, 0.5, 0.5])


@on_virtual_time
async def test_rolling_window_is_never_exceeded() -> None:
    """A burst of 30 at 5 per 0.1 s starts in exact groups of 5, one window apart."""
    gate = Gate(rate=5, max_in_flight=100, window_s=0.1, safety_margin_s=0.0)
    starts = await _starts_of(gate, 30)
    assert starts == pytest.approx([0.1 * (i // 5) for i in range(30)])
    for first, sixth in zip(starts, starts[5:], strict=False):
        assert sixth - first >= 0.1 - 1e-9


@on_virtual_time
async def test_the_window_includes_the_safety_margin() -> None:
    """Pronto's 50 per second becomes 50 per 1.03 s: arrival jitter cannot make a 51st."""
    gate = Gate(rate=50, max_in_flight=1000)
    starts = await _starts_of(gate, 120)
    assert starts[:50] == [0.0] * 50
    assert starts[50:100] == pytest.approx([WINDOW] * 50)
    assert starts[100:] == pytest.approx([2 * WINDOW] * 20)


@on_virtual_time
async def test_the_window_counts_from_when_a_call_was_sent() -> None:
    """A call granted at 0 but sent at 0.4 keeps its place in the window until 1.43."""
    gate = Gate(rate=1, max_in_flight=10)
    second_at: list[float] = []

    async def late_sender() -> None:
        async with gate.slot(Priority.BATCH) as start:
            await asyncio.sleep(0.4)  # connection set-up: the bytes leave late
            start.sending()
            assert start.at == pytest.approx(0.4)

    async def next_call() -> None:
        async with gate.slot(Priority.BATCH):
            second_at.append(now())

    await asyncio.gather(late_sender(), next_call())
    assert second_at == [pytest.approx(0.4 + WINDOW)]


@on_virtual_time
async def test_hold_off_pauses_every_start() -> None:
    """After Retry-After: 2, nothing starts before t=2, and everything waiting starts then."""
    gate = Gate(rate=1000, max_in_flight=5)
    gate.hold_off(2.0)
    waiters = [asyncio.create_task(gate.acquire(Ticket(Priority.INTERACTIVE))) for _ in range(3)]
    await asyncio.sleep(1.999)
    assert not any(w.done() for w in waiters)
    assert gate.in_flight == 0
    starts = await asyncio.gather(*waiters)
    assert now() == pytest.approx(2.0)
    assert [s.at for s in starts] == pytest.approx([2.0] * 3)


@on_virtual_time
async def test_hold_off_keeps_the_longest_pause() -> None:
    """A shorter Retry-After during a longer one does not cut the pause short."""
    gate = Gate(rate=1000, max_in_flight=5)
    gate.hold_off(3.0)
    waiter = asyncio.create_task(gate.acquire(Ticket(Priority.BATCH)))
    await asyncio.sleep(1.0)
    gate.hold_off(0.5)  # would end at 1.5: the pause already runs to 3.0
    start = await waiter
    assert start.at == pytest.approx(3.0)


@on_virtual_time
async def test_hold_off_longer_than_the_window_wait_moves_the_wake_up_later() -> None:
    """A pause that ends after the window reopens holds the queue until the pause ends."""
    gate = Gate(rate=1, max_in_flight=5)
    await _starts_of(gate, 1)  # window full until 1.03
    waiter = asyncio.create_task(gate.acquire(Ticket(Priority.BATCH)))
    await asyncio.sleep(0.5)
    gate.hold_off(2.0)  # until 2.5
    start = await waiter
    assert start.at == pytest.approx(2.5)


@on_virtual_time
async def test_a_shorter_pause_than_the_window_wait_changes_nothing() -> None:
    """A pause ending before the window reopens leaves the start at the window's end."""
    gate = Gate(rate=1, max_in_flight=5)
    await _starts_of(gate, 1)
    waiter = asyncio.create_task(gate.acquire(Ticket(Priority.BATCH)))
    await asyncio.sleep(0.2)
    gate.hold_off(0.3)  # until 0.5, the window holds until 1.03
    start = await waiter
    assert start.at == pytest.approx(WINDOW)


@on_virtual_time
async def test_interactive_arriving_during_a_pause_goes_first_after_it() -> None:
    """Bulk work queued before a pause does not start before a formula queued during it."""
    gate = Gate(rate=1000, max_in_flight=1)
    gate.hold_off(1.0)
    order: list[tuple[str, float]] = []

    async def ask(name: str, priority: Priority) -> None:
        async with gate.slot(priority):
            order.append((name, now()))
            await asyncio.sleep(0.1)

    bulk = [asyncio.create_task(ask(f"bulk-{i}", Priority.BATCH)) for i in range(2)]
    await asyncio.sleep(0.5)
    typed = asyncio.create_task(ask("typed", Priority.INTERACTIVE))
    await asyncio.gather(*bulk, typed)
    assert [name for name, _ in order] == ["typed", "bulk-0", "bulk-1"]
    assert [at for _, at in order] == pytest.approx([1.0, 1.1, 1.2])


@on_virtual_time
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


@on_virtual_time
async def test_a_waiter_timing_out_during_a_pause_leaves_no_trace() -> None:
    """`wait_for` giving up on a paused gate frees nothing it did not hold; later calls go."""
    gate = Gate(rate=1000, max_in_flight=1)
    gate.hold_off(5.0)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(gate.acquire(Ticket(Priority.INTERACTIVE)), timeout=1.0)
    assert now() == pytest.approx(1.0)
    start = await gate.acquire(Ticket(Priority.BATCH))
    assert start.at == pytest.approx(5.0)
    assert (gate.in_flight, gate.started) == (1, 1)


@on_virtual_time
async def test_a_waiter_granted_as_it_is_cancelled_returns_the_slot() -> None:
    """Cancelled after its grant but before it resumed: the slot goes to the next one."""
    gate = Gate(rate=1000, max_in_flight=1)
    await gate.acquire(Ticket(Priority.BATCH))
    unlucky = asyncio.create_task(gate.acquire(Ticket(Priority.BATCH)))
    await asyncio.sleep(0)
    gate.release()  # grants `unlucky`, which has not resumed yet
    unlucky.cancel()
    with pytest.raises(asyncio.CancelledError):
        await unlucky
    assert gate.in_flight == 0
    async with gate.slot(Priority.BATCH):
        assert gate.in_flight == 1


def test_an_explicit_clock_is_the_only_time_source() -> None:
    """Given a clock, the gate reads and schedules on it, not on the loop or the wall."""

    class StoppedClock:
        """Stands still at 100.0 and records the wake-ups asked of it."""

        def __init__(self) -> None:
            self.asked: list[float] = []

        def time(self) -> float:
            return 100.0

        def call_at(self, when: float, callback: object, /) -> asyncio.Handle:
            self.asked.append(when)
            return asyncio.get_running_loop().call_soon(lambda: None)

    async def main() -> None:
        clock = StoppedClock()
        gate = Gate(rate=1, max_in_flight=5, clock=clock)
        first = await gate.acquire(Ticket(Priority.BATCH))
        waiter = asyncio.create_task(gate.acquire(Ticket(Priority.BATCH)))
        await asyncio.sleep(0)
        assert first.at == 100.0
        assert clock.asked == [pytest.approx(100.0 + WINDOW)]
        assert not waiter.done()
        waiter.cancel()

    asyncio.run(main())


def test_virtual_time_fails_a_test_that_would_hang() -> None:
    """Waiting on a gate that nothing will ever release is an error, not a hang."""

    async def main() -> None:
        gate = Gate(rate=1000, max_in_flight=1)
        await gate.acquire(Ticket(Priority.BATCH))
        await gate.acquire(Ticket(Priority.BATCH))

    started = time.monotonic()
    with (
        pytest.raises(VirtualTimeDeadlock),
        asyncio.Runner(loop_factory=VirtualTimeLoop) as runner,
    ):
        runner.run(main())
    assert time.monotonic() - started < 5


def test_a_ticket_not_yet_granted_has_no_send_time() -> None:
    """Marking "sent" on a start that was never granted is a bug, said at once."""
    with pytest.raises(RuntimeError, match="not been granted"):
        Ticket(Priority.BATCH).start.sending()
    assert isinstance(Ticket(Priority.BATCH).start, Start)


def test_impossible_limits_are_refused() -> None:
    """A gate with no slots or no rate is a configuration error, said at once."""
    with pytest.raises(ValueError, match="rate >= 1"):
        Gate(rate=0, max_in_flight=5)
    with pytest.raises(ValueError, match="rate >= 1"):
        Gate(rate=5, max_in_flight=0)
    with pytest.raises(ValueError, match='priority must be "interactive"'):
        Priority.parse("urgent")
    assert Priority.parse(None) is Priority.BATCH
    assert Priority.parse(" Interactive ") is Priority.INTERACTIVE
