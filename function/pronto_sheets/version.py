"""The project's version, defined once: `version` in pyproject.toml.

Run from a checkout (tests, `pip install -e .`), the checkout's pyproject.toml says it, so
a stale install never lies; installed from a wheel, the distribution's metadata does.
Deployed, `function/` is uploaded as source and nothing is installed: the package's own
openapi.yaml says it then (`info.version`, which tests/test_version.py keeps equal to
pyproject's). Failing all three, the version is `0+unknown`.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "pronto-sheets"
UNKNOWN = "0+unknown"
# function/pronto_sheets/version.py -> the checkout's root.
_PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
_OPENAPI = Path(__file__).resolve().parent / "http" / "openapi.yaml"
# `info:`'s own `version:` line (two spaces in), not a schema's: no YAML parser deployed.
_INFO_VERSION = re.compile(r"^info:\n(?:(?: {2}.*)?\n)*? {2}version: *(\S+)$", re.MULTILINE)


def _checkout_version() -> str | None:
    try:
        with _PYPROJECT.open("rb") as file:
            project = tomllib.load(file).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        return None
    found = project.get("version") if project.get("name") == DISTRIBUTION else None
    return found if isinstance(found, str) else None


def _installed_version() -> str | None:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None


def _deployed_version() -> str | None:
    try:
        found = _INFO_VERSION.search(_OPENAPI.read_text(encoding="utf-8"))
    except OSError:
        return None
    return found.group(1).strip("'\"") if found else None


__version__ = _checkout_version() or _installed_version() or _deployed_version() or UNKNOWN
# What the function tells Pronto it is (the User-Agent of every call).
USER_AGENT = f"{DISTRIBUTION}/{__version__}"
