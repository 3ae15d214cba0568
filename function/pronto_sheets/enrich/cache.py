"""Answers already paid for, kept so that recalculations and duplicates cost nothing.

One entry per contact and enrichment type (`answer_key`): a sheet of emails asked later
for phones reuses every email and pays only for the phones. Only Pronto's answers are
kept (`success` for `found_ttl_s`, `not_found` for `not_found_ttl_s`); every other status
never is, so a transient problem is retried and never frozen into someone's sheet.
Bounded: the least recently used entry goes first when `max_entries` is reached.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from cachetools import TLRUCache

from pronto_sheets.results import Status, TypeResult


@dataclass(frozen=True)
class _Entry:
    result: TypeResult
    ttl_s: float


def answer_key(identity: str, type_name: str) -> str:
    """The cache key of one type's answer for one contact."""
    return f"{identity}:{type_name}"


class ResultCache:
    """An LRU of `TypeResult` by `answer_key`, each entry with a TTL chosen by its status."""

    def __init__(
        self,
        *,
        max_entries: int,
        found_ttl_s: float,
        not_found_ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = {Status.SUCCESS: found_ttl_s, Status.NOT_FOUND: not_found_ttl_s}
        self._entries: TLRUCache[str, _Entry] = TLRUCache(
            maxsize=max_entries, ttu=self._expires_at, timer=clock
        )

    def _expires_at(self, _key: str, value: _Entry, now: float) -> float:
        return now + value.ttl_s

    def ttl_s(self, result: TypeResult) -> float:
        """How long `result` is kept (0 when it is not an answer worth keeping)."""
        return max(0.0, self._ttl.get(result.status, 0.0))

    def get(self, key: str) -> TypeResult | None:
        entry = self._entries.get(key)
        return entry.result if entry is not None else None

    def put(self, key: str, result: TypeResult, *, ttl_s: float | None = None) -> bool:
        """Keep `result` if it is an answer worth keeping; return whether it was kept.

        `ttl_s` shortens its life (an answer read back from the store keeps its own expiry).
        """
        full = self.ttl_s(result)
        life = full if ttl_s is None else min(full, ttl_s)
        if life <= 0:
            return False
        self._entries[key] = _Entry(result, life)
        return True

    def forget(self, keys: Collection[str]) -> int:
        """Drop these answers (erasure); return how many were held."""
        dropped = 0
        for key in keys:
            if self._entries.pop(key, None) is not None:
                dropped += 1
        return dropped

    def __len__(self) -> int:
        return len(self._entries)
