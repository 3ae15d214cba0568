"""The answer cache and the daily credit budget, with their clocks in the test's hands."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from pronto_sheets.enrich.budget import CreditBudget
from pronto_sheets.enrich.cache import ResultCache
from pronto_sheets.enrich.contacts import EnrichmentTypes
from pronto_sheets.errors import StoreError
from pronto_sheets.results import Status, TypeResult
from pronto_sheets.store import MemoryStore
from tests.support.wait import wait_until_async

DAY = 86400.0
PRICES = {"email": 3, "phone": 30, "personal_email": 20}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_found_and_not_found_expire_on_their_own_schedules() -> None:
    """Found answers live 30 days, not-found 7; after that they are asked again."""
    clock = Clock()
    cache = ResultCache(max_entries=10, found_ttl_s=30 * DAY, not_found_ttl_s=7 * DAY, clock=clock)
    cache.put("found", TypeResult(Status.SUCCESS, value="a@b.io"))
    cache.put("nothing", TypeResult(Status.NOT_FOUND))
    clock.now += 8 * DAY
    assert cache.get("found") is not None
    assert cache.get("nothing") is None
    clock.now += 23 * DAY
    assert cache.get("found") is None


def test_failures_are_never_cached() -> None:
    """Every status but success and not_found is "try again" or "fix the row": not kept."""
    cache = ResultCache(max_entries=10, found_ttl_s=DAY, not_found_ttl_s=DAY)
    for status in Status:
        if status not in (Status.SUCCESS, Status.NOT_FOUND):
            assert cache.put(status.value, TypeResult(status, message="later")) is False
    assert len(cache) == 0


def test_cache_is_bounded_and_forgets_the_least_recently_used() -> None:
    """At max_entries the entry unused the longest goes first."""
    cache = ResultCache(max_entries=2, found_ttl_s=DAY, not_found_ttl_s=DAY)
    cache.put("a", TypeResult(Status.SUCCESS, value="a@x.io"))
    cache.put("b", TypeResult(Status.SUCCESS, value="b@x.io"))
    assert cache.get("a") is not None
    cache.put("c", TypeResult(Status.SUCCESS, value="c@x.io"))
    assert cache.get("b") is None
    assert cache.get("a") is not None
    assert cache.get("c") is not None


async def test_budget_reserves_the_worst_case_and_settles_to_the_real_cost() -> None:
    """Concurrent calls cannot overshoot: one short of credits waits while another holds a
    reservation, goes when that call settles for less, and is refused when nothing is left."""
    budget = CreditBudget(daily_budget=40, credits_per_type=PRICES)
    both = EnrichmentTypes.parse(["email", "phone"])
    first = await budget.reserve(both)
    assert first is not None
    second = asyncio.create_task(budget.reserve(both))  # 33 reserved, 7 left: it waits
    await asyncio.sleep(0)
    assert not second.done()
    await budget.settle(first, 0)  # nothing found: the 33 come back
    reservation = await second
    assert reservation is not None
    third = asyncio.create_task(budget.reserve(both))
    await asyncio.sleep(0)
    assert not third.done()
    await budget.settle(reservation, 30)  # a phone found: 10 left, less than a call's 33
    assert await third is None
    assert (budget.spent_today, budget.remaining) == (30, 10)


async def test_budget_starts_again_each_utc_day() -> None:
    """Midnight UTC resets spending, and Pronto's own "out of credits" too."""
    today = [dt.date(2026, 11, 26)]
    budget = CreditBudget(daily_budget=10, credits_per_type=PRICES, today=lambda: today[0])
    email = EnrichmentTypes.parse(["email"])
    reservation = await budget.reserve(email)
    assert reservation is not None
    await budget.settle(reservation, 3)
    await budget.close_for_today()
    assert budget.remaining == 0
    assert "out of credits" in budget.exhausted_message
    today[0] = dt.date(2026, 11, 27)
    assert (budget.spent_today, budget.remaining) == (0, 10)
    assert "PRONTO_DAILY_CREDIT_BUDGET" in budget.exhausted_message


