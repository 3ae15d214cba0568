"""The engine: turns contact rows into results without paying twice.

For one request it drops invalid rows, folds rows that are the same contact, and works
per enrichment type: a type the row cannot be asked (phone or personal email without a
LinkedIn URL) is not sent and says what to add; a type the cache knows is answered from
it (memory first, then the durable store for what memory lacks: one batched read per
request); the rest of one contact's types go upstream together, in one call. An answer is
written to the store as soon as Pronto gives it, before the lookup reports it, so a
process stopped afterwards never pays for it again. Across requests, a
(contact, type) already on its way upstream is joined rather than asked again
(single-flight), and an interactive request promotes a queued bulk lookup of the same
contact. Lookups run as tasks of their own: a request that stops waiting (`timeout_s`)
leaves them running, and their answers land in the cache for the next recalculation.

Account-level conditions are reported once per request as `notices`, not row by row:
Pronto refusing personal emails for lack of consent pauses personal-email lookups (one
probe per `consent_retry_s`), and the day's budget being spent.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from pronto_sheets.enrich.budget import DEGRADED_SHARE, CreditBudget, degraded_limit
from pronto_sheets.enrich.cache import ResultCache, answer_key
from pronto_sheets.enrich.contacts import Contact, EnrichmentTypes
from pronto_sheets.enrich.gate import Gate, Priority, Ticket
from pronto_sheets.enrich.pronto_client import ProntoClient
from pronto_sheets.enrich.results import RowResult, Status, TypeResult, pending_message
from pronto_sheets.errors import (
    BudgetExhausted,
    ConsentRequired,
    ProntoError,
    ProntoOutOfCredits,
    StoreError,
)
from pronto_sheets.settings import Settings
from pronto_sheets.store import GuardedStore, MemoryStore, StoredAnswer, open_store
from pronto_sheets.vocabulary import vocabulary

logger = logging.getLogger(__name__)
UNEXPECTED_MESSAGE = "Something went wrong on our side while asking Pronto. Try again later."
PERSONAL_EMAIL = "personal_email"

TypeResults = dict[str, TypeResult]


@dataclass
class EnrichStats:
    """Figures for one request, returned as `stats` (counts are rows unless named)."""

    contacts: int = 0
    unique: int = 0
    invalid: int = 0
    cache_hits: int = 0  # rows answered entirely from the cache
    joined_in_flight: int = 0  # lookups of this request already under way for another
    upstream_calls: int = 0  # lookups this request started (one Pronto call each)
    pending: int = 0
    needs_linkedin: int = 0  # rows with a type not asked for lack of a LinkedIn URL
    paused: int = 0  # rows whose personal email waits for the account's consent
    credits_spent: int = 0
    credits_spent_today: int = 0
    credit_budget: int = 0

    def to_json(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Notice:
    """An account-level condition, said once per request (not once per row)."""

    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass
class EnrichOutcome:
    results: list[RowResult]
    stats: EnrichStats
    notices: list[Notice] = field(default_factory=list)


@dataclass(frozen=True)
class Estimate:
    """What asking some contacts' types would take, given what the cache already has."""

    cached: int  # (contact, type) answers the cache already has
    to_call: int  # Pronto calls: one per contact with something left to ask
    estimated_credits: int  # at most, if Pronto finds everything asked


@dataclass(frozen=True)
class Plan:
    """What a request would do, without calling Pronto (dry runs and estimates)."""

    rows: int
    invalid: int
    unique: int
    duplicates: int
    cached: int  # (contact, type) answers the cache already has
    to_call: int  # Pronto calls (one per contact with something left to ask)
    needs_linkedin: int  # rows with a type that cannot be asked without a LinkedIn URL
    estimated_credits: int  # at most, if Pronto finds everything asked


