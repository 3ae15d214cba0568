"""What gets deployed matches what we develop against, and the entry point serves."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.servers import REPO_ROOT
from tests.support.stack import Function


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (REPO_ROOT / "function" / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
            assert match, f"requirements.txt line is not an exact pin: {line!r}"
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def test_requirements_pin_exactly_the_runtime_dependencies() -> None:
    """function/requirements.txt pins each pyproject runtime dependency, inside its range."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    declared = {canonicalize_name(r.name): r for r in map(Requirement, project["dependencies"])}
    pins = _pins()
    assert set(pins) == set(declared)
    for name, version in pins.items():
        assert declared[name].specifier.contains(version), f"{name}=={version} vs {declared[name]}"


def test_functions_framework_serves_the_target(function: Function) -> None:
    """`functions-framework --source function/main.py --target pronto` answers /healthz."""
    answer = httpx.get(f"{function.url}/healthz")
    assert answer.status_code == 200
    assert answer.json()["ok"] is True


def test_a_malformed_setting_stops_the_start_naming_the_variable(tmp_path: Path) -> None:
    """PRONTO_RATE_PER_SECOND=fast makes the function refuse to start, saying which variable."""
    env = {**os.environ, "PRONTO_RATE_PER_SECOND": "fast", "PRONTO_SHEETS_TOKENS": "t"}
    done = subprocess.run(
        [sys.executable, "-c", "import runpy; runpy.run_path('function/main.py')"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "PRONTO_RATE_PER_SECOND must be a number, got 'fast'." in done.stderr
