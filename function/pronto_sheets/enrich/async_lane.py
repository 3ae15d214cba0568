"""The async lane: contacts go to Pronto's async endpoint and come back by webhook or poll.

Used by fills when the function knows its public URL (`PRONTO_PUBLIC_URL`): Pronto must
be able to reach `POST {public_url}/webhooks/pronto/{secret}`. A contact's types are
submitted once (`submit`): the submission is written to the durable store first, as
unconfirmed, then sent; Pronto's `enrichment_id` is written next. Its answer settles it
(`settle`), whichever comes first of the webhook and a poll of `GET /v2/contacts/{id}`:
the answer goes to the answer store first, then the submission is marked settled
(compare-and-set: exactly one delivery wins), then the credit reservation becomes the
charge and whoever waits is woken.

Recovery: a lost webhook → the poller (`poll_once`: once Pronto's observed pace says the
answer is overdue, at the latest `poll_after_s` after submission, then backing off to
`poll_max_s`); a restart → the durable submissions (a fill finds its contacts in flight
and waits, never resubmits; those Pronto answered meanwhile are polled at once); a
duplicate or late webhook → the compare-and-set (a 2xx, nothing changes); a submission
never confirmed → given up once overdue, and sent again (`release_stale`). Credits are
reserved at submission and charged at settlement; out of credits (any of its three forms)
stops submissions; missing consent pauses personal emails (the engine's `ConsentGate`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pronto_sheets.enrich.async_client import (
    AsyncProntoClient,
    AsyncResult,
    MalformedResult,
    SubmissionUnconfirmed,
    parse_async_result,
    token_of,
)
from pronto_sheets.enrich.budget import CreditBudget, Reservation
from pronto_sheets.enrich.cache import ResultCache, answer_key
from pronto_sheets.enrich.consent import ConsentGate
from pronto_sheets.enrich.contacts import Contact, EnrichmentTypes
from pronto_sheets.enrich.gate import Priority, Ticket
from pronto_sheets.enrich.subjects import answer_subjects
from pronto_sheets.errors import (
    BudgetExhausted,
    ConsentRequired,
    ProntoError,
    ProntoOutOfCredits,
    StoreError,
)
from pronto_sheets.logs import emit
from pronto_sheets.results import RowResult, Status, TypeResult
from pronto_sheets.settings import AsyncLaneSettings, Settings
from pronto_sheets.store import GuardedStore, StoredAnswer
from pronto_sheets.store.submissions import Submission, SubmissionState, SubmissionStore
from pronto_sheets.vocabulary import vocabulary

if TYPE_CHECKING:
    from pronto_sheets.enrich.engine import Enricher

logger = logging.getLogger(__name__)
PERSONAL_EMAIL = "personal_email"
TypeResults = dict[str, TypeResult]


# How often the poller looks for submissions whose webhook is late.
POLL_TICK_S = 1.0
# Unconfirmed submissions are looked at this many ticks apart (a write: kept rare).
RELEASE_EVERY_TICKS = 5
# A webhook is late when Pronto's observed pace says it was due this share of
# `poll_after_s` ago (10 s by default): room for shuffled, slow and retried deliveries,
# and it scales with the other waits.
LATE_SHARE = 1 / 12
# Pronto's pace (how fast its answers advance through our submissions, in order) is
# measured over this many `late` spans.
PACE_WINDOW_LATE = 4
# What a contact given up after the unconfirmed wait resolves to: a fill still running
# sends it again (see `release_stale`).
RELEASED_MESSAGE = "Pronto never confirmed this contact; run the fill again to send it."


class WebhookRefused(Exception):
    """A webhook this lane will not take: `status` 404/409/400, `code`, `message`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class FillCounts:
    """What the lane did for one fill."""

    submitted: int = 0  # requests sent now (one per contact and type)
    joined: int = 0  # contacts already on their way (an earlier run, a formula)
    waiting: list[int] = field(default_factory=list)  # contacts whose answer is on its way
    unsent: list[int] = field(default_factory=list)  # not submitted before the run stopped


def takes(contact: Contact, types: EnrichmentTypes) -> bool:
    """Whether the async lane can ask this: its pages require a domain or a company name
    for an email (a LinkedIn-only row's email goes through the sync lane)."""
    return "email" not in types or bool(contact.domain or contact.company_name)


