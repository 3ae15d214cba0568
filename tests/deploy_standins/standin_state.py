"""What the gcloud and clasp stand-ins share: their JSON state, their call log, their errors.

The test that starts deploy.sh names two files in the environment:

- ``DEPLOY_STANDIN_STATE``: one JSON document holding everything the fake cloud knows
  (projects, enabled APIs, service accounts, project IAM bindings, secrets with their data,
  Firestore databases, functions, scheduler jobs; Apps Script projects and clasp pushes).
  The test seeds it and reads it back.
- ``DEPLOY_STANDIN_LOG``: JSON lines, one per invocation, ``{"tool", "argv", "cwd",
  "pronto_env", "env_sha256"}``: ``pronto_env`` lists the PRONTO_* variables the tool
  inherited and ``env_sha256`` the SHA-256 of every inherited value, so a test can prove
  the API key never reached a child process's environment, under any name.

Calls run one after another (deploy.sh never runs two at once), so no locking is needed.
"""

from __future__ import annotations

import json
import os
import sys
from hashlib import sha256
from pathlib import Path
from typing import Any, NoReturn

State = dict[str, Any]


class ToolError(Exception):
    """A failure the real tool would report: ``message`` on stderr, exit ``status``."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _path(variable: str) -> Path:
    value = os.environ.get(variable)
    if not value:
        sys.stderr.write(f"stand-in: {variable} is not set; only tests/test_deploy.py runs this\n")
        raise SystemExit(2)
    return Path(value)


def log_call(tool: str, argv: list[str]) -> None:
    """Append this invocation to the call log before anything else happens."""
    entry = {
        "tool": tool,
        "argv": argv,
        "cwd": os.getcwd(),
        "pronto_env": sorted(name for name in os.environ if name.startswith("PRONTO_")),
        "env_sha256": sorted({sha256(value.encode()).hexdigest() for value in os.environ.values()}),
    }
    with _path("DEPLOY_STANDIN_LOG").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")


def load_state() -> State:
    """The whole fake cloud, as last saved."""
    path = _path("DEPLOY_STANDIN_STATE")
    if not path.exists():
        return {}
    loaded: State = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def save_state(state: State) -> None:
    """Persist the fake cloud atomically, so a crash never leaves half a file."""
    path = _path("DEPLOY_STANDIN_STATE")
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
    temporary.replace(path)


def finish_with(error: ToolError) -> NoReturn:
    """Report ``error`` the way the real tool does and exit."""
    sys.stderr.write(error.message.rstrip("\n") + "\n")
    raise SystemExit(error.status)
