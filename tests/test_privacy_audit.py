"""scripts/audit_lock.py: the deploy's lock is checked against PyPI's advisories.

pip-audit itself always asks pypi.org, so these tests run the script's other path, the
PyPI project endpoint, against a fake PyPI on 127.0.0.1 that answers like
https://pypi.org/pypi/NAME/json (the latest release, with its ``vulnerabilities``).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

# scripts/ is not a package: load the script as `python scripts/audit_lock.py` runs it.
_SPEC = importlib.util.spec_from_file_location(
    "audit_lock", Path(__file__).resolve().parents[1] / "scripts" / "audit_lock.py"
)
assert _SPEC is not None and _SPEC.loader is not None
audit_lock = importlib.util.module_from_spec(_SPEC)
sys.modules["audit_lock"] = audit_lock  # dataclasses look their module up there
_SPEC.loader.exec_module(audit_lock)

LOCK = """\
# a lock as scripts/lock.sh writes it
httpx==0.28.1 \\
    --hash=sha256:d909fcccc110f8c7faf814ca82a9a4d816bc5a6dbfea25d6591d6985b8ba59ad
    # via -r function-dependencies.in
idna==3.10 \\
    --hash=sha256:946d195a0d259cbba61165e88e65941f16e9b36ea6ddb97f00452bae8b1287d3
"""


def project(version: str, vulnerabilities: list[dict[str, Any]]) -> dict[str, Any]:
    """The parts of PyPI's project JSON the script reads."""
    return {"info": {"version": version}, "vulnerabilities": vulnerabilities}


class FakePyPI:
    """Serves /pypi/NAME/json from ``projects``; anything else is a 404, as a lean mirror."""

    def __init__(self) -> None:
        self.projects: dict[str, dict[str, Any]] = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = self.path.strip("/").split("/")
                found = None
                if len(parts) == 3 and parts[0] == "pypi" and parts[2] == "json":
                    found = fake.projects.get(parts[1])
                body = json.dumps(found).encode() if found is not None else b""
                self.send_response(200 if found is not None else 404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def pypi() -> Iterator[FakePyPI]:
    fake = FakePyPI()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def run(tmp_path: Path, pypi: FakePyPI, *extra: str) -> int:
    lock = tmp_path / "requirements.txt"
    lock.write_text(LOCK)
    status: int = audit_lock.main(
        ["--lock", str(lock), "--index", pypi.url, "--no-pip-audit", *extra]
    )
    return status


def test_a_known_vulnerability_with_a_fix_fails_the_check(
    tmp_path: Path, pypi: FakePyPI, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pinned release with an advisory fixed in a later release fails, naming the fix."""
    pypi.projects["httpx"] = project(
        "0.28.1", [{"id": "GHSA-xxxx-yyyy-zzzz", "fixed_in": ["0.28.2"], "withdrawn": None}]
    )
    pypi.projects["idna"] = project("3.10", [])
    assert run(tmp_path, pypi) == 1
    out = capsys.readouterr().out
    assert (
        "VULNERABLE httpx 0.28.1: GHSA-xxxx-yyyy-zzzz, fixed in 0.28.2. Raise the range in "
        "pyproject.toml if needed and run scripts/lock.sh." in out
    )
    assert "2 of 2 pinned releases audited against PyPI's advisories; 1 known" in out


def test_a_clean_lock_and_an_unfixed_advisory_pass(
    tmp_path: Path, pypi: FakePyPI, capsys: pytest.CaptureFixture[str]
) -> None:
    """No advisory, or one no release fixes yet (nothing to upgrade to): the check passes."""
    pypi.projects["httpx"] = project("0.28.1", [{"id": "PYSEC-1", "fixed_in": []}])
    pypi.projects["idna"] = project("3.10", [])
    assert run(tmp_path, pypi) == 0
    assert "known, no fix yet: httpx 0.28.1: PYSEC-1" in capsys.readouterr().out


def test_a_pin_that_cannot_be_audited_fails_unless_told_to_warn(
    tmp_path: Path, pypi: FakePyPI, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pin older than the latest release, or a project not served, is never a silent pass."""
    pypi.projects["httpx"] = project("0.29.0", [])  # the pin is 0.28.1; idna is not served
    assert run(tmp_path, pypi) == 1
    out = capsys.readouterr().out
    assert (
        "NOT AUDITED httpx: 0.28.1 is pinned, and only the latest release (0.29.0) can be "
        "looked up here" in out
    )
    assert f"NOT AUDITED idna: {pypi.url}/pypi/idna/json did not answer" in out
    assert "0 of 2 pinned releases audited" in out

    assert run(tmp_path, pypi, "--warn-unaudited") == 0
