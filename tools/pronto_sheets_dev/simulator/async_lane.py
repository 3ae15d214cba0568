"""Pronto's async processing: contacts wait for one of `async_capacity` places, take
`async_latency_ms` each, then settle: charged once, answered on GET and by webhook.

Pronto's async pages (https://docs.prontohq.com/api-reference/endpoints/enrichments/single,
.../enrichments/batch) say the waterfall "runs asynchronously in the background"; they give
no capacity and no duration, so both are knobs. What a contact finds is the sync lane's
answer for the same contact (`simulated_outcome`) and costs the same prices.

Credits: the batch page says "Credits are checked up-front for the entire batch" and
refuses with 422 when the balance is short. The simulator does the same for every async
submission: it holds the most the contact could cost (the price of its types) until the
contact settles, then charges what was found (nothing when nothing was) and releases the
hold, so a settled contact is always paid and `charged_by_contact` counts each charge.
A bulk job's own id is not a contact's: Pronto documents `GET /contacts/{id}` with "the ID
of the enrichment request", and the batch answer names "the bulk enrichment job". Here each
contact of a batch gets its own id, which only its webhook payload reveals; GET on the
job's id answers 404 saying so. So a lost bulk webhook cannot be polled for: a client that
needs polling as its guarantee submits with single_enrich (one id per contact).
"""

from __future__ import annotations

import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .async_shapes import Job, finished_body
from .config import SimulatorConfig
from .contact_request import EnrichRequest, found_types, price
from .limits import CreditLedger
from .outcomes import simulated_outcome
from .scheduler import LaneScheduler
from .webhooks import WebhookSender


@dataclass
class _LaneCounts:
    submitted: int = 0
    bulk_jobs: int = 0
    settled: int = 0
    peak_processing: int = 0
    submitted_by_contact: Counter[str] = field(default_factory=Counter)
    settled_by_contact: Counter[str] = field(default_factory=Counter)
    charged_by_contact: Counter[str] = field(default_factory=Counter)
    polls: Counter[str] = field(default_factory=Counter)


