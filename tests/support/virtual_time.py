"""An asyncio event loop on virtual time: tests of timing that never wait in real time.

`VirtualTimeLoop.time()` starts at 0.0 and moves only when nothing is ready to run: the
loop then jumps straight to its next timer. Everything scheduled on the loop —
`asyncio.sleep`, `wait_for`, `call_at`, and the gate, whose default clock is the running
loop — sees the same virtual seconds, so "the next start is at exactly 1.03 s" is an
exact assertion and a test of a 60 s pause takes microseconds.

A test that would wait forever (nothing ready, nothing scheduled, no I/O) fails at once
with `VirtualTimeDeadlock` instead of hanging.
"""

from __future__ import annotations

import asyncio
import functools
import selectors
from collections.abc import Callable, Coroutine
from typing import Any


class VirtualTimeDeadlock(RuntimeError):
    """The loop has nothing to run and nothing scheduled: the test would hang."""


class _JumpingSelector(selectors.DefaultSelector):
    """Polls real file descriptors without blocking; when idle, moves the clock instead."""

    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[tuple[Any, int]]:
        ready: list[tuple[Any, int]] = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:
            raise VirtualTimeDeadlock(
                "every task is waiting and no timer is set: this test would wait forever"
            )
        self._loop.advance(timeout)
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose clock is virtual and jumps to the next timer when idle."""

    def __init__(self) -> None:
        self._now = 0.0
        super().__init__(_JumpingSelector(self))

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds


def on_virtual_time(
    test: Callable[[], Coroutine[Any, Any, None]],
) -> Callable[[], None]:
    """Run the coroutine test `test` to completion on a fresh `VirtualTimeLoop`."""

    @functools.wraps(test)
    def run() -> None:
        with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
            runner.run(test())

    return run


def now() -> float:
    """The running loop's time: virtual seconds since the test started."""
    return asyncio.get_running_loop().time()
