"""Known vulnerabilities in the deploy's lock (function/requirements.txt), PyPI the only source.

pip-audit audits the lock as pip would install it (``-r``, ``--require-hashes``, no
resolution) against PyPI's own advisory data (``--vulnerability-service pypi``: the
``vulnerabilities`` of https://pypi.org/pypi/NAME/VERSION/json). The check fails when a
pinned release has a known vulnerability with a fixed version (upgrade it with
scripts/lock.sh), and when a release could not be audited at all: a check that cannot see
must not pass. A vulnerability that no release fixes yet is printed, and does not fail.

Some registry mirrors serve only the project endpoint (https://pypi.org/pypi/NAME/json),
which describes the project's latest release, vulnerabilities included. For a release
pip-audit could not look up there, this script asks that endpoint: it audits the pin when
the pin is the latest release, and otherwise reports it as not audited (so fails).

Exit 0: nothing to fix. Exit 1: a vulnerability with a fix, or a release not audited
(``--warn-unaudited`` prints those and does not fail on them: for a mirror that lags, where
only what PyPI itself serves can be trusted). Every network call has a timeout, so CI never
hangs on an unreachable index.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "function" / "requirements.txt"
PYPI = "https://pypi.org"
# Per request, and for the whole pip-audit run.
REQUEST_TIMEOUT_S = 30
AUDIT_TIMEOUT_S = 300


@dataclass(frozen=True)
class Vulnerability:
    """One advisory against a pinned release."""

    id: str
    fixed_in: tuple[str, ...]


@dataclass
class Report:
    """What the audit found, per pinned package."""

    vulnerable: dict[str, list[Vulnerability]] = field(default_factory=dict)
    not_audited: dict[str, str] = field(default_factory=dict)
    audited: int = 0


def pins(lock: Path) -> dict[str, str]:
    """The lock's ``name==version`` pins, by canonical name."""
    found = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", line)
        if match:
            found[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return found


def run_pip_audit(lock: Path) -> dict[str, Any]:
    """pip-audit's JSON report of the lock (dependencies with vulns or a skip_reason)."""
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "audit.json"
        command = [
            sys.executable,
            "-m",
            "pip_audit",
            "--vulnerability-service",
            "pypi",
            "--requirement",
            str(lock),
            "--require-hashes",
            "--disable-pip",
            "--progress-spinner",
            "off",
            "--timeout",
            str(REQUEST_TIMEOUT_S),
            "--format",
            "json",
            "--output",
            str(output),
        ]
        # Exit 1 means "vulnerabilities found": the report says which.
        done = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
            command, capture_output=True, text=True, timeout=AUDIT_TIMEOUT_S, check=False
        )
        if not output.exists():
            raise SystemExit(f"pip-audit did not run: {done.stderr.strip()}")
        report: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
        return report


def latest_release(index: str, name: str) -> dict[str, Any] | None:
    """PyPI's project endpoint (the latest release and its vulnerabilities), or None."""
    url = f"{index}/pypi/{name}/json"
    try:
        with urllib.request.urlopen(url, timeout=REQUEST_TIMEOUT_S) as response:  # noqa: S310
            loaded: dict[str, Any] = json.load(response)
            return loaded
    except (urllib.error.URLError, TimeoutError, json.JSONDecodeError):
        return None


def audit_from_project_page(index: str, name: str, version: str, report: Report) -> None:
    """Audit one pin from the project endpoint, which describes only the latest release."""
    project = latest_release(index, name)
    if project is None:
        report.not_audited[name] = f"{index}/pypi/{name}/json did not answer"
        return
    latest = str(project.get("info", {}).get("version", ""))
    if latest != version:
        report.not_audited[name] = (
            f"{version} is pinned, and only the latest release ({latest}) can be looked up here"
        )
        return
    report.audited += 1
    found = [
        Vulnerability(str(item.get("id")), tuple(item.get("fixed_in") or ()))
        for item in project.get("vulnerabilities") or []
        if not item.get("withdrawn")
    ]
    if found:
        report.vulnerable[name] = found


def audit(lock: Path, index: str, use_pip_audit: bool) -> Report:
    """Audit every pin of the lock: pip-audit first, the project endpoint for what it skipped."""
    pinned = pins(lock)
    report = Report()
    skipped = dict(pinned)
    if use_pip_audit:
        for dependency in run_pip_audit(lock)["dependencies"]:
            name = re.sub(r"[-_.]+", "-", dependency["name"]).lower()
            if "skip_reason" in dependency:
                continue
            skipped.pop(name, None)
            report.audited += 1
            vulns = [
                Vulnerability(item["id"], tuple(item.get("fix_versions") or ()))
                for item in dependency.get("vulns", [])
            ]
            if vulns:
                report.vulnerable[name] = vulns
    for name, version in skipped.items():
        audit_from_project_page(index, name, version, report)
    return report


def print_report(report: Report, pinned: dict[str, str], warn_unaudited: bool = False) -> int:
    """Print what was found; the exit status (1 when something must be done)."""
    failing = False
    for name, vulns in sorted(report.vulnerable.items()):
        for vuln in vulns:
            if vuln.fixed_in:
                failing = True
                print(
                    f"VULNERABLE {name} {pinned[name]}: {vuln.id}, fixed in "
                    f"{', '.join(vuln.fixed_in)}. Raise the range in pyproject.toml if needed "
                    "and run scripts/lock.sh."
                )
            else:
                print(f"known, no fix yet: {name} {pinned[name]}: {vuln.id}")
    for name, reason in sorted(report.not_audited.items()):
        failing = failing or not warn_unaudited
        print(f"NOT AUDITED {name}: {reason}")
    print(
        f"{report.audited} of {len(pinned)} pinned releases audited against PyPI's advisories; "
        f"{sum(len(v) for v in report.vulnerable.values())} known vulnerabilities."
    )
    return 1 if failing else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, default=LOCK)
    parser.add_argument("--index", default=PYPI, help="PyPI's address (tests: a local fake)")
    parser.add_argument(
        "--no-pip-audit",
        action="store_true",
        help="only the project endpoint (tests: pip-audit always asks pypi.org)",
    )
    parser.add_argument(
        "--warn-unaudited",
        action="store_true",
        help="print releases that could not be audited instead of failing on them",
    )
    args = parser.parse_args(argv)
    report = audit(args.lock, args.index.rstrip("/"), use_pip_audit=not args.no_pip_audit)
    return print_report(report, pins(args.lock), warn_unaudited=args.warn_unaudited)


if __name__ == "__main__":
    sys.exit(main())
