"""Waiting on a condition with a deadline: the suite's only way to wait for something.

A wait that reaches its deadline fails, naming what did not happen, so no later assertion
can pass on a state the test never reached. Tests never sleep to "let things settle".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

__all__ = ["WaitTimeout", "poll_until", "wait_until", "wait_until_async"]


class WaitTimeout(AssertionError):
    """A condition a test waited for never held: the test fails, saying what did not happen.

    An AssertionError, so pytest reports it as the test's failure, not as a crash.
    """


def poll_until(condition: Callable[[], bool], *, timeout: float, interval: float = 0.02) -> bool:
    """Whether `condition` held within `timeout` seconds (polled every `interval`).

    For callers that act on the answer (stop a process harder); tests use `wait_until`.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)  # the poll interval, bounded by the deadline above
    return True


def wait_until(
    condition: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.02
) -> None:
    """Return once `condition` holds; fail with `what` once `timeout` seconds have passed."""
    if not poll_until(condition, timeout=timeout, interval=interval):
        raise WaitTimeout(f"gave up after {timeout:g} s waiting for {what}")


async def wait_until_async(
    condition: Callable[[], bool | Awaitable[bool]],
    *,
    timeout: float,  # noqa: ASYNC109 - as wait_until's, so a wait reads the same either way
    what: str,
    interval: float = 0.01,
) -> None:
    """`wait_until` inside a running event loop, on the loop's clock (virtual in tests that
    run on tests/support/virtual_time.py); `condition` may be a coroutine function."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        held = condition()
        if not isinstance(held, bool):
            held = await held
        if held:
            return
        if loop.time() > deadline:
            raise WaitTimeout(f"gave up after {timeout:g} s waiting for {what}")
        await asyncio.sleep(interval)  # the poll interval, bounded by the deadline above
