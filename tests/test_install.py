"""`pip install .` gives a working `pronto-sheets`, from any directory, with no checkout.

The project is copied (only what a build reads: pyproject.toml, README.md, function/,
tools/), built and installed into a fresh virtualenv in a temporary directory, then run
from another temporary directory. A path computed relative to the checkout (examples/,
function/main.py) is then simply not there, and the command fails.

To stay fast and offline, the new virtualenv borrows its dependencies from the project's
virtualenv through a path entry (a `.pth` line, which does not run the editable install's
hooks), and the project itself is installed with --no-deps --no-build-isolation.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.support.servers import REPO_ROOT

pytestmark = pytest.mark.slow


def _run(args: Sequence[str | Path], *, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A fresh virtualenv with the project installed from a copy; its bin/ and a clean env."""
    root = tmp_path_factory.mktemp("install")
    source = root / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, source / name)
    for folder in ("function", "tools"):
        shutil.copytree(
            REPO_ROOT / folder,
            source / folder,
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"),
        )
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "borrowed_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    _run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
         "--no-build-isolation", "--no-index", source],
        cwd=root,
        env=env,
    )  # fmt: skip
    return venv / "bin", env


def test_the_installed_packages_come_from_the_new_virtualenv(
    installed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """The function's, the CLI's and the dev tools' modules load from the install, not here."""
    bin_dir, env = installed
    where = _run(
        [bin_dir / "python", "-c",
         "import pronto_sheets.http.entry as e, pronto_sheets_cli, pronto_sheets_dev; "
         "print(e.__file__, pronto_sheets_cli.__file__, pronto_sheets_dev.__file__)"],
        cwd=tmp_path,
        env={**env, "PRONTO_SHEETS_TOKENS": "t"},
    ).split()  # fmt: skip
    venv = bin_dir.parent.resolve()
    assert len(where) == 3
    assert all(Path(path).resolve().is_relative_to(venv) for path in where), where


def test_fill_help_works_from_another_directory(
    installed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """`pronto-sheets fill --help` prints its usage and options outside the checkout."""
    bin_dir, env = installed
    out = _run([bin_dir / "pronto-sheets", "fill", "--help"], cwd=tmp_path, env=env)
    assert "Usage: pronto-sheets fill" in out
    assert "SPREADSHEET_ID" in out
    assert "--dry-run" in out


def test_demo_works_from_another_directory(
    installed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """`pronto-sheets demo` serves the installed function and enriches the bundled leads."""
    bin_dir, env = installed
    out = _run(
        [bin_dir / "pronto-sheets", "demo"],
        cwd=tmp_path,
        env={**env, "PRONTO_SIM_LATENCY_MS": "0"},
    )
    assert "50 rows, 47 distinct contacts, 3 invalid → 47 Pronto calls" in out
    assert "same request again: 0 calls" in out
    assert list(tmp_path.iterdir()) == []  # nothing written where it was run


def test_a_command_whose_import_fails_breaks_the_cli_loudly(tmp_path: Path) -> None:
    """With gspread unimportable, `pronto-sheets` fails naming it instead of hiding `fill`."""
    done = subprocess.run(
        [sys.executable, "-c",
         "import sys; sys.modules['gspread'] = None; "
         "from pronto_sheets_cli.cli import main; sys.argv = ['pronto-sheets', '--help']; main()"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    assert "ModuleNotFoundError: import of gspread halted" in done.stderr
    assert "Usage:" not in done.stdout
