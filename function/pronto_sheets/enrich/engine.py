"""The engine: turns a list of contact rows into results without paying twice.

For one request it drops invalid rows, folds rows that are the same contact, answers
what the cache knows, and sends each remaining contact upstream once. Across requests,
a contact already on its way upstream is joined rather than asked again (single-flight),
and an interactive request promotes a queued bulk lookup of the same contact. Lookups
run as tasks of their own: a request that stops waiting (`timeout_s`) leaves them
running, and their answers land in the cache for the next recalculation.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from pronto_sheets.enrich.budget import CreditBudget
from pronto_sheets.enrich.cache import ResultCache
from pronto_sheets.enrich.contacts import Contact, EnrichmentTypes
from pronto_sheets.enrich.gate import Gate, Priority, Ticket
from pronto_sheets.enrich.pronto_client import (
    BudgetExhausted,
    ProntoClient,
    ProntoError,
    ProntoOutOfCredits,
)
from pronto_sheets.enrich.results import PENDING_MESSAGE, RowResult, Status, failed, over_budget
from pronto_sheets.settings import Settings

logger = logging.getLogger(__name__)
UNEXPECTED_MESSAGE = "Something went wrong on our side while asking Pronto. Try again later."


@dataclass
class EnrichStats:
    """Figures for one request, returned as `stats`."""

    contacts: int = 0
    unique: int = 0
    invalid: int = 0
    cache_hits: int = 0
    joined_in_flight: int = 0
    upstream_calls: int = 0
    pending: int = 0
    credits_spent: int = 0
    credits_spent_today: int = 0
    credit_budget: int = 0

    def to_json(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class EnrichOutcome:
    results: list[RowResult]
    stats: EnrichStats


@dataclass
class _Lookup:
    """One contact on its way upstream, shared by every row and request that wants it."""

    task: asyncio.Task[tuple[RowResult, int]]
    ticket: Ticket
    owner: EnrichStats  # the request that started it is the one that paid


@dataclass(frozen=True)
class Plan:
    """What a request would do, without calling Pronto (dry runs and estimates)."""

    rows: int
    invalid: int
    unique: int
    duplicates: int
    cached: int
    to_call: int
    estimated_credits: int


class Enricher:
    """Owns the gate, cache, budget and Pronto client of one instance."""

    def __init__(
        self,
        *,
        client: ProntoClient,
        gate: Gate,
        cache: ResultCache,
        budget: CreditBudget,
    ) -> None:
        self.client = client
        self.gate = gate
        self.cache = cache
        self.budget = budget
        self._in_flight: dict[str, _Lookup] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Enricher:
        """The instance's one enricher: call from inside the event loop that will use it."""
        gate = Gate(settings.rate_per_second, settings.max_in_flight)
        budget = CreditBudget(
            daily_budget=settings.daily_credit_budget,
            credits_per_email=settings.credits_per_email,
            credits_per_phone=settings.credits_per_phone,
        )
        client = ProntoClient(
            api_key=settings.pronto_api_key,
            base_url=settings.pronto_base_url,
            gate=gate,
            budget=budget,
            timeout_s=settings.pronto_timeout_s,
            retry_attempts=settings.retry_attempts,
            retry_total_s=settings.retry_total_s,
        )
        cache = ResultCache(
            max_entries=settings.cache_max_entries,
            found_ttl_s=settings.cache_found_ttl_s,
            not_found_ttl_s=settings.cache_not_found_ttl_s,
        )
        return cls(client=client, gate=gate, cache=cache, budget=budget)

    async def aclose(self) -> None:
        for lookup in list(self._in_flight.values()):
            lookup.task.cancel()
        await self.client.aclose()

    def plan(self, contacts: Sequence[Contact], types: EnrichmentTypes) -> Plan:
        """Count what `enrich` would send upstream, and its worst-case cost."""
        keys: set[str] = set()
        invalid = cached = 0
        for contact in contacts:
            if contact.invalid_reason():
                invalid += 1
                continue
            key = contact.identity(types)
            if key in keys:
                continue
            keys.add(key)
            if self.cache.get(key) is not None:
                cached += 1
        valid = len(contacts) - invalid
        to_call = len(keys) - cached
        return Plan(
            rows=len(contacts),
            invalid=invalid,
            unique=len(keys),
            duplicates=valid - len(keys),
            cached=cached,
            to_call=to_call,
            estimated_credits=to_call * self.budget.worst_case(types),
        )

    async def enrich(
        self,
        contacts: Sequence[Contact],
        types: EnrichmentTypes,
        *,
        priority: Priority = Priority.BATCH,
        timeout_s: float | None = None,
    ) -> EnrichOutcome:
        """Results in the order of `contacts`; rows not done by `timeout_s` are `pending`."""
        stats = EnrichStats(contacts=len(contacts))
        results: list[RowResult | None] = [None] * len(contacts)
        rows_of: dict[str, list[int]] = {}
        for index, contact in enumerate(contacts):
            reason = contact.invalid_reason()
            if reason:
                stats.invalid += 1
                results[index] = RowResult(Status.INVALID, message=reason, custom=contact.custom)
            else:
                rows_of.setdefault(contact.identity(types), []).append(index)
        stats.unique = len(rows_of)

        from_cache: dict[str, RowResult] = {}
        lookups: dict[str, _Lookup] = {}
        for key, rows in rows_of.items():
            hit = self.cache.get(key)
            if hit is not None:
                from_cache[key] = hit
            else:
                lookups[key] = self._join(key, contacts[rows[0]], types, priority, stats)
        if lookups:
            await asyncio.wait({lookup.task for lookup in lookups.values()}, timeout=timeout_s)

        for key, rows in rows_of.items():
            cached = key in from_cache
            if cached:
                result = from_cache[key]
                stats.cache_hits += len(rows)
            elif lookups[key].task.done():
                result, credits = lookups[key].task.result()
                if lookups[key].owner is stats:
                    stats.credits_spent += credits
            else:
                result = RowResult(Status.PENDING, message=PENDING_MESSAGE)
                stats.pending += len(rows)
            for index in rows:
                results[index] = result.for_row(cached=cached, custom=contacts[index].custom)
        stats.credits_spent_today = self.budget.spent_today
        stats.credit_budget = self.budget.daily_budget
        return EnrichOutcome([r for r in results if r is not None], stats)

    def _join(
        self,
        key: str,
        contact: Contact,
        types: EnrichmentTypes,
        priority: Priority,
        stats: EnrichStats,
    ) -> _Lookup:
        lookup = self._in_flight.get(key)
        if lookup is not None:
            stats.joined_in_flight += 1
            self.gate.promote(lookup.ticket, priority)
        else:
            stats.upstream_calls += 1
            ticket = Ticket(priority)
            task = asyncio.create_task(self._look_up(key, contact, types, ticket))
            lookup = _Lookup(task=task, ticket=ticket, owner=stats)
            self._in_flight[key] = lookup
            task.add_done_callback(functools.partial(self._forget, key))
        return lookup

    def _forget(self, key: str, _task: asyncio.Task[tuple[RowResult, int]]) -> None:
        self._in_flight.pop(key, None)

    async def _look_up(
        self, key: str, contact: Contact, types: EnrichmentTypes, ticket: Ticket
    ) -> tuple[RowResult, int]:
        """One contact upstream, start to finish; never raises (errors become rows)."""
        try:
            answer = await self.client.enrich(contact, types, ticket)
        except (ProntoOutOfCredits, BudgetExhausted) as exc:
            return over_budget(exc.message), 0
        except ProntoError as exc:
            return failed(exc.message), 0
        except Exception:  # a bug must not leave a request hanging, nor become a 5xx
            logger.exception("unexpected error in a Pronto lookup")
            return failed(UNEXPECTED_MESSAGE), 0
        self.cache.put(key, answer.result)
        return answer.result, answer.credits