class AsyncLane:
    """Jobs, their FIFO wait for capacity, their settlement and the webhooks they send."""

    def __init__(
        self, config: Callable[[], SimulatorConfig], credits: CreditLedger, seed: int
    ) -> None:
        self._config = config
        self._credits = credits
        self.scheduler = LaneScheduler(self._start_waiting)
        self.webhooks = WebhookSender(self.scheduler, config, seed)
        self._jobs: dict[str, Job] = {}
        self._bulk_jobs: set[str] = set()
        self._waiting: deque[Job] = deque()
        self._processing = 0
        self._reserved = 0
        self._counts = _LaneCounts()

    @property
    def credits_available(self) -> int:
        """Credits left today less those held for contacts not yet settled."""
        return max(0, self._credits.left - self._reserved)

    def hold_for(self, request: EnrichRequest) -> int:
        """The most `request` can cost: every type it asks for, found."""
        return price(self._config(), request.types)

    def submit(self, requests: Iterable[EnrichRequest], webhook_url: str | None) -> list[Job]:
        """Queue contacts (one, or a batch's); each is held its price and gets its own id."""
        jobs = []
        for request in requests:
            job = Job(str(uuid.uuid4()), request, webhook_url, self.hold_for(request))
            self._reserved += job.hold
            self._jobs[job.enrichment_id] = job
            self._waiting.append(job)
            self._counts.submitted += 1
            self._counts.submitted_by_contact[request.identity] += 1
            jobs.append(job)
        self.scheduler.wake()
        return jobs

    def new_bulk_job(self, jobs: list[Job]) -> str:
        """The id of a batch (not any contact's): GET on it is refused with a sentence."""
        bulk_id = str(uuid.uuid4())
        for job in jobs:
            job.bulk_id = bulk_id
        self._bulk_jobs.add(bulk_id)
        self._counts.bulk_jobs += 1
        return bulk_id

    def is_bulk_job(self, enrichment_id: str) -> bool:
        return enrichment_id in self._bulk_jobs

    def poll(self, enrichment_id: str) -> Job | None:
        """The job a GET asks for (None if unknown), counted by what it found."""
        job = self._jobs.get(enrichment_id)
        self._counts.polls[
            "unknown" if job is None else ("finished" if job.state == "finished" else "pending")
        ] += 1
        return job

    def advance(self, seconds: float) -> None:
        """Jump the lane's clock (processing and webhook waits) `seconds` forward."""
        self.scheduler.advance(seconds)

    def config_changed(self) -> None:
        """A new capacity takes effect at once (more places start waiting contacts)."""
        self.scheduler.wake()

    def reset(self, seed: int) -> None:
        """Forget every job, hold, timer and count; re-seed the webhook faults."""
        self.scheduler.clear()
        self.webhooks.reset(seed)
        self._jobs.clear()
        self._bulk_jobs.clear()
        self._waiting.clear()
        self._processing = 0
        self._reserved = 0
        self._counts = _LaneCounts()

    async def aclose(self) -> None:
        await self.scheduler.aclose()
        await self.webhooks.aclose()

    def charged_by_contact(self) -> Counter[str]:
        return self._counts.charged_by_contact

    def stats(self) -> dict[str, Any]:
        """The async lane's part of `GET /_simulator/stats`.

        `submitted`/`submitted_by_contact`: contacts accepted (single or in a batch), per
        `identity_key`; `bulk_jobs`: batches accepted; `waiting`: contacts waiting for a
        place; `processing`/`peak_processing`: contacts being processed (at most
        `async_capacity`); `settled`/`settled_by_contact`: contacts finished;
        `charged_by_contact`: settlements that cost credits (found something);
        `credits_held`: credits held for contacts not settled yet; `polls`: GETs by what
        they found (pending, finished, unknown); `clock_offset_s`: how far
        `POST /_simulator/clock` moved the lane's clock; `webhooks`: see `WebhookSender`.
        """
        counts = self._counts
        return {
            "submitted": counts.submitted,
            "submitted_by_contact": dict(counts.submitted_by_contact),
            "bulk_jobs": counts.bulk_jobs,
            "waiting": len(self._waiting),
            "processing": self._processing,
            "peak_processing": counts.peak_processing,
            "settled": counts.settled,
            "settled_by_contact": dict(counts.settled_by_contact),
            "charged_by_contact": dict(counts.charged_by_contact),
            "credits_held": self._reserved,
            "polls": {kind: counts.polls[kind] for kind in ("pending", "finished", "unknown")},
            "clock_offset_s": self.scheduler.offset,
            "webhooks": self.webhooks.stats(),
        }

    def _start_waiting(self) -> None:
        config = self._config()
        while self._waiting and self._processing < config.async_capacity:
            job = self._waiting.popleft()
            job.state = "processing"
            self._processing += 1
            self._counts.peak_processing = max(self._counts.peak_processing, self._processing)
            self.scheduler.call_later(config.async_latency_ms / 1000.0, self._settler(job))

    def _settler(self, job: Job) -> Callable[[], None]:
        return lambda: self._settle(job)

    def _settle(self, job: Job) -> None:
        if self._jobs.get(job.enrichment_id) is not job:
            return  # forgotten by a reset
        request = job.request
        outcome = simulated_outcome(
            request.firstname,
            request.lastname,
            request.domain,
            request.company_name,
            request.linkedin_url,
        )
        found = found_types(request, outcome)
        cost = price(self._config(), found)
        self._reserved -= job.hold
        if cost and not self._credits.try_charge(cost):
            # Only when the day's credits were lowered under the holds: answer nothing, free.
            found, cost = (), 0
        if cost:
            self._counts.charged_by_contact[request.identity] += 1
        job.result = finished_body(job, outcome, found)
        job.state = "finished"
        self._processing -= 1
        self._counts.settled += 1
        self._counts.settled_by_contact[request.identity] += 1
        if job.webhook_url is not None:
            self.webhooks.send(job.webhook_url, job.result)
