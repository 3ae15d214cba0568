"""The recorded data the tests read, unpacked from tests/data once per checkout.

The archives live in the repository so a fresh clone needs nothing beside it; they are
unpacked into tests/artifacts/data/<archive digest>/ (ignored by git) on first use, so a
changed archive is never shadowed by an old copy.
"""

from __future__ import annotations

import hashlib
import tarfile
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
UNPACKED_DIR = Path(__file__).resolve().parents[1] / "artifacts" / "data"


def recorded_dir(name: str) -> Path:
    """The folder `name` (e.g. "gspread-cassettes") unpacked from `tests/data/<name>.tar.xz`."""
    archive = DATA_DIR / f"{name}.tar.xz"
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()[:16]
    target = UNPACKED_DIR / digest
    folder = target / name
    if not folder.is_dir():
        partial = UNPACKED_DIR / f".{digest}.partial"
        partial.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive, "r:xz") as tar:
            tar.extractall(partial, filter="data")
        if not target.exists():
            partial.rename(target)
    return folder
