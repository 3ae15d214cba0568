"""`open_submissions`: the async lane's submissions in the store `PRONTO_STORE` names.

The same backend as the answers and the ledger (a SQLite file's `submissions` table, or
Firestore's `pronto_sheets_submissions`), under the same namespace (one per Pronto
address); memory when the store is memory (then a restart loses what was in flight,
which is why the lane is meant for a durable store).
"""

from __future__ import annotations

from pronto_sheets.settings import StoreConfig
from pronto_sheets.store.selection import namespace_for
from pronto_sheets.store.submissions import MemorySubmissions, SubmissionStore


def open_submissions(
    config: StoreConfig, pronto_base_url: str, *, timeout_s: float = 5.0
) -> SubmissionStore:
    """The configured backend (nothing is contacted until its first use)."""
    namespace = namespace_for(pronto_base_url)
    if config.kind == "sqlite" and config.sqlite_path is not None:
        from pronto_sheets.store.submissions_sqlite import SqliteSubmissions

        return SqliteSubmissions(config.sqlite_path, namespace, busy_timeout_s=timeout_s)
    if config.kind == "firestore":
        from pronto_sheets.store.submissions_firestore import FirestoreSubmissions

        return FirestoreSubmissions(
            namespace,
            project=config.firestore_project,
            database=config.firestore_database,
            timeout_s=timeout_s,
        )
    return MemorySubmissions()