class ConsentGate:
    """Whether personal emails may be asked now, so that an account without consent sees
    at most one refused call per `retry_s`.

    Unknown (at start): the first lookup is a probe and the others wait for its answer.
    Granted: everyone goes. Refused: nobody, until `retry_s` has passed; then one probe.
    """

    def __init__(self, retry_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._retry_s = retry_s
        self._clock = clock
        self._granted = False
        self._refused_until: float | None = None
        self._probe: asyncio.Event | None = None
        self._probe_owner: asyncio.Task[object] | None = None

    @property
    def paused(self) -> bool:
        """True when a personal-email lookup would not go now (refused and not yet due)."""
        if self._refused_until is None:
            return False
        return self._probe is not None or self._clock() < self._refused_until

    async def turn(self) -> bool:
        """Wait for the right to ask; False means paused (do not send personal_email)."""
        while True:
            if self._granted:
                return True
            if self.paused:
                return False
            if self._probe is None:
                self._probe = asyncio.Event()
                self._probe_owner = asyncio.current_task()
                return True
            await self._probe.wait()

    def answered(self) -> None:
        """Pronto answered a call that asked for personal emails: consent is there."""
        self._granted, self._refused_until = True, None
        self._end_probe(force=True)

    def refused(self) -> None:
        self._granted, self._refused_until = False, self._clock() + self._retry_s
        self._end_probe(force=True)

    def inconclusive(self) -> None:
        """The call failed for another reason: let the next lookup probe instead."""
        self._end_probe(force=False)

    def _end_probe(self, *, force: bool) -> None:
        if self._probe is None or not (force or self._probe_owner is asyncio.current_task()):
            return
        self._probe.set()
        self._probe, self._probe_owner = None, None


@dataclass
class _Lookup:
    """One Pronto call for one contact's types, shared by every row and request that wants
    any of those types."""

    task: asyncio.Task[tuple[TypeResults, int]]
    ticket: Ticket
    owner: EnrichStats  # the request that started it is the one that paid


class Enricher:
    """Owns the gate, cache, budget and Pronto client of one instance."""

    def __init__(
        self,
        *,
        client: ProntoClient,
        gate: Gate,
        cache: ResultCache,
        budget: CreditBudget,
        consent: ConsentGate | None = None,
        store: GuardedStore | None = None,
    ) -> None:
        self.client = client
        self.gate = gate
        self.cache = cache
        self.budget = budget
        self.consent = consent or ConsentGate(60.0)
        self.store = store or GuardedStore(MemoryStore(keep_answers=False))
        self._in_flight: dict[str, _Lookup] = {}  # answer_key -> the lookup that will answer

    @classmethod
    def from_settings(cls, settings: Settings) -> Enricher:
        """The instance's one enricher: call from inside the event loop that will use it."""
        gate = Gate(settings.rate_per_second, settings.max_in_flight)
        store = open_store(
            settings.store,
            settings.pronto_base_url,
            note=(
                "Until it is back, answers come from memory and Pronto, and spending is held "
                f"to {degraded_limit(settings.daily_credit_budget)} credits "
                f"({DEGRADED_SHARE:.0%} of the daily budget)."
            ),
            timeout_s=settings.store_timeout_s,
        )
        budget = CreditBudget(
            daily_budget=settings.daily_credit_budget,
            credits_per_type=settings.credits_per_type,
            store=store if settings.store.kind != "memory" else None,
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
        return cls(
            client=client,
            gate=gate,
            cache=cache,
            budget=budget,
            consent=ConsentGate(settings.consent_retry_s),
            store=store,
        )

    async def aclose(self) -> None:
        for lookup in {id(x): x for x in self._in_flight.values()}.values():
            lookup.task.cancel()
        await self.client.aclose()
        await self.budget.aclose()
        await self.store.aclose()

    async def recall(self, wanted: Mapping[str, Collection[str]]) -> int:
        """Bring the store's answers for these identities' types into memory; return how
        many it brought (see `_known`)."""
        return (await self._known(wanted))[1]

    async def _known(self, wanted: Mapping[str, Collection[str]]) -> tuple[TypeResults, int]:
        """The answers already paid for among `wanted` (identity -> types), by answer key:
        memory first, then the store for what memory lacks and no lookup under way will
        answer, in one read; and how many came from the store. A store that fails brings
        none: Pronto is asked instead."""
        known: TypeResults = {}
        misses: list[str] = []
        for identity, names in wanted.items():
            for name in names:
                key = answer_key(identity, name)
                hit = self.cache.get(key)
                if hit is not None:
                    known[key] = hit
                elif key not in self._in_flight:
                    misses.append(key)
        if not misses:
            return known, 0
        try:
            stored = await self.store.get_answers(misses)
        except StoreError:
            return known, 0
        now = time.time()
        for key, answer in stored.items():
            known[key] = answer.result
            self.cache.put(key, answer.result, ttl_s=answer.expire_at - now)
        return known, len(stored)

    def plan(
        self, contacts: Sequence[Contact], types: EnrichmentTypes | Sequence[EnrichmentTypes]
    ) -> Plan:
        """Count what `enrich` would send upstream, and its worst-case cost."""
        per_row = _per_row(types, len(contacts))
        wanted: dict[str, set[str]] = {}
        invalid = needs_linkedin = rows = 0
        for contact, row_types in zip(contacts, per_row, strict=True):
            rows += 1
            if contact.invalid_reason():
                invalid += 1
                continue
            askable = [name for name in row_types if contact.can_ask(name)]
            needs_linkedin += len(askable) < len(row_types.names)
            wanted.setdefault(contact.identity(), set()).update(askable)
        estimate = self.estimate(wanted)
        return Plan(
            rows=rows,
            invalid=invalid,
            unique=len(wanted),
            duplicates=rows - invalid - len(wanted),
            cached=estimate.cached,
            to_call=estimate.to_call,
            needs_linkedin=needs_linkedin,
            estimated_credits=estimate.estimated_credits,
        )

    async def estimate_in_slices(
        self, wanted: Mapping[str, Collection[str]], *, slice_size: int = 2_000
    ) -> Estimate:
        """`estimate` for a big sheet, giving the event loop back between slices."""
        total = Estimate(0, 0, 0)
        items = list(wanted.items())
        for start in range(0, len(items), slice_size):
            part = self.estimate(dict(items[start : start + slice_size]))
            total = Estimate(
                total.cached + part.cached,
                total.to_call + part.to_call,
                total.estimated_credits + part.estimated_credits,
            )
            await asyncio.sleep(0)
        return total

    def estimate(self, wanted: Mapping[str, Collection[str]]) -> Estimate:
        """Calls and worst-case credits to ask each identity its types, cache aside."""
        cached = to_call = credits = 0
        for identity, names in wanted.items():
            left = [n for n in names if self.cache.get(answer_key(identity, n)) is None]
            cached += len(names) - len(left)
            if left:
                to_call += 1
                credits += self.budget.worst_case(left)
        return Estimate(cached, to_call, credits)

    async def enrich(
        self,
        contacts: Sequence[Contact],
        types: EnrichmentTypes | Sequence[EnrichmentTypes],
        *,
        priority: Priority = Priority.BATCH,
        timeout_s: float | None = None,
    ) -> EnrichOutcome:
        """Results in the order of `contacts`; rows not done by `timeout_s` are `pending`.

        `types` is asked of every row, or given per row (a sheet asks each row only what
        it still lacks).
        """
        per_row = _per_row(types, len(contacts))
        stats = EnrichStats(contacts=len(contacts))
        notices: dict[str, Notice] = {}
        fixed: list[TypeResults] = [{} for _ in contacts]  # decided without Pronto
        identities: list[str | None] = []
        wanted: dict[str, set[str]] = {}
        first_row: dict[str, int] = {}
        for index, (contact, row_types) in enumerate(zip(contacts, per_row, strict=True)):
            if contact.invalid_reason():
                identities.append(None)
                continue
            identity = contact.identity()
            identities.append(identity)
            first_row.setdefault(identity, index)
            for name in row_types:
                if not contact.can_ask(name):
                    message = vocabulary().needs_linkedin_message(name)
                    fixed[index][name] = TypeResult(Status.NEEDS_LINKEDIN, message=message)
                else:
                    wanted.setdefault(identity, set()).add(name)
        stats.unique = len(first_row)
        remembered, _ = await self._known(wanted)

        known: dict[str, TypeResult] = {}
        lookups: dict[str, _Lookup] = {}  # answer_key -> lookup
        order = vocabulary().type_names
        for identity, names in wanted.items():
            missing: list[str] = []
            joined: dict[int, _Lookup] = {}
            for wanted_type in sorted(names, key=order.index) if len(names) > 1 else names:
                key = answer_key(identity, wanted_type)
                # Memory again for a miss: a lookup may have answered while the store read.
                hit = remembered.get(key) or self.cache.get(key)
                if hit is not None:
                    known[key] = hit
                elif key in self._in_flight:
                    shared = self._in_flight[key]
                    lookups[key] = joined.setdefault(id(shared), shared)
                elif wanted_type == PERSONAL_EMAIL and self.consent.paused:
                    known[key] = _paused()
                else:
                    missing.append(wanted_type)
            for lookup in joined.values():
                self.gate.promote(lookup.ticket, priority)
            stats.joined_in_flight += len(joined)
            if missing:
                contact = contacts[first_row[identity]]
                lookup = self._start(identity, contact, EnrichmentTypes.of(missing), priority)
                stats.upstream_calls += 1
                lookup.owner = stats
                for missing_type in missing:
                    lookups[answer_key(identity, missing_type)] = lookup
        tasks = {lookup.task for lookup in lookups.values()}
        if tasks:
            await asyncio.wait(tasks, timeout=timeout_s)

        results: list[RowResult] = []
        counted: set[int] = set()
        for index, (contact, row_types) in enumerate(zip(contacts, per_row, strict=True)):
            row_identity = identities[index]
            if row_identity is None:
                reason = contact.invalid_reason() or ""
                stats.invalid += 1
                results.append(RowResult.invalid_row(reason, row_types.names, contact.custom))
                continue
            row: TypeResults = {}
            from_cache = True
            for name in row_types:
                key = answer_key(row_identity, name)
                if name in fixed[index]:
                    row[name] = fixed[index][name]
                elif key in known:
                    row[name] = known[key]
                elif lookups[key].task.done():
                    answers, credits = lookups[key].task.result()
                    row[name] = answers[name]
                    from_cache = False
                    if lookups[key].owner is stats and id(lookups[key]) not in counted:
                        counted.add(id(lookups[key]))
                        stats.credits_spent += credits
                else:
                    row[name] = TypeResult(Status.PENDING, message=pending_message())
                    from_cache = False
            result = RowResult.combine(row, cached=from_cache, custom=contact.custom)
            self._tally(result, stats, notices)
            results.append(result)
        stats.credits_spent_today = self.budget.spent_today
        stats.credit_budget = self.budget.daily_budget
        return EnrichOutcome(results, stats, list(notices.values()))

    def _tally(self, result: RowResult, stats: EnrichStats, notices: dict[str, Notice]) -> None:
        statuses = {r.status for r in result.types.values()}
        stats.cache_hits += result.cached
        stats.pending += Status.PENDING in statuses
        stats.needs_linkedin += Status.NEEDS_LINKEDIN in statuses
        if Status.PAUSED in statuses:
            stats.paused += 1
            notices.setdefault(
                "personal_email_consent",
                Notice("personal_email_consent", str(vocabulary().messages["consent_notice"])),
            )
        if Status.OVER_BUDGET in statuses:
            notices.setdefault("over_budget", Notice("over_budget", self.budget.exhausted_message))

    def _start(
        self, identity: str, contact: Contact, types: EnrichmentTypes, priority: Priority
    ) -> _Lookup:
        ticket = Ticket(priority)
        task = asyncio.create_task(self._look_up(identity, contact, types, ticket))
        lookup = _Lookup(task=task, ticket=ticket, owner=EnrichStats())
        keys = [answer_key(identity, name) for name in types]
        for key in keys:
            self._in_flight[key] = lookup
        task.add_done_callback(functools.partial(self._forget, keys, lookup))
        return lookup

    def _forget(
        self, keys: list[str], lookup: _Lookup, _task: asyncio.Task[tuple[TypeResults, int]]
    ) -> None:
        for key in keys:
            if self._in_flight.get(key) is lookup:
                del self._in_flight[key]

    async def _look_up(
        self, identity: str, contact: Contact, types: EnrichmentTypes, ticket: Ticket
    ) -> tuple[TypeResults, int]:
        """One contact upstream, start to finish; never raises (errors become statuses)."""
        try:
            return await self._ask(identity, contact, types, ticket)
        finally:
            # Cancelled or not, a probe this lookup held is given back (no-op otherwise),
            # so lookups waiting for its answer never wait forever.
            self.consent.inconclusive()

    async def _ask(
        self, identity: str, contact: Contact, types: EnrichmentTypes, ticket: Ticket
    ) -> tuple[TypeResults, int]:
        results: TypeResults = {}
        asked = types
        credits = 0
        if PERSONAL_EMAIL in asked and not await self.consent.turn():
            results[PERSONAL_EMAIL] = _paused()
            asked = asked.without([PERSONAL_EMAIL])
        while asked:
            try:
                answer = await self.client.enrich(contact, asked, ticket)
            except ConsentRequired:
                # Account-level: pause personal emails, ask the other types at once.
                self.consent.refused()
                results[PERSONAL_EMAIL] = _paused()
                asked = asked.without([PERSONAL_EMAIL])
                continue
            except (ProntoOutOfCredits, BudgetExhausted) as exc:
                self._settle_consent(asked, answered=False)
                return results | _all(asked, Status.OVER_BUDGET, exc.message), credits
            except ProntoError as exc:
                self._settle_consent(asked, answered=False)
                return results | _all(asked, Status.FAILED, exc.message), credits
            except Exception:  # a bug must not leave a request hanging, nor become a 5xx
                logger.exception("unexpected error in a Pronto lookup")
                self._settle_consent(asked, answered=False)
                return results | _all(asked, Status.FAILED, UNEXPECTED_MESSAGE), credits
            self._settle_consent(asked, answered=True)
            await self._remember(identity, answer.types)
            return results | dict(answer.types), credits + answer.credits
        return results, credits

    async def _remember(self, identity: str, answers: Mapping[str, TypeResult]) -> None:
        """Keep Pronto's answers in memory and, durably, in the store (one write)."""
        now = time.time()
        durable: dict[str, StoredAnswer] = {}
        for name, result in answers.items():
            key = answer_key(identity, name)
            if self.cache.put(key, result):
                durable[key] = StoredAnswer(result, now + self.cache.ttl_s(result))
        if durable:
            # Degraded: the guard said why once; memory still has them.
            with contextlib.suppress(StoreError):
                await self.store.put_answers(durable)

    def _settle_consent(self, asked: EnrichmentTypes, *, answered: bool) -> None:
        if PERSONAL_EMAIL in asked:
            if answered:
                self.consent.answered()
            else:
                self.consent.inconclusive()


def _paused() -> TypeResult:
    return TypeResult(Status.PAUSED, message=str(vocabulary().messages["paused_consent"]))


def _all(types: EnrichmentTypes, status: Status, message: str) -> TypeResults:
    return {name: TypeResult(status, message=message) for name in types}


def _per_row(
    types: EnrichmentTypes | Sequence[EnrichmentTypes], rows: int
) -> Sequence[EnrichmentTypes]:
    if isinstance(types, EnrichmentTypes):
        return [types] * rows
    if len(types) != rows:
        raise ValueError("one EnrichmentTypes per contact, or one for all")
    return types
