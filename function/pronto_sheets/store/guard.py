"""`GuardedStore`: a store that may fail without taking the function down.

The first failure marks the store degraded and writes one JSON log line saying why (no
secret: the reason is our own sentence with the error's type). While degraded, calls fail
at once with `StoreError` (callers answer from memory and Pronto, and the budget spends
from its in-memory fallback) until `retry_after_s` has passed; then the next call tries
the store again, and a success says so in one more line.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TypeVar

from pronto_sheets.errors import StoreError
from pronto_sheets.store.protocol import Claim, LedgerDay, Store, StoredAnswer

_T = TypeVar("_T")


def _log_line(line: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


@dataclass(frozen=True)
class StoreHealth:
    """What /healthz says of the store: its kind, "ok" or "degraded", and why."""

    kind: str
    status: str
    message: str | None = None


class GuardedStore:
    """Wraps a `Store` (see the module docstring); itself a `Store`."""

    def __init__(
        self,
        backend: Store,
        *,
        note: str = "",
        retry_after_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        log: Callable[[dict[str, object]], None] = _log_line,
    ) -> None:
        self.backend = backend
        self.kind = backend.kind
        self._note = note
        self._retry_after_s = retry_after_s
        self._clock = clock
        self._log = log
        self._reason: str | None = None
        self._retry_at = 0.0
        self._checked = False

    @property
    def health(self) -> StoreHealth:
        if self._reason is None:
            return StoreHealth(self.kind, "ok")
        return StoreHealth(self.kind, "degraded", f"{self._reason} {self._note}".strip())

    @property
    def degraded(self) -> bool:
        return self._reason is not None

    async def _guard(self, work: Callable[[], Awaitable[_T]]) -> _T:
        if self._reason is not None and self._clock() < self._retry_at:
            raise StoreError(self._reason)
        try:
            result = await work()
        except StoreError as exc:
            self._failed(exc)
            raise
        self._checked = True
        if self._reason is not None:
            self._reason = None
            self._log(
                {
                    "severity": "INFO",
                    "message": f"The {self.kind} store is available again.",
                    "event": "store_recovered",
                    "store": self.kind,
                }
            )
        return result

    def _failed(self, exc: StoreError) -> None:
        self._checked = True
        self._retry_at = self._clock() + self._retry_after_s
        if self._reason is None:
            self._reason = exc.message
            self._log(
                {
                    "severity": "WARNING",
                    "message": f"{exc.message} {self._note}".strip(),
                    "event": "store_degraded",
                    "store": self.kind,
                }
            )

    async def check(self) -> StoreHealth:
        """The store's health, trying it first when it was never used or is due a retry."""
        if not self._checked or (self._reason is not None and self._clock() >= self._retry_at):
            with contextlib.suppress(StoreError):
                await self._guard(lambda: self.backend.get_answers(["healthz"]))
        return self.health

    async def get_answers(self, keys: Collection[str]) -> dict[str, StoredAnswer]:
        return await self._guard(lambda: self.backend.get_answers(keys))

    async def put_answers(
        self,
        answers: Mapping[str, StoredAnswer],
        subjects: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        await self._guard(lambda: self.backend.put_answers(answers, subjects))

    async def find_identities(self, subjects: Collection[str]) -> set[str]:
        return await self._guard(lambda: self.backend.find_identities(subjects))

    async def forget(self, keys: Collection[str], identities: Collection[str]) -> int:
        return await self._guard(lambda: self.backend.forget(keys, identities))

    async def claim_credits(self, day: str, *, wanted: int, minimum: int, limit: int) -> Claim:
        return await self._guard(
            lambda: self.backend.claim_credits(day, wanted=wanted, minimum=minimum, limit=limit)
        )

    async def release_credits(self, day: str, credits: int) -> None:
        await self._guard(lambda: self.backend.release_credits(day, credits))

    async def record_spent(self, day: str, credits: int) -> None:
        await self._guard(lambda: self.backend.record_spent(day, credits))

    async def close_day(self, day: str) -> None:
        await self._guard(lambda: self.backend.close_day(day))

    async def ledger(self, day: str) -> LedgerDay:
        return await self._guard(lambda: self.backend.ledger(day))

    async def aclose(self) -> None:
        await self.backend.aclose()
