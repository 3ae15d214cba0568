"""`SqliteStore`: answers and the credit ledger in one SQLite file on this machine.

The default for the CLI, `pronto-sheets serve` and the demo (a file in the user's cache
directory). Several processes may share the file: claims run inside `BEGIN IMMEDIATE`,
which takes the database's write lock before reading the day's total, so two claims can
never both see the same total. WAL journal, so readers do not wait for a writer.

sqlite3 blocks, so every statement runs on one thread of its own (one connection, used by
that thread only), never on the event loop.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import TypeVar

from pronto_sheets.store.protocol import (
    LEDGER_KEEP_S,
    Claim,
    LedgerDay,
    StoredAnswer,
    decode_record,
    grant,
    subject_rows,
    to_record,
)
from pronto_sheets.store.sqlite_file import SqliteFile

_T = TypeVar("_T")
# SQLite's default limit on bound variables is 32,766; stay far below in one statement.
_IN_CHUNK = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY,
    record TEXT NOT NULL,
    expire_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS subjects (
    subject TEXT NOT NULL,
    identity TEXT NOT NULL,
    expire_at REAL NOT NULL,
    PRIMARY KEY (subject, identity)
);
CREATE INDEX IF NOT EXISTS subjects_by_identity ON subjects (identity);
CREATE TABLE IF NOT EXISTS ledger (
    day TEXT PRIMARY KEY,
    claimed INTEGER NOT NULL DEFAULT 0,
    spent INTEGER NOT NULL DEFAULT 0,
    closed INTEGER NOT NULL DEFAULT 0,
    expire_at REAL NOT NULL
);
"""


