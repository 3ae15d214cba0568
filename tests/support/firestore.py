"""The Firestore emulator (@firestore-emulator/server, gRPC) as a real process on 127.0.0.1.

scripts/test.sh installs it (`npm ci` in tests/firestore_emulator); the real
google-cloud-firestore client reaches it through FIRESTORE_EMULATOR_HOST.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .processes import start, stop
from .servers import REPO_ROOT, free_port
from .wait import wait_until

EMULATOR_DIR = REPO_ROOT / "tests" / "firestore_emulator"


@dataclass(frozen=True)
class FirestoreEmulator:
    """A running emulator: `host` is what FIRESTORE_EMULATOR_HOST takes."""

    host: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def env(self, **extra: str) -> dict[str, str]:
        """The function's environment for a Firestore store on this emulator."""
        return {
            "PRONTO_STORE": "firestore",
            "FIRESTORE_EMULATOR_HOST": self.host,
            "GOOGLE_CLOUD_PROJECT": "pronto-sheets-test",
            **extra,
        }


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def run_firestore_emulator(log_dir: Path) -> Iterator[FirestoreEmulator]:
    node = shutil.which("node")
    if node is None or not (EMULATOR_DIR / "node_modules" / "@firestore-emulator").is_dir():
        raise RuntimeError(
            "The Firestore emulator is not installed: run `npm ci` in tests/firestore_emulator "
            "(scripts/test.sh does), with Node.js 20 or later."
        )
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"firestore-{port}.log"
    with log_path.open("wb") as log_file:
        # Its own process group, stopped whole (SIGTERM, then SIGKILL), like every server here.
        process = start(
            [node, str(EMULATOR_DIR / "serve.js"), str(port)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=EMULATOR_DIR,
        )
        try:
            wait_until(
                lambda: process.poll() is not None or _accepts(port),
                timeout=30,
                what=f"the Firestore emulator on port {port}",
            )
            if process.poll() is not None:
                raise RuntimeError(f"the Firestore emulator exited:\n{log_path.read_text()}")
            yield FirestoreEmulator(f"127.0.0.1:{port}", process, log_path)
        finally:
            stop(process)