class _BrokenStore(MemoryStore):
    """A store whose every call fails, as Firestore does when it cannot be reached."""

    kind = "broken"

    async def claim_credits(self, day: str, *, wanted: int, minimum: int, limit: int) -> Any:
        raise StoreError("The test store is down.")

    async def ledger(self, day: str) -> Any:
        raise StoreError("The test store is down.")


async def test_two_budgets_sharing_a_store_never_pass_the_cap_together() -> None:
    """Two processes' budgets on one ledger: 100 credits of 3-credit calls, 33 calls at most,
    however they interleave; each claims blocks, never more than the day holds."""
    store = MemoryStore()
    email = EnrichmentTypes.parse(["email"])
    budgets = [
        CreditBudget(daily_budget=100, credits_per_type=PRICES, store=store, block_credits=20)
        for _ in range(2)
    ]
    granted = 0
    for turn in range(60):
        reservation = await budgets[turn % 2].reserve(email)
        if reservation is not None:
            granted += 1
            await budgets[turn % 2].settle(reservation, 3)
    ledger = await store.ledger(dt.datetime.now(dt.UTC).date().isoformat())
    assert ledger.claimed <= 100
    assert ledger.spent == 3 * granted
    assert 3 * granted <= 100
    assert granted >= (100 - 2 * 20) // 3  # at most one block per process left unused


async def test_a_closing_budget_gives_back_what_it_did_not_use() -> None:
    """One email (3 credits) from a block of 50, then aclose: the ledger keeps only 3."""
    store = MemoryStore()
    budget = CreditBudget(daily_budget=100, credits_per_type=PRICES, store=store)
    reservation = await budget.reserve(EnrichmentTypes.parse(["email"]))
    assert reservation is not None
    await budget.settle(reservation, 3)
    day = dt.datetime.now(dt.UTC).date().isoformat()
    assert (await store.ledger(day)).claimed == 50
    await budget.aclose()
    assert (await store.ledger(day)).claimed == 3


async def test_an_idle_budget_gives_back_what_it_did_not_use() -> None:
    """Cloud Run stops idle instances without warning: once no call has been under way for
    idle_release_s, the unused part of the block goes back to the ledger by itself, and
    the next call claims again."""
    store = MemoryStore()
    budget = CreditBudget(
        daily_budget=100, credits_per_type=PRICES, store=store, idle_release_s=0.05
    )
    day = dt.datetime.now(dt.UTC).date().isoformat()
    reservation = await budget.reserve(EnrichmentTypes.parse(["email"]))
    assert reservation is not None
    await budget.settle(reservation, 3)
    assert (await store.ledger(day)).claimed == 50

    async def given_back() -> bool:
        return (await store.ledger(day)).claimed == 3

    await wait_until_async(given_back, timeout=5, what="the idle block to go back to the ledger")
    again = await budget.reserve(EnrichmentTypes.parse(["email"]))
    assert again is not None
    assert (await store.ledger(day)).claimed == 53
    await budget.aclose()


async def test_a_failing_store_falls_back_to_a_tenth_of_the_budget() -> None:
    """With the store down the budget still spends, but at most 10% of the daily budget,
    and says why when it is used up."""
    budget = CreditBudget(daily_budget=300, credits_per_type=PRICES, store=_BrokenStore())
    email = EnrichmentTypes.parse(["email"])
    spent = 0
    while (reservation := await budget.reserve(email)) is not None:
        await budget.settle(reservation, 3)
        spent += 3
    assert spent == 30
    assert budget.exhausted_message.startswith(
        "The store that keeps today's credit count is unavailable, so spending is held to "
        "30 credits (10% of the daily budget) until it is back."
    )


def test_each_type_found_costs_its_own_price() -> None:
    """An email found costs 3, a phone 30, a personal email its own price; nothing found, 0."""
    budget = CreditBudget(daily_budget=100, credits_per_type=PRICES)
    assert budget.worst_case(["email", "phone", "personal_email"]) == 53
    assert budget.cost(["personal_email"]) == 20
    assert budget.cost([]) == 0
