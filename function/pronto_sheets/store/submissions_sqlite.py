"""`SqliteSubmissions`: the async lane's submissions in the store's SQLite file.

A table `submissions` beside `answers` and `ledger` (same file, own connection on its own
thread, as `SqliteStore` does: sqlite3 blocks). `settle` and `confirm` are single
`UPDATE … WHERE state …` statements, so two processes settling one submission cannot both
win: SQLite takes the write lock for each statement.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TypeVar

from pronto_sheets.store.sqlite_file import SqliteFile
from pronto_sheets.store.submissions import (
    SETTLED_KEEP_S,
    Submission,
    SubmissionState,
)

_T = TypeVar("_T")
_IN_CHUNK = 500
_COLUMNS = (
    "token, identity, types, state, submitted_at, next_poll_at, enrichment_id, polls, expire_at"
)
# An unsettled submission never expires by itself (it is settled, dropped or released).
_NEVER = 1e18

_SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    token TEXT PRIMARY KEY,
    identity TEXT NOT NULL,
    types TEXT NOT NULL,
    state TEXT NOT NULL,
    submitted_at REAL NOT NULL,
    next_poll_at REAL NOT NULL,
    enrichment_id TEXT,
    polls INTEGER NOT NULL DEFAULT 0,
    expire_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS submissions_identity ON submissions (identity);
CREATE INDEX IF NOT EXISTS submissions_enrichment ON submissions (enrichment_id);
CREATE INDEX IF NOT EXISTS submissions_poll ON submissions (state, next_poll_at);
"""

Row = tuple[str, str, str, str, float, float, str | None, int, float]


