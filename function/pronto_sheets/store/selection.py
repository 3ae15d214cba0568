"""`open_store`: the store a `StoreConfig` names (read from `PRONTO_STORE` by
`pronto_sheets.settings`, see `parse_store_setting` there).

Answers and the ledger are kept per Pronto address (a hash of PRONTO_BASE_URL), so
answers made up by the simulator never reach a sheet enriched by the real Pronto, and
the simulator's credits never count against the real budget.
"""

from __future__ import annotations

import hashlib

from pronto_sheets.settings import StoreConfig
from pronto_sheets.store.guard import GuardedStore
from pronto_sheets.store.memory import MemoryStore
from pronto_sheets.store.protocol import Store


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
