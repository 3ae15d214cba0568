"""Start real server processes on 127.0.0.1 and wait for them on a condition, never a sleep.

Every test double here is a real HTTP server in its own process: the Pronto simulator,
the Sheets API emulator and the function itself served by functions-framework.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import coverage
import httpx

from pronto_sheets_dev.local_stack import free_port

from .processes import start, stop
from .wait import wait_until

__all__ = ["free_port", "serve_process", "wait_until"]

REPO_ROOT = Path(__file__).resolve().parents[2]
COVERAGE_HOOK = Path(__file__).resolve().parent / "coverage_hook"
FUNCTION_DIR = REPO_ROOT / "function"
VENV_BIN = Path(sys.executable).parent


@dataclass
class ServedProcess:
    """A server process and the base URL it answers on."""

    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=0.5).status_code < 500
    except httpx.HTTPError:
        return False


@contextmanager
def serve_process(
    args: Sequence[str],
    *,
    port: int,
    ready_path: str,
    env: Mapping[str, str] | None = None,
    log_dir: Path,
    name: str,
    startup_timeout: float = 30.0,
    measure: bool = False,
) -> Iterator[ServedProcess]:
    """Run `args` until the context exits; yield once GET `ready_path` answers below 500.

    `measure`: when the tests run under coverage, measure the process too (the function's
    processes; the simulator and the emulator are tools, not the deployed package).
    """
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    if measure and coverage.Coverage.current() is not None:
        # Measured as the tests are, saved even when a signal stops it (coverage_hook/).
        full_env["COVERAGE_PROCESS_START"] = str(REPO_ROOT / "pyproject.toml")
        full_env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(COVERAGE_HOOK), full_env.get("PYTHONPATH")) if p
        )
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}-{port}.log"
    with log_path.open("wb") as log_file:
        # Its own process group, stopped whole: functions-framework's gunicorn worker too.
        process = start(
            args, env=full_env, stdout=log_file, stderr=subprocess.STDOUT, cwd=REPO_ROOT
        )
        served = ServedProcess(process, f"http://127.0.0.1:{port}", log_path)
        try:
            wait_until(
                lambda: process.poll() is not None or _answers(served.base_url + ready_path),
                timeout=startup_timeout,
                what=f"{name} on port {port}",
            )
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{served.log()}")
            yield served
        finally:
            stop(process)


def pronto_sheets_command(*args: str) -> list[str]:
    """The project's CLI run with this interpreter (works before and after `pip install -e`)."""
    return [sys.executable, "-m", "pronto_sheets_cli.cli", *args]


def functions_framework_command(port: int) -> list[str]:
    """The function served exactly as Cloud Functions serves it."""
    return [
        str(VENV_BIN / "functions-framework"),
        "--source",
        str(FUNCTION_DIR / "main.py"),
        "--target",
        "pronto",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
