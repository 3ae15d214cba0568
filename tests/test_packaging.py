"""What gets deployed is exactly what we develop against, and every import is declared.

function/requirements.txt is the deploy's lock (scripts/lock.sh writes it from
pyproject.toml). These checks need no network: they read the lock, pyproject.toml, the
metadata of the installed distributions (scripts/bootstrap.sh installs the lock) and the
source files' import statements.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import httpx
import pytest
from packaging.markers import Marker, default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.servers import REPO_ROOT
from tests.support.stack import Function

LOCK = REPO_ROOT / "function" / "requirements.txt"
FIRST_PARTY = {"pronto_sheets", "pronto_sheets_cli", "pronto_sheets_dev", "tests", "bench"}
Environment = dict[str, str]
HERE: Environment = {key: str(value) for key, value in default_environment().items()}

# Cloud Functions' python312 runtime (deploy.sh); the lock must also install here.
CLOUD_FUNCTIONS: Environment = {
    **HERE,
    "python_version": "3.12",
    "python_full_version": "3.12.0",
    "implementation_version": "3.12.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "os_name": "posix",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
}
ENVIRONMENTS: dict[str, Environment] = {
    "here": HERE,
    "cloud-functions": CLOUD_FUNCTIONS,
}


@dataclass(frozen=True)
class Pin:
    """One entry of the lock: `name==version ; marker --hash=... --hash=...`."""

    name: str
    version: str
    marker: Marker | None
    hashes: tuple[str, ...]

    def applies(self, env: Environment) -> bool:
        return self.marker is None or self.marker.evaluate({**env, "extra": ""})


def _lock_entries() -> Iterator[str]:
    """The lock's logical lines: continuations joined, comments and blanks dropped."""
    logical = ""
    for raw in LOCK.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].rstrip() if raw.lstrip().startswith("#") else raw.rstrip()
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        if logical.strip():
            yield logical.strip()
        logical = ""


@cache
def _lock() -> dict[str, Pin]:
    pins: dict[str, Pin] = {}
    for entry in _lock_entries():
        requirement_text, *options = re.split(r"\s+(?=--)", entry)
        requirement = Requirement(requirement_text)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==" and "*" not in specifier.version, entry
        hashes = tuple(option.removeprefix("--hash=") for option in options)
        assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), entry
        name = canonicalize_name(requirement.name)
        assert name not in pins, f"{name} is pinned twice"
        pins[name] = Pin(name, specifier.version, requirement.marker, hashes)
    return pins


@cache
def _pyproject() -> dict[str, object]:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _declared(group: str = "dependencies") -> dict[str, Requirement]:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    lines = project[group] if group == "dependencies" else project["optional-dependencies"][group]
    return {canonicalize_name(r.name): r for r in map(Requirement, lines)}


def _function_dependencies() -> set[str]:
    tool = _pyproject()["tool"]
    assert isinstance(tool, dict)
    return {canonicalize_name(n) for n in tool["pronto-sheets"]["function-dependencies"]}


def _installed(name: str) -> importlib.metadata.Distribution:
    try:
        return importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        pytest.fail(f"{name} is not installed: run scripts/lock.sh, then scripts/bootstrap.sh")


def _closure(roots: Iterable[str], env: Environment) -> dict[str, str]:
    """Name → installed version of `roots` and all they require in `env`, extras included."""
    found: dict[str, str] = {}
    visited: set[tuple[str, str]] = set()
    todo = [(canonicalize_name(root), "") for root in roots]
    while todo:
        name, extra = todo.pop()
        if (name, extra) in visited:
            continue
        visited.add((name, extra))
        dist = _installed(name)
        found[name] = dist.version
        for requirement in map(Requirement, dist.requires or ()):
            marker = requirement.marker
            if marker is not None and not marker.evaluate({**env, "extra": extra}):
                continue
            if marker is None and extra:
                continue  # already taken when visiting with no extra
            child = canonicalize_name(requirement.name)
            todo.append((child, ""))
            todo.extend((child, canonicalize_name(e)) for e in requirement.extras)
    return found


