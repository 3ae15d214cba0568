"""Regenerate function/requirements.txt: the deploy's lock, with hashes, from pyproject.toml.

The function's dependencies are named in `[tool.pronto-sheets] function-dependencies`;
their ranges come from `[project].dependencies`. uv resolves them and everything they pull
in, for every platform and Python version (`--universal`) with Cloud Functions' Python as
the target, and writes each as `name==version` with the hashes of its files. Run through
scripts/lock.sh, which installs uv first; `--check` only says whether the lock is stale.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# scripts/lock.sh installs uv into the virtualenv that runs this script.
UV = Path(sys.executable).with_name("uv")
LOCK = ROOT / "function" / "requirements.txt"
# The runtime Cloud Functions runs the function on (deploy.sh: --runtime=python312).
TARGET_PYTHON = "3.12"


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def function_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The function's dependencies as written in `[project].dependencies` (name and range)."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    declared = {
        _canonical(re.split(r"[\s\[<>=!~;]", line, maxsplit=1)[0]): line
        for line in data["project"]["dependencies"]
    }
    names = data["tool"]["pronto-sheets"]["function-dependencies"]
    missing = [name for name in names if _canonical(name) not in declared]
    if missing:
        raise SystemExit(
            f"function-dependencies names {', '.join(missing)}, not in [project].dependencies: "
            "add it there with its version range first."
        )
    return [declared[_canonical(name)] for name in sorted(names, key=_canonical)]


def compile_lock(output: Path) -> None:
    """Write the lock for the function's dependencies to `output`."""
    if not UV.exists():
        raise SystemExit(f"{UV} is missing: run scripts/lock.sh, which installs it.")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "function-dependencies.in"
        source.write_text("\n".join(function_requirements()) + "\n", encoding="utf-8")
        subprocess.run(  # noqa: S603 - uv, with our own arguments
            [
                str(UV),
                "pip",
                "compile",
                "--quiet",
                "--universal",
                "--generate-hashes",
                "--no-python-downloads",
                "--python-version",
                TARGET_PYTHON,
                "--custom-compile-command",
                "scripts/lock.sh",
                "--output-file",
                str(output),
                source.name,
            ],
            cwd=tmp,
            check=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="fail if the lock differs from a fresh resolution"
    )
    args = parser.parse_args()
    if not args.check:
        compile_lock(LOCK)
        print(f"wrote {LOCK.relative_to(ROOT)}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "requirements.txt"
        compile_lock(fresh)
        if fresh.read_text() != LOCK.read_text():
            print(f"{LOCK.relative_to(ROOT)} is stale: run scripts/lock.sh", file=sys.stderr)
            return 1
    print(f"{LOCK.relative_to(ROOT)} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