class SqliteStore:
    """See the module docstring. `namespace` prefixes every key (one per Pronto address)."""

    kind = "sqlite"

    def __init__(
        self,
        path: Path,
        namespace: str,
        *,
        busy_timeout_s: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self._ns = namespace
        self._clock = clock
        self._file = SqliteFile(
            path,
            schema=_SCHEMA,
            purpose="be used",
            thread_name="pronto-sqlite",
            busy_timeout_s=busy_timeout_s,
            on_open=self._drop_expired,
        )
        self._run = self._file.run

    def _drop_expired(self, db: sqlite3.Connection) -> None:
        now = self._clock()
        db.execute("DELETE FROM answers WHERE expire_at <= ?", (now,))
        db.execute("DELETE FROM ledger WHERE expire_at <= ?", (now,))
        db.execute("DELETE FROM subjects WHERE expire_at <= ?", (now,))

    def _key(self, key: str) -> str:
        return f"{self._ns}:{key}"

    def _day(self, day: str) -> str:
        return f"{self._ns}:{day}"

    async def get_answers(self, keys: Collection[str]) -> dict[str, StoredAnswer]:
        wanted = {self._key(key): key for key in keys}
        if not wanted:
            return {}

        def read(db: sqlite3.Connection) -> dict[str, StoredAnswer]:
            found: dict[str, StoredAnswer] = {}
            names = list(wanted)
            now = self._clock()
            for start in range(0, len(names), _IN_CHUNK):
                chunk = names[start : start + _IN_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT key, record, expire_at FROM answers "  # noqa: S608 - only "?" marks
                    f"WHERE key IN ({marks}) AND expire_at > ?",
                    (*chunk, now),
                )
                for stored_key, record, expire_at in rows:
                    result = decode_record(record)
                    if result is not None:
                        found[wanted[stored_key]] = StoredAnswer(result, float(expire_at))
            return found

        return await self._run(read)

    async def put_answers(
        self,
        answers: Mapping[str, StoredAnswer],
        subjects: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        rows = [
            (self._key(key), json.dumps(to_record(answer.result)), answer.expire_at)
            for key, answer in answers.items()
        ]
        index = [
            (self._key(subject), self._key(identity), until)
            for subject, identity, until in subject_rows(answers, subjects)
        ]
        if not rows:
            return

        def write(db: sqlite3.Connection) -> None:
            with db:
                db.execute("BEGIN")
                db.executemany(
                    "INSERT INTO answers (key, record, expire_at) VALUES (?, ?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET record=excluded.record, "
                    "expire_at=excluded.expire_at",
                    rows,
                )
                db.executemany(
                    "INSERT INTO subjects (subject, identity, expire_at) VALUES (?, ?, ?) "
                    "ON CONFLICT(subject, identity) DO UPDATE SET "
                    "expire_at=MAX(expire_at, excluded.expire_at)",
                    index,
                )

        await self._run(write)

    async def find_identities(self, subjects: Collection[str]) -> set[str]:
        names = [self._key(subject) for subject in subjects]
        prefix = f"{self._ns}:"
        if not names:
            return set()

        def read(db: sqlite3.Connection) -> set[str]:
            marks = ",".join("?" * len(names))
            rows = db.execute(
                f"SELECT identity FROM subjects WHERE subject IN ({marks})",  # noqa: S608
                names,
            )
            return {str(identity).removeprefix(prefix) for (identity,) in rows}

        return await self._run(read)

    async def forget(self, keys: Collection[str], identities: Collection[str]) -> int:
        names = [self._key(key) for key in keys]
        people = [self._key(identity) for identity in identities]

        def delete(db: sqlite3.Connection) -> int:
            deleted = 0
            with db:
                db.execute("BEGIN")
                for start in range(0, len(names), _IN_CHUNK):
                    chunk = names[start : start + _IN_CHUNK]
                    marks = ",".join("?" * len(chunk))
                    deleted += db.execute(
                        f"DELETE FROM answers WHERE key IN ({marks})",  # noqa: S608
                        chunk,
                    ).rowcount
                for start in range(0, len(people), _IN_CHUNK):
                    chunk = people[start : start + _IN_CHUNK]
                    marks = ",".join("?" * len(chunk))
                    db.execute(
                        f"DELETE FROM subjects WHERE identity IN ({marks})",  # noqa: S608
                        chunk,
                    )
            return deleted

        return await self._run(delete)

    def _expire_at(self) -> float:
        return self._clock() + LEDGER_KEEP_S

    async def claim_credits(self, day: str, *, wanted: int, minimum: int, limit: int) -> Claim:
        name = self._day(day)

        def claim(db: sqlite3.Connection) -> Claim:
            db.execute("BEGIN IMMEDIATE")  # the write lock first: no one reads the same total
            try:
                row = db.execute(
                    "SELECT claimed, closed FROM ledger WHERE day = ?", (name,)
                ).fetchone()
                claimed, closed = (int(row[0]), bool(row[1])) if row else (0, False)
                granted = grant(claimed, closed, wanted=wanted, minimum=minimum, limit=limit)
                if granted:
                    db.execute(
                        "INSERT INTO ledger (day, claimed, expire_at) VALUES (?, ?, ?) "
                        "ON CONFLICT(day) DO UPDATE SET claimed = claimed + excluded.claimed",
                        (name, granted, self._expire_at()),
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return Claim(granted, claimed + granted, closed)

        return await self._run(claim)

    async def release_credits(self, day: str, credits: int) -> None:
        name = self._day(day)

        def release(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE ledger SET claimed = MAX(0, claimed - ?) WHERE day = ?", (credits, name)
            )

        if credits > 0:
            await self._run(release)

    async def _upsert(self, day: str, column: str, value: int) -> None:
        name = self._day(day)
        update = "spent = spent + excluded.spent" if column == "spent" else "closed = 1"

        def write(db: sqlite3.Connection) -> None:
            db.execute(
                f"INSERT INTO ledger (day, {column}, expire_at) VALUES (?, ?, ?) "  # noqa: S608
                f"ON CONFLICT(day) DO UPDATE SET {update}",
                (name, value, self._expire_at()),
            )

        await self._run(write)

    async def record_spent(self, day: str, credits: int) -> None:
        if credits:
            await self._upsert(day, "spent", credits)

    async def close_day(self, day: str) -> None:
        await self._upsert(day, "closed", 1)

    async def ledger(self, day: str) -> LedgerDay:
        name = self._day(day)

        def read(db: sqlite3.Connection) -> LedgerDay:
            row = db.execute(
                "SELECT claimed, spent, closed FROM ledger WHERE day = ?", (name,)
            ).fetchone()
            return LedgerDay(int(row[0]), int(row[1]), bool(row[2])) if row else LedgerDay()

        return await self._run(read)

    async def aclose(self) -> None:
        await self._file.aclose()
