"""Run the function and the Pronto simulator as real local processes (demo, serve, bench).

The function is served exactly as Cloud Functions serves it (functions-framework with
target `pronto`), in its own process, so what runs locally is what gets deployed.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx


def function_source() -> Path:
    """The file functions-framework serves: the deployed entry point, found in the installed
    package (not in a checkout), so this works from any directory."""
    spec = importlib.util.find_spec("pronto_sheets.http.entry")
    if spec is None or spec.origin is None:
        raise RuntimeError("pronto_sheets is not installed: run pip install .")
    return Path(spec.origin)


SIMULATOR_KEY = "sim-key"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(url: str, process: subprocess.Popen[bytes], *, timeout_s: float = 30.0) -> None:
    """Return once `url` answers; raise if the process died or the deadline passed."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{' '.join(process.args)} exited with {process.returncode}")  # type: ignore[arg-type]
        try:
            if httpx.get(url, timeout=0.5).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout_s:.0f} s")


@contextmanager
def running(
    args: list[str], ready_url: str, env: Mapping[str, str] | None = None, *, quiet: bool = True
) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
        args,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL if quiet else None,
        stderr=subprocess.DEVNULL if quiet else None,
        # Its own process group: functions-framework serves through a gunicorn worker (a
        # child), which `stop` must end too or it outlives us holding the port.
        start_new_session=True,
    )
    try:
        wait_for_http(ready_url, process)
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ask a server's whole process group to stop (SIGTERM); kill it if not gone in 10 s."""
    _signal_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL)
        process.wait(timeout=10)
    # The leader may exit before its workers: make sure none of the group is left.
    _signal_group(process, signal.SIGKILL)


def _signal_group(process: subprocess.Popen[bytes], signum: signal.Signals) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


@dataclass(frozen=True)
class LocalStack:
    function_url: str
    token: str
    simulator_url: str | None


def simulator_args(port: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "pronto_sheets_dev.simulator", "--port", str(port), *extra]


def function_args(port: int) -> list[str]:
    return [
        sys.executable, "-m", "functions_framework",
        "--source", str(function_source()), "--target", "pronto",
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip


@contextmanager
def local_stack(
    *,
    simulator_options: tuple[str, ...] = (),
    function_env: Mapping[str, str] | None = None,
    quiet: bool = True,
) -> Iterator[LocalStack]:
    """The Pronto simulator and the function pointed at it, each in its own process.

    The simulator's answers are made up: unless PRONTO_STORE says otherwise, the function
    keeps them in a temporary store that goes with the stack, never in the person's cache.
    """
    token = secrets.token_urlsafe(24)
    with ExitStack() as stack:
        store: dict[str, str] = {}
        if "PRONTO_STORE" not in {**os.environ, **(function_env or {})}:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="pronto-demo-"))
            store["PRONTO_STORE"] = f"sqlite://{folder}/store.db"
        sim_port = free_port()
        simulator_url = f"http://127.0.0.1:{sim_port}"
        stack.enter_context(
            running(simulator_args(sim_port, *simulator_options), simulator_url + "/healthz")
        )
        fn_port = free_port()
        env = {
            "PRONTO_API_KEY": SIMULATOR_KEY,
            "PRONTO_BASE_URL": simulator_url,
            "PRONTO_SHEETS_TOKENS": token,
            **store,
            **(function_env or {}),
        }
        function_url = f"http://127.0.0.1:{fn_port}"
        stack.enter_context(
            running(function_args(fn_port), function_url + "/healthz", env, quiet=quiet)
        )
        yield LocalStack(function_url, token, simulator_url)
