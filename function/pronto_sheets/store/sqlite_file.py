"""`SqliteFile`: one SQLite file, one connection, used from one thread of its own.

sqlite3 blocks, so every statement runs on that thread, never on the event loop. Both
SQLite tables' owners (`SqliteStore`: answers and the ledger; `SqliteSubmissions`: the async
lane) open the same file through this, each with its own schema and connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from pronto_sheets.errors import StoreError

_T = TypeVar("_T")


class SqliteFile:
    """Runs `work(connection)` on the file's thread; SQLite errors become `StoreError`.

    `schema` is applied when the connection opens, then `on_open(connection)` (e.g. to drop
    expired rows). `purpose` ends the sentence "The SQLite store at … cannot …".
    """

    def __init__(
        self,
        path: Path,
        *,
        schema: str,
        purpose: str,
        thread_name: str,
        busy_timeout_s: float = 5.0,
        on_open: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        self.path = path
        self._schema = schema
        self._purpose = purpose
        self._busy_timeout_s = busy_timeout_s
        self._on_open = on_open
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=thread_name)
        self._db: sqlite3.Connection | None = None

    async def run(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._guarded, work)

    async def aclose(self) -> None:
        def close(_db: sqlite3.Connection) -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        if self._db is not None:
            with contextlib.suppress(StoreError):
                await self.run(close)
        self._executor.shutdown(wait=False)

    def _guarded(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        try:
            return work(self._connection())
        except (sqlite3.Error, OSError) as exc:
            detail = str(exc).splitlines()[0] if str(exc) else "no detail"
            raise StoreError(
                f"The SQLite store at {self.path} cannot {self._purpose} "
                f"({type(exc).__name__}: {detail})."
            ) from exc

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=self._busy_timeout_s, isolation_level=None)
            try:
                self._set_up(db)
            except BaseException:
                db.close()
                raise
            self._db = db
        return self._db

    def _set_up(self, db: sqlite3.Connection) -> None:
        """WAL, the schema, then `on_open`. Switching a new file to WAL can fail at once
        with "database is locked" while another connection sets it up too (SQLite does not
        call its busy handler there), so the set-up is tried again until the busy timeout,
        as a statement would wait."""
        deadline = time.monotonic() + self._busy_timeout_s
        while True:
            try:
                db.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)  # on the file's own thread, never the event loop
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(self._schema)
        if self._on_open is not None:
            self._on_open(db)
