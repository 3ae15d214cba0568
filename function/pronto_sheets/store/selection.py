"""`open_store`: the store `PRONTO_STORE` names.

    (unset)                 sqlite in the user's cache directory (platformdirs)
    sqlite:///abs/path.db   that SQLite file
    firestore               Firestore: GOOGLE_CLOUD_PROJECT, PRONTO_FIRESTORE_DATABASE
                            ("(default)"), FIRESTORE_EMULATOR_HOST when set
    memory                  nothing kept across restarts

Answers and the ledger are kept per Pronto address (a hash of PRONTO_BASE_URL), so
answers made up by the simulator never reach a sheet enriched by the real Pronto, and
the simulator's credits never count against the real budget.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pronto_sheets.errors import SettingsError
from pronto_sheets.store.guard import GuardedStore
from pronto_sheets.store.memory import MemoryStore
from pronto_sheets.store.protocol import Store

DEFAULT_DATABASE = "(default)"
# Used with the emulator when GOOGLE_CLOUD_PROJECT is not set: any id will do there.
EMULATOR_PROJECT = "pronto-sheets-local"


@dataclass(frozen=True)
class StoreConfig:
    """Which store, parsed from the environment (see the module docstring)."""

    kind: str = "memory"  # "memory", "sqlite" or "firestore"
    sqlite_path: Path | None = None
    firestore_project: str | None = None
    firestore_database: str = DEFAULT_DATABASE

    @property
    def label(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{str(self.sqlite_path).lstrip('/')}"
        return self.kind


def default_sqlite_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("pronto-sheets", appauthor=False)) / "store.db"


def parse_store_setting(env: Mapping[str, str]) -> StoreConfig:
    """Read PRONTO_STORE (and what Firestore needs); a bad value names the variable."""
    raw = env.get("PRONTO_STORE", "").strip()
    database = env.get("PRONTO_FIRESTORE_DATABASE", "").strip() or DEFAULT_DATABASE
    if not raw:
        return StoreConfig("sqlite", sqlite_path=default_sqlite_path())
    if raw == "memory":
        return StoreConfig("memory")
    if raw.startswith("sqlite://"):
        path = raw.removeprefix("sqlite://")
        if not path.startswith("/") or path == "/":
            raise SettingsError(
                f"PRONTO_STORE={raw!r} needs an absolute path after sqlite://, "
                "like sqlite:///var/lib/pronto-sheets/store.db."
            )
        return StoreConfig("sqlite", sqlite_path=Path(path).expanduser())
    if raw == "firestore":
        project = env.get("GOOGLE_CLOUD_PROJECT", "").strip() or None
        if project is None and env.get("FIRESTORE_EMULATOR_HOST"):
            project = EMULATOR_PROJECT
        if project is None:
            raise SettingsError(
                "PRONTO_STORE=firestore needs GOOGLE_CLOUD_PROJECT, the id of the project "
                "whose Firestore database keeps the answers (deploy.sh sets it)."
            )
        return StoreConfig("firestore", firestore_project=project, firestore_database=database)
    raise SettingsError(
        f"PRONTO_STORE must be sqlite:///path/to/file.db, firestore or memory, got {raw!r}."
    )


def namespace_for(pronto_base_url: str) -> str:
    """The key prefix of one Pronto address."""
    return hashlib.sha256(pronto_base_url.rstrip("/").encode("utf-8")).hexdigest()[:12]


def open_store(
    config: StoreConfig, pronto_base_url: str, *, note: str = "", timeout_s: float = 5.0
) -> GuardedStore:
    """The configured store, guarded (nothing is contacted until its first use)."""
    namespace = namespace_for(pronto_base_url)
    backend: Store
    if config.kind == "sqlite" and config.sqlite_path is not None:
        from pronto_sheets.store.sqlite import SqliteStore

        backend = SqliteStore(config.sqlite_path, namespace, busy_timeout_s=timeout_s)
    elif config.kind == "firestore":
        from pronto_sheets.store.firestore import FirestoreStore

        backend = FirestoreStore(
            namespace,
            project=config.firestore_project,
            database=config.firestore_database,
            timeout_s=timeout_s,
        )
    else:
        backend = MemoryStore(keep_answers=False)
    return GuardedStore(backend, note=note)