def test_every_line_of_the_lock_is_pinned_with_hashes() -> None:
    """Each entry is `name==version` with at least one sha256 hash, so pip checks the files."""
    pins = _lock()
    assert len(pins) > 10
    assert all(pin.hashes for pin in pins.values()), [p.name for p in pins.values() if not p.hashes]


@pytest.mark.parametrize("where", ENVIRONMENTS)
def test_the_lock_is_exactly_what_the_function_needs(where: str) -> None:
    """The lock holds the function's dependencies and all they pull in: nothing more or less."""
    env = ENVIRONMENTS[where]
    needed = _closure(_function_dependencies(), env)
    locked = {name: pin.version for name, pin in _lock().items() if pin.applies(env)}
    missing = sorted(set(needed) - set(locked))
    extra = sorted(set(locked) - set(needed))
    assert not missing, f"not in the lock (run scripts/lock.sh): {missing}"
    assert not extra, f"in the lock but not needed by the function (run scripts/lock.sh): {extra}"
    stale = {name: (locked[name], needed[name]) for name in needed if locked[name] != needed[name]}
    assert not stale, f"lock vs installed (run scripts/bootstrap.sh): {stale}"
    # What only the command line uses never ships with the function.
    assert "rich" not in locked
    assert {"functions-framework", "starlette", "tenacity", "httpcore"} <= set(locked)


def test_every_declared_range_admits_its_pin() -> None:
    """Each pyproject runtime dependency's range contains the version locked or installed."""
    declared = _declared()
    assert _function_dependencies() <= set(declared), "function-dependencies not in pyproject"
    pins = _lock()
    for name, requirement in declared.items():
        if name in _function_dependencies():
            assert name in pins, f"{name} is a function dependency missing from the lock"
        version = pins[name].version if name in pins else _installed(name).version
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{name}=={version} is outside {requirement}"
        )


def _module_owners() -> dict[str, set[str]]:
    """Dotted module or package name → the distributions whose files hold it."""
    owners: dict[str, set[str]] = {}
    for dist in importlib.metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"])
        for file in dist.files or ():
            parts = file.parts
            if not parts or parts[0].endswith((".dist-info", ".data")) or ".." in parts:
                continue
            if not file.name.endswith((".py", ".so", ".pyd")):
                continue
            dotted = [*parts[:-1], file.name.split(".", 1)[0]]
            if dotted[-1] == "__init__":
                dotted.pop()
            for end in range(1, len(dotted) + 1):
                owners.setdefault(".".join(dotted[:end]), set()).add(name)
    return owners


def _imports(path: Path) -> Iterator[str]:
    """Absolute module names that `path` imports (at any depth, lazily or not)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from google.cloud import firestore` imports google.cloud.firestore: a
            # namespace package such as google.cloud has many owners, its modules one.
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _undeclared(folders: list[str], allowed: set[str]) -> dict[str, str]:
    """Third-party imports in `folders` whose distribution is not in `allowed`: module → file."""
    owners = _module_owners()
    wrong: dict[str, str] = {}
    for folder in folders:
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            local = {p.stem for p in path.parent.glob("*.py")}
            for module in _imports(path):
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top in FIRST_PARTY or top in local:
                    continue
                parts = module.split(".")
                candidates = [".".join(parts[:end]) for end in range(len(parts), 0, -1)]
                owner = next((owners[c] for c in candidates if c in owners), set())
                if len(owner) != 1 or not owner <= allowed:
                    wrong[module] = f"{path.relative_to(REPO_ROOT)} ({', '.join(owner) or '?'})"
    return wrong


def test_every_import_is_declared_where_it_is_used() -> None:
    """The function imports only its declared dependencies, the tools only pyproject's, the
    tests only pyproject's and the test extra's: nothing works by being pulled in by chance."""
    runtime = set(_declared())
    tests = runtime | set(_declared("test"))
    assert _undeclared(["function"], _function_dependencies()) == {}
    assert _undeclared(["tools"], runtime) == {}
    assert _undeclared(["tests", "bench", "scripts"], tests) == {}


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