class SqliteSubmissions:
    """See the module docstring. `namespace` prefixes tokens and identities."""

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
        self._ns = namespace + ":"
        self._clock = clock
        self._file = SqliteFile(
            path,
            schema=_SCHEMA,
            purpose="keep async submissions",
            thread_name="pronto-subs",
            busy_timeout_s=busy_timeout_s,
            on_open=self._drop_expired,
        )
        self._run = self._file.run

    def _drop_expired(self, db: sqlite3.Connection) -> None:
        db.execute("DELETE FROM submissions WHERE expire_at <= ?", (self._clock(),))

    def _from_row(self, row: Row) -> Submission:
        token, identity, types, state, submitted_at, next_poll_at, eid, polls, expire_at = row
        return Submission(
            token=token.removeprefix(self._ns),
            identity=identity.removeprefix(self._ns),
            types=tuple(t for t in types.split("+") if t),
            state=SubmissionState(state),
            submitted_at=float(submitted_at),
            next_poll_at=float(next_poll_at),
            enrichment_id=eid.removeprefix(self._ns) if eid else None,
            polls=int(polls),
            expire_at=float(expire_at),
        )

    async def add(self, submission: Submission) -> None:
        values = (
            self._ns + submission.token,
            self._ns + submission.identity,
            "+".join(submission.types),
            submission.state.value,
            submission.submitted_at,
            submission.next_poll_at,
            self._ns + submission.enrichment_id if submission.enrichment_id else None,
            submission.polls,
            _NEVER,
        )
        await self._run(
            lambda db: db.execute(
                f"INSERT INTO submissions ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)",  # noqa: S608
                values,
            )
        )

    async def confirm(self, token: str, enrichment_id: str, next_poll_at: float) -> None:
        await self._run(
            lambda db: db.execute(
                "UPDATE submissions SET state = ?, enrichment_id = ?, next_poll_at = ? "
                "WHERE token = ? AND state = ?",
                (
                    SubmissionState.SUBMITTED.value,
                    self._ns + enrichment_id,
                    next_poll_at,
                    self._ns + token,
                    SubmissionState.UNCONFIRMED.value,
                ),
            )
        )

    async def drop(self, token: str) -> None:
        await self._run(
            lambda db: db.execute(
                "DELETE FROM submissions WHERE token = ? AND state = ?",
                (self._ns + token, SubmissionState.UNCONFIRMED.value),
            )
        )

    async def _one(self, column: str, value: str) -> Submission | None:
        def read(db: sqlite3.Connection) -> Row | None:
            row: Row | None = db.execute(
                f"SELECT {_COLUMNS} FROM submissions WHERE {column} = ? LIMIT 1",  # noqa: S608
                (self._ns + value,),
            ).fetchone()
            return row

        row = await self._run(read)
        return None if row is None else self._from_row(row)

    async def by_token(self, token: str) -> Submission | None:
        return await self._one("token", token)

    async def by_enrichment_id(self, enrichment_id: str) -> Submission | None:
        return await self._one("enrichment_id", enrichment_id)

    async def active_for(self, identities: Collection[str]) -> dict[str, list[Submission]]:
        names = [self._ns + identity for identity in set(identities)]
        if not names:
            return {}

        def read(db: sqlite3.Connection) -> list[Row]:
            rows: list[Row] = []
            for start in range(0, len(names), _IN_CHUNK):
                chunk = names[start : start + _IN_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows += db.execute(
                    f"SELECT {_COLUMNS} FROM submissions "  # noqa: S608 - only "?" marks
                    f"WHERE identity IN ({marks}) AND state != ?",
                    (*chunk, SubmissionState.SETTLED.value),
                ).fetchall()
            return rows

        found: dict[str, list[Submission]] = {}
        for row in await self._run(read):
            submission = self._from_row(row)
            found.setdefault(submission.identity, []).append(submission)
        return found

    async def settle(self, token: str, enrichment_id: str) -> bool:
        now = self._clock()

        def write(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                "UPDATE submissions SET state = ?, enrichment_id = ?, expire_at = ? "
                "WHERE token = ? AND state != ?",
                (
                    SubmissionState.SETTLED.value,
                    self._ns + enrichment_id,
                    now + SETTLED_KEEP_S,
                    self._ns + token,
                    SubmissionState.SETTLED.value,
                ),
            )
            return cursor.rowcount == 1

        return await self._run(write)

    async def due(self, now: float, limit: int) -> list[Submission]:
        def read(db: sqlite3.Connection) -> list[Row]:
            rows: list[Row] = db.execute(
                f"SELECT {_COLUMNS} FROM submissions WHERE state = ? AND next_poll_at <= ? "  # noqa: S608
                "AND token LIKE ? ORDER BY next_poll_at LIMIT ?",
                (SubmissionState.SUBMITTED.value, now, self._ns + "%", limit),
            ).fetchall()
            return rows

        return [self._from_row(row) for row in await self._run(read)]

    async def reschedule(self, token: str, next_poll_at: float, polls: int) -> None:
        await self._run(
            lambda db: db.execute(
                "UPDATE submissions SET next_poll_at = ?, polls = ? WHERE token = ? AND state = ?",
                (next_poll_at, polls, self._ns + token, SubmissionState.SUBMITTED.value),
            )
        )

    async def release_unconfirmed(self, before: float) -> list[Submission]:
        def write(db: sqlite3.Connection) -> list[Row]:
            db.execute("BEGIN IMMEDIATE")
            try:
                where = "WHERE state = ? AND submitted_at < ? AND token LIKE ?"
                args = (SubmissionState.UNCONFIRMED.value, before, self._ns + "%")
                rows: list[Row] = db.execute(
                    f"SELECT {_COLUMNS} FROM submissions {where}",  # noqa: S608
                    args,
                ).fetchall()
                db.execute(f"DELETE FROM submissions {where}", args)  # noqa: S608
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return rows

        return [self._from_row(row) for row in await self._run(write)]

    async def counts(self) -> dict[str, int]:
        now = self._clock()

        def read(db: sqlite3.Connection) -> dict[str, int]:
            counts = {state.value: 0 for state in SubmissionState}
            rows = db.execute(
                "SELECT state, COUNT(*) FROM submissions WHERE token LIKE ? AND expire_at > ? "
                "GROUP BY state",
                (self._ns + "%", now),
            )
            for state, count in rows:
                counts[str(state)] = int(count)
            return counts

        return await self._run(read)

    async def aclose(self) -> None:
        await self._file.aclose()
