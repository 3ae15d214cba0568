"""The engine: turns contact rows into results without paying twice.

`Enricher.enrich` runs one request in four phases: sort the rows (`_sort_rows`), recall
what is already paid for (`_known`), dispatch the rest (`_dispatch`: join or start
lookups), then read each row's results (`_row_result`) once the lookups are done or the
request's `timeout_s` has passed. The request's figures are in `outcome.py`, the
personal-email consent gate in `consent.py`.

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
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from pronto_sheets.enrich.budget import DEGRADED_SHARE, CreditBudget, degraded_limit
from pronto_sheets.enrich.cache import ResultCache, answer_key
from pronto_sheets.enrich.consent import ConsentGate
from pronto_sheets.enrich.contacts import Contact, EnrichmentTypes
from pronto_sheets.enrich.gate import Gate, Priority, Ticket
from pronto_sheets.enrich.outcome import EnrichOutcome, EnrichStats, Estimate, Notice, Plan
from pronto_sheets.enrich.pronto_client import ProntoClient
from pronto_sheets.enrich.subjects import (
    contact_subjects,
    email_subject,
    phone_subject,
    subjects_of,
)
from pronto_sheets.errors import (
    BudgetExhausted,
    ConsentRequired,
    ProntoError,
    ProntoOutOfCredits,
    StoreError,
)
from pronto_sheets.logs import log_unexpected
from pronto_sheets.results import RowResult, Status, TypeResult, pending_message
from pronto_sheets.settings import Settings
from pronto_sheets.store import GuardedStore, MemoryStore, StoredAnswer, open_store
from pronto_sheets.vocabulary import vocabulary

UNEXPECTED_MESSAGE = "Something went wrong on our side while asking Pronto. Try again later."
PERSONAL_EMAIL = "personal_email"

TypeResults = dict[str, TypeResult]


@dataclass
class _Lookup:
    """One Pronto call for one contact's types, shared by every row and request that wants
    any of those types."""

    task: asyncio.Task[tuple[TypeResults, int]]
    ticket: Ticket
    owner: EnrichStats  # the request that started it is the one that paid


@dataclass
class _Request:
    """One `enrich` call's working state, filled in phase by phase."""

    contacts: Sequence[Contact]
    types: Sequence[EnrichmentTypes]  # per row: what to find
    priority: Priority
    stats: EnrichStats
    identities: list[str | None] = field(default_factory=list)  # per row; None: invalid
    fixed: list[TypeResults] = field(default_factory=list)  # per row: decided without Pronto
    wanted: dict[str, set[str]] = field(default_factory=dict)  # identity -> types to find
    first_row: dict[str, int] = field(default_factory=dict)  # identity -> row asked for it
    known: TypeResults = field(default_factory=dict)  # answer_key -> answer paid for
    lookups: dict[str, _Lookup] = field(default_factory=dict)  # answer_key -> its lookup
    counted: set[int] = field(default_factory=set)  # lookups whose credits are counted
    notices: dict[str, Notice] = field(default_factory=dict)


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
        # (identity, type) -> the async lane's answer on its way, if any (set by the lane's
        # owner): a formula joins it rather than paying the sync endpoint again.
        self.on_other_lane: Callable[[str, str], asyncio.Future[TypeResults] | None] | None = None

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
        request = _Request(
            contacts, _per_row(types, len(contacts)), priority, EnrichStats(contacts=len(contacts))
        )
        _sort_rows(request)
        remembered, _ = await self._known(request.wanted)
        self._dispatch(request, remembered)
        tasks = {lookup.task for lookup in request.lookups.values()}
        if tasks:
            await asyncio.wait(tasks, timeout=timeout_s)
        results = [self._row_result(request, index) for index in range(len(contacts))]
        request.stats.credits_spent_today = self.budget.spent_today
        request.stats.credit_budget = self.budget.daily_budget
        return EnrichOutcome(results, request.stats, list(request.notices.values()))

    def _dispatch(self, request: _Request, remembered: TypeResults) -> None:
        """Each wanted type: answered from memory, joined to a lookup under way (promoted
        to this request's priority), or asked in one new lookup per contact."""
        stats = request.stats
        for identity, names in request.wanted.items():
            missing, joined = self._route(request, identity, names, remembered)
            for lookup in joined:
                self.gate.promote(lookup.ticket, request.priority)
            stats.joined_in_flight += len(joined)
            if missing:
                contact = request.contacts[request.first_row[identity]]
                types = EnrichmentTypes.of(missing)
                lookup = self._start(identity, contact, types, request.priority)
                stats.upstream_calls += 1
                lookup.owner = stats
                for missing_type in missing:
                    request.lookups[answer_key(identity, missing_type)] = lookup

    def _route(
        self, request: _Request, identity: str, names: Collection[str], remembered: TypeResults
    ) -> tuple[list[str], list[_Lookup]]:
        """One contact's wanted types: those still to ask Pronto, and the lookups under way
        that this request joins (each once)."""
        missing: list[str] = []
        joined: dict[int, _Lookup] = {}
        order = vocabulary().type_names
        for wanted_type in sorted(names, key=order.index) if len(names) > 1 else names:
            key = answer_key(identity, wanted_type)
            # Memory again for a miss: a lookup may have answered while the store read.
            hit = remembered.get(key) or self.cache.get(key)
            if hit is not None:
                request.known[key] = hit
            elif key in self._in_flight or self._join_other_lane(identity, wanted_type):
                shared = self._in_flight[key]
                request.lookups[key] = joined.setdefault(id(shared), shared)
            elif wanted_type == PERSONAL_EMAIL and self.consent.paused:
                request.known[key] = _paused()
            else:
                missing.append(wanted_type)
        return missing, list(joined.values())

    def _row_result(self, request: _Request, index: int) -> RowResult:
        """Row `index`'s result as things stand: answers, or `pending` for a lookup still
        running. Credits of a lookup this request started count once."""
        contact, row_types = request.contacts[index], request.types[index]
        identity = request.identities[index]
        if identity is None:
            request.stats.invalid += 1
            reason = contact.invalid_reason() or ""
            return RowResult.invalid_row(reason, row_types.names, contact.custom)
        row: TypeResults = {}
        from_cache = True
        for name in row_types:
            key = answer_key(identity, name)
            if name in request.fixed[index]:
                row[name] = request.fixed[index][name]
            elif key in request.known:
                row[name] = request.known[key]
            elif request.lookups[key].task.done():
                row[name] = self._answer_of(request, request.lookups[key], name)
                from_cache = False
            else:
                row[name] = TypeResult(Status.PENDING, message=pending_message())
                from_cache = False
        result = RowResult.combine(row, cached=from_cache, custom=contact.custom)
        self._tally(result, request.stats, request.notices)
        return result

    @staticmethod
    def _answer_of(request: _Request, lookup: _Lookup, name: str) -> TypeResult:
        """A finished lookup's answer for one type; its credits count for the request that
        started it, once."""
        answers, credits = lookup.task.result()
        if lookup.owner is request.stats and id(lookup) not in request.counted:
            request.counted.add(id(lookup))
            request.stats.credits_spent += credits
        return answers[name]

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

    def answer_on_its_way(self, identity: str, type_name: str) -> asyncio.Task[TypeResults] | None:
        """This contact's type as a sync lookup under way will answer it, if one is: the
        async lane joins it instead of submitting the contact again."""
        lookup = self._in_flight.get(answer_key(identity, type_name))
        if lookup is None:
            return None

        async def answers() -> TypeResults:
            found, _credits = await asyncio.shield(lookup.task)
            return found

        return asyncio.create_task(answers())

    def _join_other_lane(self, identity: str, type_name: str) -> bool:
        """When the async lane has this answer on its way, make waiting for it a lookup of
        this enricher's (so later requests join it too); True when it did."""
        answer = self.on_other_lane(identity, type_name) if self.on_other_lane else None
        if answer is None:
            return False

        async def wait() -> tuple[TypeResults, int]:
            results = dict(await asyncio.shield(answer))  # paid by the lane that asked
            if type_name not in results:  # the lane gave up on it: ask again next time
                results[type_name] = TypeResult(Status.PENDING, message=pending_message())
            return results, 0

        key = answer_key(identity, type_name)
        task = asyncio.create_task(wait())
        lookup = _Lookup(task=task, ticket=Ticket(Priority.BACKGROUND), owner=EnrichStats())
        self._in_flight[key] = lookup
        task.add_done_callback(functools.partial(self._forget, [key], lookup))
        return True

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
            except Exception as exc:  # a bug must not leave a request hanging, nor a 5xx
                log_unexpected(exc, "unexpected error in a Pronto lookup")
                self._settle_consent(asked, answered=False)
                return results | _all(asked, Status.FAILED, UNEXPECTED_MESSAGE), credits
            self._settle_consent(asked, answered=True)
            await self._remember(identity, answer.types, contact)
            return results | dict(answer.types), credits + answer.credits
        return results, credits

    async def _remember(
        self, identity: str, answers: Mapping[str, TypeResult], contact: Contact | None = None
    ) -> None:
        """Keep Pronto's answers in memory and, durably, in the store (one write), indexed
        under who they are about (subjects.py) so that the person can be forgotten."""
        now = time.time()
        durable: dict[str, StoredAnswer] = {}
        for name, result in answers.items():
            key = answer_key(identity, name)
            if self.cache.put(key, result):
                durable[key] = StoredAnswer(result, now + self.cache.ttl_s(result))
        if durable:
            # Degraded: the guard said why once; memory still has them.
            subjects = (
                {identity: sorted(subjects_of(contact, answers))} if contact is not None else None
            )
            with contextlib.suppress(StoreError):
                await self.store.put_answers(durable, subjects)

    async def forget(
        self, contacts: Sequence[Contact], emails: Sequence[str], phones: Sequence[str]
    ) -> int:
        """Delete every answer, of every type, about the people these name (a contact's
        fields, or an email or phone Pronto found), from the store and from memory; return
        how many answers were deleted. A store that fails raises `StoreError`: nothing
        durable was deleted, and the caller must say so."""
        subjects: set[str] = set()
        identities: set[str] = set()
        for contact in contacts:
            subjects |= contact_subjects(contact)
            if contact.invalid_reason() is None:
                identities.add(contact.identity())
        subjects |= {s for s in map(email_subject, emails) if s}
        subjects |= {s for s in map(phone_subject, phones) if s}
        identities |= await self.store.find_identities(subjects)
        keys = [answer_key(i, t.name) for i in sorted(identities) for t in vocabulary().types]
        from_memory = self.cache.forget(keys)
        from_store = await self.store.forget(keys, identities)
        # Memory holds a part of what the store holds (or all of it, without a store).
        return max(from_memory, from_store)

    def _settle_consent(self, asked: EnrichmentTypes, *, answered: bool) -> None:
        if PERSONAL_EMAIL in asked:
            if answered:
                self.consent.answered()
            else:
                self.consent.inconclusive()


def _sort_rows(request: _Request) -> None:
    """Invalid rows aside, rows of one contact folded into one identity, and each type the
    row cannot be asked (no LinkedIn URL) decided at once; the rest is `wanted`."""
    for index, (contact, row_types) in enumerate(zip(request.contacts, request.types, strict=True)):
        fixed: TypeResults = {}
        request.fixed.append(fixed)
        if contact.invalid_reason():
            request.identities.append(None)
            continue
        identity = contact.identity()
        request.identities.append(identity)
        request.first_row.setdefault(identity, index)
        for name in row_types:
            if not contact.can_ask(name):
                message = vocabulary().needs_linkedin_message(name)
                fixed[name] = TypeResult(Status.NEEDS_LINKEDIN, message=message)
            else:
                request.wanted.setdefault(identity, set()).add(name)
    request.stats.unique = len(request.first_row)


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
