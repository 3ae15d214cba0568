"""A pytest plugin: the run fails when a process a test started is still alive at the end.

Loaded by tests/conftest.py. It works per test process, so under pytest-xdist each worker
checks what it started. The check runs when the session's fixtures are torn down, after
every server fixture has stopped its server; a failure is reported as an error in the
teardown of the worker's last test, names each process (its command and the test that was
running when it started) and ends them, so a failed run leaves nothing behind either.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.support.processes import OWNER_VARIABLE, end, leftovers


def pytest_configure(config: pytest.Config) -> None:
    # A value of this process's own (an xdist worker inherits its controller's, and
    # replaces it), inherited by everything started from here on.
    os.environ[OWNER_VARIABLE] = f"{os.getpid()}-{uuid.uuid4().hex}"


@pytest.fixture(scope="session", autouse=True)
def _no_process_outlives_the_session() -> Iterator[None]:
    """Set up before any other session fixture, so torn down after all of them."""
    yield
    left = leftovers(os.environ.get(OWNER_VARIABLE))
    if left:
        end([process.pid for process in left])
        listed = "\n  ".join(str(process) for process in left)
        pytest.fail(
            f"{len(left)} process(es) started by the tests outlived them (now killed):\n"
            f"  {listed}\nStop every process a test starts with tests/support/processes.py "
            "(stop, kill, run or started), which ends its whole process group.",
            pytrace=False,
        )
