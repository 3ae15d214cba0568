"""The engine and the budget over a store, in-process: one read per request, answers kept
before a lookup reports, a store that fails and comes back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pytest

from pronto_sheets.enrich.budget import CreditBudget
from pronto_sheets.enrich.contacts import Contact, EnrichmentTypes
from pronto_sheets.enrich.engine import Enricher
from pronto_sheets.errors import StoreError
from pronto_sheets.settings import StoreConfig
from pronto_sheets.store import GuardedStore, MemoryStore, StoredAnswer
from pronto_sheets.store.sqlite import SqliteStore
from tests.support.people import people
from tests.support.stack import Simulator
from tests.test_sheet_filler import fast_settings

EMAIL = EnrichmentTypes(("email",))


@pytest.fixture
def fast_sim(sim: Simulator) -> Simulator:
    """The session simulator with 1 ms latency and limits far above what tests use."""
    sim.reset(rate=10_000, max_open=20, latency_ms=1)
    return sim


PRICES = {"email": 3, "phone": 30, "personal_email": 20}


class CountingSqlite(SqliteStore):
    """A SQLite store that counts its reads and the keys each asked for."""

    def __init__(self, path: Path, namespace: str) -> None:
        super().__init__(path, namespace)
        self.reads: list[int] = []

    async def get_answers(self, keys: Collection[str]) -> dict[str, StoredAnswer]:
        self.reads.append(len(keys))
        return await super().get_answers(keys)


def contacts(rows: list[dict[str, Any]]) -> list[Contact]:
    return [Contact.from_mapping(row) for row in rows]


async def test_a_request_reads_its_misses_from_the_store_once(
    fast_sim: Simulator, tmp_path: Path
) -> None:
    """A new enricher on the same store: 150 contacts, 120 kept by an earlier one, are one
    read of 150 keys; Pronto is asked only the 30 others, and a repeat reads nothing."""
    settings = fast_settings(fast_sim.url, store=StoreConfig("sqlite", tmp_path / "s.db"))
    known = contacts(people(120, "onceread"))
    first = Enricher.from_settings(settings)
    try:
        await first.enrich(known, EMAIL)
    finally:
        await first.aclose()
    assert fast_sim.stats()["served"] == 120

    fast_sim.reset(rate=10_000, max_open=20, latency_ms=1)
    second = Enricher.from_settings(settings)
    counting = CountingSqlite(tmp_path / "s.db", enricher_namespace(fast_sim.url))
    second.store = GuardedStore(counting)
    try:
        outcome = await second.enrich(known + contacts(people(30, "onceread-new")), EMAIL)
        repeat = await second.enrich(known, EMAIL)
    finally:
        await second.aclose()
    assert counting.reads == [150]
    assert (outcome.stats.cache_hits, outcome.stats.upstream_calls) == (120, 30)
    assert fast_sim.stats()["served"] == 30
    assert repeat.stats.cache_hits == 120


async def test_an_answer_is_in_the_store_when_the_lookup_reports_it(
    fast_sim: Simulator, tmp_path: Path
) -> None:
    """By the time enrich() returns a row, its answer is on disk for any other process."""
    settings = fast_settings(fast_sim.url, store=StoreConfig("sqlite", tmp_path / "s.db"))
    enricher = Enricher.from_settings(settings)
    rows = contacts(people(5, "kept"))
    try:
        outcome = await enricher.enrich(rows, EMAIL)
    finally:
        await enricher.aclose()
    other = SqliteStore(tmp_path / "s.db", enricher_namespace(fast_sim.url))
    kept = await other.get_answers([f"{c.identity()}:email" for c in rows])
    await other.aclose()
    assert [kept[f"{c.identity()}:email"].result for c in rows] == [
        r.types["email"] for r in outcome.results
    ]


def enricher_namespace(url: str) -> str:
    from pronto_sheets.store.selection import namespace_for

    return namespace_for(url)


class FlakyStore(MemoryStore):
    """A memory store that fails every call while `down`."""

    kind = "flaky"

    def __init__(self) -> None:
        super().__init__()
        self.down = True

    async def claim_credits(self, day: str, *, wanted: int, minimum: int, limit: int) -> Any:
        if self.down:
            raise StoreError("The flaky store is down.")
        return await super().claim_credits(day, wanted=wanted, minimum=minimum, limit=limit)

    async def ledger(self, day: str) -> Any:
        if self.down:
            raise StoreError("The flaky store is down.")
        return await super().ledger(day)


async def test_a_store_back_from_an_outage_gets_what_was_spent_meanwhile() -> None:
    """Down: the budget spends from its fallback and the log says so once. Back (after the
    retry delay): the credits claimed meanwhile are written to the ledger first, and the
    log says it is back."""
    backend = FlakyStore()
    now = [0.0]
    lines: list[dict[str, object]] = []
    guarded = GuardedStore(backend, clock=lambda: now[0], log=lines.append, retry_after_s=30)
    budget = CreditBudget(daily_budget=1000, credits_per_type=PRICES, store=guarded)
    day = dt.datetime.now(dt.UTC).date().isoformat()
    for _ in range(3):
        reservation = await budget.reserve(EMAIL)
        assert reservation is not None
        await budget.settle(reservation, 3)
    assert guarded.health.status == "degraded"
    assert [line["event"] for line in lines] == ["store_degraded"]

    backend.down = False
    now[0] = 31.0
    for _ in range(20):  # 60 credits: past the 41 left of the fallback's block
        assert await budget.reserve(EMAIL) is not None
    ledger = await backend.ledger(day)
    assert ledger.claimed == 50 + 50  # the fallback's block, then a block of the store's
    assert guarded.health.status == "ok"
    assert [line["event"] for line in lines] == ["store_degraded", "store_recovered"]
