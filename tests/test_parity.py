"""Python and Apps Script judge a sheet the same way: one vocabulary, two implementations.

The shared fixtures (tests/data/parity/fixtures.json: header rows in four languages,
contact rows with accents, URLs, full names, blanks and odd white space, and results to
write) go through pronto_sheets here and through the real apps_script files in Node
(tests/apps_script/support/parity.js); the column mappings, identity keys, done decisions
and output cells must be equal.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.parity import python_report
from tests.support.servers import REPO_ROOT

FIXTURES = REPO_ROOT / "tests" / "data" / "parity" / "fixtures.json"
NODE_SCRIPT = REPO_ROOT / "tests" / "apps_script" / "support" / "parity.js"


def _node_report() -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "Node.js is needed for the parity test (the README's test command installs it)"
    done = subprocess.run(
        [node, str(NODE_SCRIPT), str(FIXTURES)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO_ROOT,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def _first_difference(python: Any, node: Any, where: str = "") -> str | None:
    if isinstance(python, dict) and isinstance(node, dict):
        for key in sorted(set(python) | set(node)):
            found = _first_difference(python.get(key), node.get(key), f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(python, list) and isinstance(node, list):
        if len(python) != len(node):
            return f"{where}: {len(python)} items in Python, {len(node)} in Apps Script"
        for index, (a, b) in enumerate(zip(python, node, strict=True)):
            found = _first_difference(a, b, f"{where}[{index}]")
            if found:
                return found
        return None
    return None if python == node else f"{where}: Python {python!r}, Apps Script {node!r}"


@pytest.fixture(scope="module")
def reports() -> tuple[dict[str, Any], dict[str, Any]]:
    fixtures = json.loads(Path(FIXTURES).read_text(encoding="utf-8"))
    return python_report(fixtures), _node_report()


def test_the_fixtures_cover_what_the_issue_asks() -> None:
    """At least 30 header rows and 200 contact rows, with accents, URLs, full names, blanks."""
    fixtures = json.loads(Path(FIXTURES).read_text(encoding="utf-8"))
    rows = [row for sheet in fixtures["sheets"] for row in sheet["rows"][1:]]
    text = json.dumps(rows, ensure_ascii=False)
    assert len(fixtures["header_sets"]) >= 30
    assert len(rows) >= 200
    assert all(mark in text for mark in ("é", "https://", "linkedin.com/in/", "\u00a0"))
    assert sum(1 for row in rows if not any(str(cell).strip() for cell in row)) >= 5


def test_python_and_apps_script_agree_on_every_fixture(
    reports: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    """Same column mapping, contacts, identities, invalid reasons, done decisions, cells."""
    python, node = reports
    assert _first_difference(python, node) is None
    assert python == node
    rows = [row for sheet in python["sheets"] for row in sheet if not row["blank"]]
    print(  # the counts the closing note quotes
        f"\nparity: {len(python['header_sets'])} header rows, {len(rows)} contact rows "
        f"({len({r['identity'] for r in rows if r['identity']})} distinct identities, "
        f"{sum(1 for r in rows if r['invalid'])} invalid), "
        f"{len(python['output_cells'])} results written"
    )
