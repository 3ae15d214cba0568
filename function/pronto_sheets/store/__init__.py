"""The durable store behind the in-memory answer cache: answers already paid for and the
day's credit ledger, kept across restarts and shared by every process using the store.

    protocol.py   what a store does (`Store`), and how an answer is written down
    memory.py     `MemoryStore`: nothing survives the process (PRONTO_STORE=memory)
    sqlite.py     `SqliteStore`: one file on this machine (the default for the CLI, serve, demo)
    firestore.py  `FirestoreStore`: Google Cloud Firestore (the deployed function)
    guard.py      `GuardedStore`: a failing store degrades to memory, says so once, comes back
    selection.py  `open_store`: the one `Settings.store` (PRONTO_STORE) names
"""

from __future__ import annotations

from pronto_sheets.store.guard import GuardedStore, StoreHealth
from pronto_sheets.store.memory import MemoryStore
from pronto_sheets.store.protocol import (
    ANSWERS_COLLECTION,
    LEDGER_COLLECTION,
    Claim,
    LedgerDay,
    Store,
    StoredAnswer,
)
from pronto_sheets.store.selection import open_store

__all__ = [
    "ANSWERS_COLLECTION",
    "LEDGER_COLLECTION",
    "Claim",
    "GuardedStore",
    "LedgerDay",
    "MemoryStore",
    "Store",
    "StoreHealth",
    "StoredAnswer",
    "open_store",
]
