"""No process outlives the suite: what a test starts is stopped with its whole process
group, and a process left behind fails the run (tests/support/processes.py, leftovers.py).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path
from subprocess import PIPE

import pytest

from tests.support import processes
from tests.support.servers import REPO_ROOT
from tests.support.wait import WaitTimeout, wait_until, wait_until_async


def _nonce_sleep() -> list[str]:
    """A `sleep` whose command line no other process has, so it can be found in /proc."""
    return ["sleep", f"3600.{secrets.randbelow(10**9):09d}"]


def _running(command: list[str]) -> bool:
    wanted = "\0".join(command).encode()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().rstrip(b"\0") == wanted:
                status = (entry / "stat").read_text()
                if status[status.rindex(")") + 2] not in "ZX":
                    return True
        except OSError:
            continue
    return False


def _server_with_a_worker(sleeper: list[str]) -> subprocess.Popen[bytes]:
    """A parent that starts a child and waits on it, as gunicorn does with its worker."""
    process = processes.start(["sh", "-c", f"{' '.join(sleeper)} & wait"])
    wait_until(lambda: _running(sleeper), timeout=10, what="the worker to start")
    return process


@pytest.mark.parametrize("end", ["stop", "kill"])
def test_stopping_a_server_ends_its_worker_too(end: str) -> None:
    """Stopped (SIGTERM) or killed (SIGKILL, as the store tests kill the function), a server
    leaves no worker behind: functions-framework's gunicorn worker used to outlive it."""
    sleeper = _nonce_sleep()
    process = _server_with_a_worker(sleeper)
    getattr(processes, end)(process)
    assert process.returncode is not None
    assert not _running(sleeper)


def test_a_process_left_running_is_found_with_the_test_that_started_it() -> None:
    """The end-of-session check lists a process a test started and did not stop, naming
    its command and the test; stopped, it is no longer listed."""
    sleeper = _nonce_sleep()
    process = processes.start(sleeper)
    try:
        left = processes.leftovers(os.environ[processes.OWNER_VARIABLE])
        assert [(p.command, p.started_by) for p in left if p.pid == process.pid] == [
            (
                " ".join(sleeper),
                os.environ["PYTEST_CURRENT_TEST"],
            )
        ]
    finally:
        processes.stop(process)
    assert process.pid not in {
        p.pid for p in processes.leftovers(os.environ[processes.OWNER_VARIABLE])
    }


def test_an_orphan_started_by_any_means_is_found() -> None:
    """A process whose parent exited (re-parented away from the tests, in a session of its
    own) is still found: it carries the test process's mark in its environment."""
    sleeper = _nonce_sleep()
    # setsid: its own session; `&` then exit: its parent is gone at once.
    subprocess.run(["sh", "-c", f"setsid {' '.join(sleeper)} >/dev/null 2>&1 &"], check=True)
    wait_until(lambda: _running(sleeper), timeout=10, what="the orphan to start")
    left = [
        p
        for p in processes.leftovers(os.environ[processes.OWNER_VARIABLE])
        if p.command == " ".join(sleeper)
    ]
    processes.end([p.pid for p in left])
    assert len(left) == 1
    wait_until(lambda: not _running(sleeper), timeout=10, what="the orphan to be killed")


def _own_run_environment() -> dict[str, str]:
    """This environment without what makes a pytest run part of this one (xdist, coverage)."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTEST_", "COV_CORE_", "COVERAGE_"))
    }


LEAKING_TESTS = """
import subprocess


def test_leaks_a_process():
    subprocess.Popen({sleeper!r})


def test_starts_nothing():
    pass
"""


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_run_that_leaves_a_process_behind_fails_and_kills_it(
    tmp_path: Path, workers: str
) -> None:
    """A run (alone, or on two pytest-xdist workers) whose test leaves a process running
    fails, names that process and the test, and kills it."""
    sleeper = _nonce_sleep()
    (tmp_path / "test_leak.py").write_text(
        textwrap.dedent(LEAKING_TESTS.format(sleeper=sleeper)), encoding="utf-8"
    )
    done = processes.run(
        [
            *(sys.executable, "-m", "pytest", "-q", "-n", workers, "test_leak.py"),
            *("-p", "tests.support.leftovers", "-p", "xdist", "-p", "no:cacheprovider"),
        ],
        cwd=tmp_path,
        env={**_own_run_environment(), "PYTHONPATH": str(REPO_ROOT)},
        stdout=PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout
    assert "1 process(es) started by the tests outlived them (now killed)" in done.stdout
    assert f"{' '.join(sleeper)} (started during test_leak.py::test_leaks_a_process" in (
        done.stdout
    )
    assert not _running(sleeper)


def test_a_wait_that_reaches_its_deadline_fails_saying_what_did_not_happen() -> None:
    """A wait never carries on silently: at its deadline the test fails with `what`."""
    with pytest.raises(WaitTimeout, match=r"gave up after 0\.05 s waiting for the answer"):
        wait_until(lambda: False, timeout=0.05, what="the answer")


async def test_an_async_wait_that_reaches_its_deadline_fails_too() -> None:
    """The same inside an event loop, with a coroutine for a condition."""

    async def never() -> bool:
        return False

    with pytest.raises(WaitTimeout, match=r"gave up after 0\.05 s waiting for the answer"):
        await wait_until_async(never, timeout=0.05, what="the answer")