def all_of(types: Iterable[str], status: Status, message: str) -> TypeResults:
    return {name: TypeResult(status, message=message) for name in types}


def paused() -> TypeResult:
    return TypeResult(Status.PAUSED, message=str(vocabulary().messages["paused_consent"]))


class AsyncLane:
    """One instance's async lane; shares the enricher's gate, cache, store, budget, consent."""

    def __init__(
        self,
        *,
        config: AsyncLaneSettings,
        client: AsyncProntoClient,
        submissions: SubmissionStore,
        store: GuardedStore,
        cache: ResultCache,
        budget: CreditBudget,
        consent: ConsentGate,
        workers: int = 10,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.client_slots = workers  # submissions under way at once (the gate bounds calls)
        self.client = client
        self.submissions = submissions
        self.store = store
        self.cache = cache
        self.budget = budget
        self.consent = consent
        self._clock = clock
        self._futures: dict[str, asyncio.Future[TypeResults]] = {}  # token -> its answer
        self._by_key: dict[str, str] = {}  # answer_key -> token of the active submission
        self._reservations: dict[str, Reservation] = {}
        self._poller: asyncio.Task[None] | None = None
        # Submitted, not polled yet, by token; and the newest submission a webhook settled.
        self._unpolled: dict[str, Submission] = {}
        # Pronto answers in order at its capacity: the newest submission it answered (its
        # `submitted_at`), when, and recent (when, frontier) samples for its pace.
        self._frontier = 0.0
        self._frontier_at = 0.0
        self._pace: deque[tuple[float, float]] = deque()
        self._last_webhook_at = float("-inf")
        # (identity, type) -> the sync lane's answer on its way (the enricher's), if any.
        self.on_other_lane: Callable[[str, str], asyncio.Future[TypeResults] | None] | None = None
        self.polls = 0
        self.settled_by_poll = 0
        self.settled_by_webhook = 0
        self.released = 0  # unconfirmed submissions given up (their contact sent again)

    @classmethod
    def beside(cls, enricher: Enricher, settings: Settings) -> AsyncLane | None:
        """The instance's lane, sharing `enricher`'s gate, cache, store, budget and consent;
        None when the settings leave it off (no public URL)."""
        if settings.async_lane is None:
            return None
        from pronto_sheets.store.lane_store import open_submissions

        client = AsyncProntoClient(
            api_key=settings.pronto_api_key,
            base_url=settings.pronto_base_url,
            gate=enricher.gate,
            timeout_s=settings.pronto_timeout_s,
            retry_attempts=settings.retry_attempts,
            retry_total_s=settings.retry_total_s,
        )
        submissions = open_submissions(
            settings.store, settings.pronto_base_url, timeout_s=settings.store_timeout_s
        )
        lane = cls(
            config=settings.async_lane,
            client=client,
            submissions=submissions,
            store=enricher.store,
            cache=enricher.cache,
            budget=enricher.budget,
            consent=enricher.consent,
            workers=enricher.gate.max_in_flight * 2,
        )
        # Each lane joins what the other has on its way, so no contact is paid twice.
        lane.on_other_lane = enricher.answer_on_its_way
        enricher.on_other_lane = lane.joinable
        return lane

    # -- tokens -------------------------------------------------------------------------

    def _token(self, identity: str, submission_id: str) -> str:
        """HMAC(secret, identity | submission id): only this deployment can make one, and
        one names exactly one contact's submission."""
        text = f"{identity}|{submission_id}".encode()
        digest = hmac.new(self.config.webhook_secret.encode(), text, hashlib.sha256)
        return f"{submission_id}.{digest.hexdigest()[:32]}"

    def _token_matches(self, submission: Submission, token: str | None) -> bool:
        if token is None:
            return False
        submission_id = submission.token.partition(".")[0]
        expected = self._token(submission.identity, submission_id)
        return hmac.compare_digest(expected, token) and hmac.compare_digest(submission.token, token)

    # -- waiting ------------------------------------------------------------------------

    def waiter(self, submission: Submission) -> asyncio.Future[TypeResults]:
        """The answer of `submission`, when it settles (one future per submission)."""
        if submission.enrichment_id is not None and submission.polls == 0:
            self._unpolled[submission.token] = submission  # watched for a lost webhook
        future = self._futures.get(submission.token)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._futures[submission.token] = future
            for name in submission.types:
                self._by_key[answer_key(submission.identity, name)] = submission.token
        return future

    def _resolve(self, submission: Submission, results: TypeResults) -> None:
        self._unpolled.pop(submission.token, None)
        future = self._futures.pop(submission.token, None)
        for name in submission.types:
            key = answer_key(submission.identity, name)
            if self._by_key.get(key) == submission.token:
                del self._by_key[key]
        if future is not None and not future.done():
            future.set_result(results)

    def joinable(self, identity: str, type_name: str) -> asyncio.Future[TypeResults] | None:
        """The answer on its way for this contact's type, if this lane has it in flight:
        an interactive formula waits for it instead of paying again."""
        token = self._by_key.get(answer_key(identity, type_name))
        return None if token is None else self._futures.get(token)

    # -- submitting ---------------------------------------------------------------------

    async def submit(
        self, contact: Contact, types: EnrichmentTypes
    ) -> tuple[Submission | None, TypeResults]:
        """Send one contact's types; the submission (None when nothing went) and the types
        decided without Pronto's answer (paused, over budget, failed)."""
        decided: TypeResults = {}
        if PERSONAL_EMAIL in types and not await self.consent.turn():
            decided[PERSONAL_EMAIL] = paused()
            types = types.without([PERSONAL_EMAIL])
        while types:
            try:
                return await self._submit_once(contact, types), decided
            except ConsentRequired:
                self.consent.refused()
                decided[PERSONAL_EMAIL] = paused()
                types = types.without([PERSONAL_EMAIL])
            except (ProntoOutOfCredits, BudgetExhausted) as exc:
                self._settle_consent(types, answered=False)
                if isinstance(exc, ProntoOutOfCredits):
                    await self.budget.close_for_today()
                return None, decided | all_of(
                    types, Status.OVER_BUDGET, self.budget.exhausted_message
                )
            except ProntoError as exc:
                self._settle_consent(types, answered=False)
                return None, decided | all_of(types, Status.FAILED, exc.message)
            except StoreError:
                # A submission that cannot be written down is not sent (never pay twice).
                self._settle_consent(types, answered=False)
                message = (
                    "The store that keeps async submissions is unavailable, so this row was "
                    "not sent; run the fill again later."
                )
                return None, decided | all_of(types, Status.FAILED, message)
        return None, decided

    def _settle_consent(self, types: EnrichmentTypes, *, answered: bool) -> None:
        if PERSONAL_EMAIL in types:
            if answered:
                self.consent.answered()
            else:
                self.consent.inconclusive()

    async def _submit_once(self, contact: Contact, types: EnrichmentTypes) -> Submission:
        if self.budget.remaining < self.budget.worst_case(types):
            raise BudgetExhausted(self.budget.exhausted_message)
        reservation = await self.budget.reserve(types)
        if reservation is None:
            raise BudgetExhausted(self.budget.exhausted_message)
        identity = contact.identity()
        now = self._clock()
        submission = Submission(
            token=self._token(identity, secrets.token_hex(8)),
            identity=identity,
            types=tuple(types),
            state=SubmissionState.UNCONFIRMED,
            submitted_at=now,
            next_poll_at=now + self.config.poll_after_s,
        )
        self._reservations[submission.token] = reservation
        written = False

        async def write_down() -> None:
            nonlocal written
            await self.submissions.add(submission)  # before it leaves: never sent twice
            written = True
            self.waiter(submission)

        try:
            enrichment_id = await self.client.submit(
                contact,
                types,
                webhook_url=self.config.webhook_url,
                token=submission.token,
                ticket=Ticket(Priority.BACKGROUND),
                before_send=write_down,
            )
        except SubmissionUnconfirmed:
            self._settle_consent(types, answered=False)
            return submission  # kept unconfirmed: a webhook with its token adopts it
        except asyncio.CancelledError:
            if not written:  # never left: give the credits back
                self._reservations.pop(submission.token, None)
                await self.budget.settle(reservation, 0)
            raise  # else it may be on the wire: kept unconfirmed, as after a crash
        except BaseException:
            # Refused, or never sent (the store could not keep it): nothing paid or kept.
            self._reservations.pop(submission.token, None)
            await self.budget.settle(reservation, 0)
            if written:
                with contextlib.suppress(StoreError):
                    await self.submissions.drop(submission.token)
            self._resolve(submission, {})
            raise
        self._settle_consent(types, answered=True)
        next_poll = self._clock() + self.config.poll_after_s
        with contextlib.suppress(StoreError):  # unconfirmed until then: still never twice
            await self.submissions.confirm(submission.token, enrichment_id, next_poll)
        confirmed = Submission(
            submission.token,
            identity,
            submission.types,
            SubmissionState.SUBMITTED,
            now,
            next_poll,
            enrichment_id,
        )
        if submission.token in self._futures:  # not settled by a webhook meanwhile
            self.waiter(confirmed)
        return confirmed

    # -- settling -----------------------------------------------------------------------

    async def accept_webhook(self, body: object) -> bool:
        """Take one webhook body (see http/webhook_route.py): True when it settled its
        submission, False for a genuine duplicate (already settled: nothing changed);
        raises `WebhookRefused` for a body that is not a result, names no submission of
        ours, or names another contact's."""
        if not isinstance(body, dict):
            raise WebhookRefused(400, "malformed_webhook", "The body must be a JSON object.")
        raw_id = body.get("enrichment_id")
        enrichment_id = str(raw_id) if isinstance(raw_id, str | int) and str(raw_id) else None
        token = token_of(body.get("custom"))
        if enrichment_id is None and token is None:
            raise WebhookRefused(
                400,
                "malformed_webhook",
                'The body names no "enrichment_id"; nothing was changed.',
            )
        submission: Submission | None = None
        if enrichment_id is not None:
            submission = await self.submissions.by_enrichment_id(enrichment_id)
        if submission is None and token is not None:
            # A submission whose id we never heard (a crash, a timeout): its token adopts it.
            by_token = await self.submissions.by_token(token)
            if by_token is not None and by_token.state is SubmissionState.UNCONFIRMED:
                submission = by_token
        if submission is None:
            raise WebhookRefused(
                404,
                "unknown_enrichment",
                "No submission of this deployment has this enrichment_id; nothing was changed.",
            )
        if not self._token_matches(submission, token):
            raise WebhookRefused(
                409,
                "correlation_mismatch",
                "This enrichment_id was submitted for another contact (its custom does not "
                "match); nothing was changed.",
            )
        if not submission.active:
            # A duplicate or late delivery of an answer already kept, from the sender that
            # holds the right token: acknowledged (2xx) so that it stops retrying; nothing
            # changes. Only forgeries (above) get a 4xx.
            return False
        try:
            parsed = parse_async_result(body, submission.types)
        except MalformedResult as exc:
            raise WebhookRefused(400, "malformed_webhook", f"{exc} Nothing was changed.") from None
        if not parsed.finished:
            raise WebhookRefused(
                409,
                "not_finished",
                'The result is still "pending"; send it again once it is finished.',
            )
        settled_id = enrichment_id or submission.enrichment_id or ""
        if not await self.settle(submission, parsed, settled_id):
            return False  # a duplicate racing its twin (or a poll): the other one won
        self.settled_by_webhook += 1
        # Pronto answered a submission this recent: those sent well before it without an
        # answer have probably lost theirs, and are polled soon rather than at their time.
        self._advance_frontier(submission.submitted_at)
        return True

    async def settle(self, submission: Submission, result: AsyncResult, enrichment_id: str) -> bool:
        """Store the answer, then mark the submission settled (True for the one delivery
        that did), then charge and wake the waiters. Raises `StoreError` when the answer
        cannot be stored (the webhook answers 503; polling gets it later)."""
        if result.out_of_credits:
            return await self._settle_out_of_credits(submission, enrichment_id)
        results = dict(result.types)
        now = time.time()
        durable = {
            answer_key(submission.identity, name): StoredAnswer(
                answer, now + self.cache.ttl_s(answer)
            )
            for name, answer in results.items()
        }
        # Indexed by the emails and phones found, so that POST /forget finds them (the
        # submission keeps no contact fields: name + domain finds them through identity).
        found = {submission.identity: sorted(answer_subjects(results.values()))}
        await self.store.put_answers(durable, found)  # first: a 2xx means the answer is kept
        if not await self.submissions.settle(submission.token, enrichment_id):
            return False
        for key, stored in durable.items():
            self.cache.put(key, stored.result)
        credits = self.budget.cost(result.found)
        reservation = self._reservations.pop(submission.token, None)
        if reservation is not None:
            await self.budget.settle(reservation, credits)
        elif credits:
            # Reserved by a process since restarted: its claim already counts these
            # credits until midnight UTC; the ledger records them as spent.
            with contextlib.suppress(StoreError):
                await self.store.record_spent(_utc_day(), credits)
        self._resolve(submission, results)
        return True

    async def _settle_out_of_credits(self, submission: Submission, enrichment_id: str) -> bool:
        await self.budget.close_for_today()
        if not await self.submissions.settle(submission.token, enrichment_id):
            return False
        reservation = self._reservations.pop(submission.token, None)
        if reservation is not None:
            await self.budget.settle(reservation, 0)
        self._resolve(
            submission, all_of(submission.types, Status.OVER_BUDGET, self.budget.exhausted_message)
        )
        return True

    # -- polling ------------------------------------------------------------------------

    def start_poller(self) -> None:
        """Run the poller in this event loop (once)."""
        if self._poller is None or self._poller.done():
            self._poller = asyncio.get_running_loop().create_task(self._poll_forever())

    async def _poll_forever(self) -> None:
        ticks = 0
        while True:
            try:
                if ticks % RELEASE_EVERY_TICKS == 0:
                    await self.release_stale()
                ticks += 1
                await self.poll_once()
            except StoreError:
                pass  # the guard said why; try again at the next tick
            except Exception:  # a bug must not stop the guarantee for good
                logger.exception("the async lane's poller failed; it goes on")
            await asyncio.sleep(POLL_TICK_S)

    @property
    def _late_s(self) -> float:
        return self.config.poll_after_s * LATE_SHARE

    def _advance_frontier(self, submitted_at: float) -> None:
        """Pronto answered a submission sent at `submitted_at` (a webhook or a poll)."""
        now = self._clock()
        self._last_webhook_at = now
        if submitted_at <= self._frontier:
            return
        self._frontier, self._frontier_at = submitted_at, now
        self._pace.append((now, submitted_at))
        while len(self._pace) > 2 and now - self._pace[1][0] > self._late_s * PACE_WINDOW_LATE:
            self._pace.popleft()

    def _answered_before(self, at: float) -> float:
        """The `submitted_at` below which Pronto had answered everything by time `at`:
        the frontier, extrapolated at Pronto's observed pace (it works in order at its
        capacity) past the last answer seen. -inf while nothing was answered yet."""
        if not self._pace:
            return float("-inf")
        (t0, f0), (t1, f1) = self._pace[0], self._pace[-1]
        if t1 - t0 < self._late_s / 2:  # no pace yet: the frontier alone, less a margin
            return self._frontier - self._late_s if at < self._frontier_at else self._frontier
        return self._frontier + (f1 - f0) / (t1 - t0) * (at - self._frontier_at)

    def overdue_before(self, now: float) -> float:
        """Submissions sent before this have an answer due more than `late` ago: their
        webhook is probably lost (or went to a process since restarted)."""
        return self._answered_before(now - self._late_s)

    async def release_stale(self) -> None:
        """Give up the submissions Pronto never confirmed (the process died, or the answer
        to the request was lost, while it was on the wire) and no webhook adopted: after
        `unconfirmed_release_s`, or sooner once Pronto's pace says their answer is overdue
        by `poll_after_s` (its webhook would have come and been retried by then). Pronto
        cannot be asked about a request it gave no id for, so the contact is sent again:
        at most one extra charge, only when the request had reached Pronto AND its
        webhook was lost. A fill still running sends it at once; else the next run does."""
        now = self._clock()
        before = max(
            now - self.config.unconfirmed_release_s,
            min(self._answered_before(now - self.config.poll_after_s), now - self._late_s),
        )
        for stale in await self.submissions.release_unconfirmed(before):
            self.released += 1
            emit(
                "WARNING",
                "An async submission Pronto never confirmed was given up; it is sent again.",
                event="async_unconfirmed_released",
            )
            reservation = self._reservations.pop(stale.token, None)
            if reservation is not None:
                await self.budget.settle(reservation, 0)
            self._resolve(stale, all_of(stale.types, Status.FAILED, RELEASED_MESSAGE))

    async def poll_once(self, limit: int = 200) -> int:
        """Poll the submissions whose webhook is late: due by their time, or overdue by
        Pronto's pace (later submissions were answered, or would have been, `late` ago);
        how many settled."""
        now = self._clock()
        overtaken_before = self.overdue_before(now)
        due = await self._due_by_time(now, limit, overtaken_before)
        for token, submission in list(self._unpolled.items()):
            if len(due) >= limit:
                break
            if submission.submitted_at < overtaken_before:
                due.setdefault(token, submission)
        for token in due:
            self._unpolled.pop(token, None)  # polled once early at most: then the backoff
        settled = await asyncio.gather(*(self._poll(s) for s in due.values()))
        return sum(settled)

    async def _due_by_time(
        self, now: float, limit: int, overtaken_before: float
    ) -> dict[str, Submission]:
        """The submissions whose poll time has come; while webhooks flow, a first poll of
        one Pronto has not reached yet (nothing sent after it answered) is put off rather
        than spent: Pronto's queue, not a lost webhook, is why it has no answer."""
        due: dict[str, Submission] = {}
        wait = self.config.poll_after_s
        flowing = now - self._last_webhook_at < wait  # else (the tail, a restart): poll
        for submission in await self.submissions.due(now, limit):
            if flowing and submission.polls == 0 and submission.submitted_at >= overtaken_before:
                await self.submissions.reschedule(submission.token, now + wait, 0)
            else:
                due[submission.token] = submission
        return due

    async def _poll(self, submission: Submission) -> bool:
        assert submission.enrichment_id is not None  # due() only lists submitted ones
        self.polls += 1
        try:
            result = await self.client.fetch(
                submission.enrichment_id, submission.types, Ticket(Priority.BACKGROUND)
            )
        except ProntoError:
            result = AsyncResult(submission.enrichment_id, False, None)
        if result.finished and await self.settle(submission, result, submission.enrichment_id):
            self.settled_by_poll += 1
            self._advance_frontier(submission.submitted_at)
            return True
        if not result.finished:
            # Asked too early (Pronto slowed down): modest back-off, doubling from `late`.
            polls = submission.polls + 1
            wait = min(self.config.poll_max_s, self._late_s * 2 ** min(polls, 16))
            await self.submissions.reschedule(submission.token, self._clock() + wait, polls)
        return False

    # -- fills --------------------------------------------------------------------------

    async def known(self, wanted: Mapping[str, Collection[str]]) -> TypeResults:
        """Answers already paid for, by answer key: memory, then the store in one read."""
        known: TypeResults = {}
        misses: list[str] = []
        for identity, names in wanted.items():
            for name in names:
                key = answer_key(identity, name)
                hit = self.cache.get(key)
                if hit is not None:
                    known[key] = hit
                else:
                    misses.append(key)
        if misses:
            with contextlib.suppress(StoreError):
                now = time.time()
                for key, answer in (await self.store.get_answers(misses)).items():
                    known[key] = answer.result
                    self.cache.put(key, answer.result, ttl_s=answer.expire_at - now)
        return known

    async def fill(
        self,
        contacts: Sequence[Contact],
        types: Sequence[EnrichmentTypes],
        on_result: Callable[[int, RowResult], None],
        *,
        stop_at: Callable[[], bool],
        wake_every_s: float = 1.0,
    ) -> FillCounts:
        """Answer each contact (distinct identities) through the lane, calling `on_result`
        as answers arrive, until all are answered or `stop_at()` says stop; see `_Fill`."""
        from pronto_sheets.enrich.lane_fill import LaneFill  # one fill's bookkeeping

        self.start_poller()
        run = LaneFill(self, list(contacts), list(types), on_result)
        return await run.run(stop_at, wake_every_s)

    async def aclose(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._poller
        for reservation in self._reservations.values():
            await self.budget.settle(reservation, 0)
        self._reservations.clear()
        await self.client.aclose()
        await self.submissions.aclose()


def _utc_day() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).date().isoformat()
