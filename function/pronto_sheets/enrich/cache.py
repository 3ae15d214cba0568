"""Answers already paid for, kept so that recalculations and duplicates cost nothing.

Only Pronto's answers are kept (`success` for `found_ttl_s`, `not_found` for
`not_found_ttl_s`); `failed`, `pending`, `invalid` and `over_budget` never are, so a
transient problem is retried and never frozen into someone's sheet. Bounded: the least
recently used entry goes first when `max_entries` is reached.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cachetools import TLRUCache

from pronto_sheets.enrich.results import RowResult, Status


class ResultCache:
    """An LRU of `RowResult` by contact identity, each entry with a TTL chosen by its status."""

    def __init__(
        self,
        *,
        max_entries: int,
        found_ttl_s: float,
        not_found_ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = {Status.SUCCESS: found_ttl_s, Status.NOT_FOUND: not_found_ttl_s}
        self._entries: TLRUCache[str, RowResult] = TLRUCache(
            maxsize=max_entries, ttu=self._expires_at, timer=clock
        )

    def _expires_at(self, _key: str, value: RowResult, now: float) -> float:
        return now + self._ttl[value.status]

    def get(self, key: str) -> RowResult | None:
        return self._entries.get(key)

    def put(self, key: str, result: RowResult) -> bool:
        """Keep `result` if it is an answer worth keeping; return whether it was kept."""
        if result.status not in self._ttl or self._ttl[result.status] <= 0:
            return False
        self._entries[key] = result.for_row(cached=False, custom=None)
        return True

    def __len__(self) -> int:
        return len(self._entries)
