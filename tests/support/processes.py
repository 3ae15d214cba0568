"""Processes the tests start: each leads a session (and process group) of its own, and is
stopped with everything in it, so no process outlives the test that started it.

Why the whole group: functions-framework serves through gunicorn, whose worker is a child
of the process a test starts. Stopping (or SIGKILLing) only that process leaves the worker
orphaned and holding its port, which is how the suite used to leave servers behind.

`leftovers()` is the suite's check at the end of a session (tests/support/leftovers.py):
it reads /proc (Linux), so it needs no dependency.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .wait import poll_until

__all__ = [
    "OWNER_VARIABLE",
    "Leftover",
    "end",
    "kill",
    "leftovers",
    "run",
    "start",
    "started",
    "stop",
]

# Set by the leftovers plugin to a value of its own in each test process (each xdist worker
# too); every process started from it inherits it, so an orphan is still recognised.
OWNER_VARIABLE = "PRONTO_TESTS_OWNER"
# How long a group has to stop after SIGTERM, then after SIGKILL.
GRACE_S = 10.0

# Sessions started by `start` in this process: their members are ours even once orphaned.
_sessions: set[int] = set()


@dataclass(frozen=True)
class _Proc:
    pid: int
    ppid: int
    session: int
    zombie: bool


@dataclass(frozen=True)
class Leftover:
    """A process still alive that this test process started (directly or not)."""

    pid: int
    command: str
    started_by: str  # the test running when it started, when its environment says so

    def __str__(self) -> str:
        return f"pid {self.pid}: {self.command} (started during {self.started_by})"


def start(args: Sequence[str], **options: Any) -> subprocess.Popen[Any]:
    """`subprocess.Popen(args, **options)`, the process leading a new session and group."""
    process: subprocess.Popen[Any] = subprocess.Popen(list(args), start_new_session=True, **options)
    _sessions.add(process.pid)
    return process


def stop(process: subprocess.Popen[Any], *, grace_s: float = GRACE_S) -> None:
    """SIGTERM to the process and everything in its session; SIGKILL to what is left after
    `grace_s`; return once all of it is gone (raise if even SIGKILL did not end it)."""
    _signal_session(process, signal.SIGTERM)
    if _gone_within(process, grace_s):
        return
    kill(process, grace_s=grace_s)


def kill(process: subprocess.Popen[Any], *, grace_s: float = GRACE_S) -> None:
    """SIGKILL to the process and everything in its session (no shutdown code runs, as
    when an instance is torn down); return once all of it is gone."""
    _signal_session(process, signal.SIGKILL)
    if not _gone_within(process, grace_s):
        alive = {p.pid for p in _members(process.pid)}
        if process.poll() is None:
            alive.add(process.pid)
        raise RuntimeError(
            f"{process.args!r}: processes {sorted(alive)} survived SIGKILL"
            " (was it started with tests/support/processes.py's start?)"
        )


def run(args: Sequence[str], *, timeout: float, **options: Any) -> subprocess.CompletedProcess[Any]:
    """`subprocess.run(args, timeout=..., **options)` in a session of its own: on timeout
    or interrupt the whole session is stopped, not only the first process."""
    process = start(args, **options)
    try:
        out, err = process.communicate(timeout=timeout)
    finally:
        stop(process)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@contextlib.contextmanager
def started(args: Sequence[str], **options: Any) -> Iterator[subprocess.Popen[Any]]:
    """`start` for the length of a `with` block: stopped with its session on the way out,
    whether the block passed, failed or was interrupted."""
    process = start(args, **options)
    try:
        yield process
    finally:
        stop(process)


def leftovers(owner: str | None) -> list[Leftover]:
    """Processes still alive that this process started: its descendants, the members of the
    sessions `start` opened (even once orphaned), and any process whose environment carries
    `OWNER_VARIABLE=owner` (an orphan of any other process a test started)."""
    procs = _snapshot()
    me = os.getpid()
    children: dict[int, list[int]] = {}
    for proc in procs.values():
        children.setdefault(proc.ppid, []).append(proc.pid)
    ours: set[int] = set()
    todo = list(children.get(me, []))
    while todo:
        pid = todo.pop()
        if pid not in ours:
            ours.add(pid)
            todo.extend(children.get(pid, []))
    ours |= {p.pid for p in procs.values() if p.session in _sessions}
    if owner is not None:
        ours |= {pid for pid in procs if _environment(pid).get(OWNER_VARIABLE) == owner}
    alive = sorted(pid for pid in ours if pid != me and pid in procs and not procs[pid].zombie)
    return [
        Leftover(
            pid,
            _command(pid),
            _environment(pid).get("PYTEST_CURRENT_TEST", "no test (session set-up)"),
        )
        for pid in alive
    ]


def end(pids: Sequence[int]) -> None:
    """SIGKILL each of `pids` (what `leftovers` found), so a failed run leaves nothing."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    for pid in pids:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, 0)  # our own child: reap it; anyone else's: not ours to reap


def _signal_session(process: subprocess.Popen[Any], sig: signal.Signals) -> None:
    # killpg reaches the group, but only while the leader is not reaped: until then its
    # pid (the group's id) cannot have been given to another process. Members are also
    # signalled one by one: those that moved to a group of their own, or outlived the leader.
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
    for member in _members(process.pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(member.pid, sig)


def _gone_within(process: subprocess.Popen[Any], timeout: float) -> bool:
    # poll() reaps the leader; its children, orphaned, are reaped by whoever adopts them.
    return poll_until(
        lambda: process.poll() is not None and not _members(process.pid), timeout=timeout
    )


def _members(session: int) -> list[_Proc]:
    return [p for p in _snapshot().values() if p.session == session and not p.zombie]


def _snapshot() -> dict[int, _Proc]:
    procs: dict[int, _Proc] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # it ended while we looked
        # "pid (comm) state ppid pgrp session ...": comm may hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        pid = int(entry.name)
        procs[pid] = _Proc(pid, int(fields[1]), int(fields[3]), fields[0] in ("Z", "X"))
    return procs


def _environment(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}  # ended, or another user's
    pairs = (item.decode(errors="replace").partition("=") for item in raw.split(b"\0") if item)
    return {name: value for name, _, value in pairs}


def _command(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)
