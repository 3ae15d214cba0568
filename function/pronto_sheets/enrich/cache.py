"""Answers already paid for, kept so that recalculations and duplicates cost nothing.

One entry per contact and enrichment type (`answer_key`): a sheet of emails asked later
for phones reuses every email and pays only for the phones. Only Pronto's answers are
kept (`success` for `found_ttl_s`, `not_found` for `not_found_ttl_s`); every other status
never is, so a transient problem is retried and never frozen into someone's sheet.
Bounded: the least recently used entry goes first when `max_entries` is reached.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cachetools import TLRUCache

from pronto_sheets.enrich.results import Status, TypeResult


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
        self._entries: TLRUCache[str, TypeResult] = TLRUCache(
            maxsize=max_entries, ttu=self._expires_at, timer=clock
        )

    def _expires_at(self, _key: str, value: TypeResult, now: float) -> float:
        return now + self._ttl[value.status]

    def get(self, key: str) -> TypeResult | None:
        return self._entries.get(key)

    def put(self, key: str, result: TypeResult) -> bool:
        """Keep `result` if it is an answer worth keeping; return whether it was kept."""
        if result.status not in self._ttl or self._ttl[result.status] <= 0:
            return False
        self._entries[key] = result
        return True

    def __len__(self) -> int:
        return len(self._entries)
