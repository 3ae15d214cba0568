"""Async-lane submissions: what this deployment sent to Pronto's async endpoints, durably.

One `Submission` per call to `POST /v2/contacts/single_enrich`, keyed by its correlation
`token` (the `custom` Pronto echoes back), written before the call leaves:

    unconfirmed ──Pronto answers {enrichment_id}──▶ submitted ──webhook or poll──▶ settled
         │                                              │
         └── Pronto refused it (nothing paid) ──▶ dropped (deleted)

- `unconfirmed`: about to be sent, or sent without an answer (a crash, a timeout after
  the body left). Pronto may have it: a webhook carrying its token adopts it; it is never
  sent again while it lasts (`release_unconfirmed` gives it up after a long wait).
- `submitted`: Pronto gave its `enrichment_id`; polling `GET /v2/contacts/{id}` from
  `next_poll_at` on guarantees its answer even when the webhook is lost.
- `settled`: the answer is in the answer store and the credits are charged. Kept until
  `expire_at`, so a late or duplicated webhook is recognised and changes nothing.

Every backend makes `settle` a compare-and-set: of two deliveries of one answer (a
webhook and a poll, or a duplicated webhook), exactly one wins. Every method raises
`StoreError` when the store cannot be used, and nothing else.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol

# Firestore collection (deploy.sh's TTL policy on `expire_at` may cover it too).
SUBMISSIONS_COLLECTION = "pronto_sheets_submissions"
# A settled submission is remembered this long: late webhooks get a 409, not a 404.
SETTLED_KEEP_S = 7 * 86400


class SubmissionState(StrEnum):
    UNCONFIRMED = "unconfirmed"
    SUBMITTED = "submitted"
    SETTLED = "settled"


@dataclass(frozen=True)
class Submission:
    """One contact's types sent to Pronto's async lane (see the module docstring)."""

    token: str  # the `custom` correlation sent with it (an HMAC: unforgeable)
    identity: str  # `Contact.identity()`: the rows of any sheet holding this contact
    types: tuple[str, ...]
    state: SubmissionState
    submitted_at: float  # seconds since the epoch
    next_poll_at: float
    enrichment_id: str | None = None
    polls: int = 0
    expire_at: float = 0.0

    @property
    def active(self) -> bool:
        """True while an answer may still come (not settled)."""
        return self.state is not SubmissionState.SETTLED

    def settled(self, enrichment_id: str, now: float) -> Submission:
        return replace(
            self,
            state=SubmissionState.SETTLED,
            enrichment_id=enrichment_id,
            expire_at=now + SETTLED_KEEP_S,
        )


class SubmissionStore(Protocol):
    """Durable submissions (see the module docstring)."""

    kind: str

    async def add(self, submission: Submission) -> None:
        """Record a new (unconfirmed) submission before it is sent."""
        ...

    async def confirm(self, token: str, enrichment_id: str, next_poll_at: float) -> None:
        """Pronto accepted it: keep its id (no-op when a webhook settled it first)."""
        ...

    async def drop(self, token: str) -> None:
        """Pronto refused it: nothing was paid, forget it (an unconfirmed one only)."""
        ...

    async def by_token(self, token: str) -> Submission | None: ...

    async def by_enrichment_id(self, enrichment_id: str) -> Submission | None: ...

    async def active_for(self, identities: Collection[str]) -> dict[str, list[Submission]]:
        """The unsettled submissions of these identities, in one round trip or a few."""
        ...

    async def settle(self, token: str, enrichment_id: str) -> bool:
        """Mark it settled; True for the one call that did (compare-and-set)."""
        ...

    async def due(self, now: float, limit: int) -> list[Submission]:
        """Submitted ones whose `next_poll_at` has come, oldest first."""
        ...

    async def reschedule(self, token: str, next_poll_at: float, polls: int) -> None: ...

    async def release_unconfirmed(self, before: float) -> list[Submission]:
        """Delete and return the unconfirmed ones submitted before `before`."""
        ...

    async def counts(self) -> dict[str, int]:
        """How many submissions are in each state (for /healthz and tests)."""
        ...

    async def aclose(self) -> None: ...


class MemorySubmissions:
    """Submissions in this process only (PRONTO_STORE=memory): a restart loses them."""

    kind = "memory"

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._by_token: dict[str, Submission] = {}
        self._clock = clock

    def _live(self) -> Iterable[Submission]:
        now = self._clock()
        return [s for s in self._by_token.values() if s.active or s.expire_at > now]

    async def add(self, submission: Submission) -> None:
        self._by_token[submission.token] = submission

    async def confirm(self, token: str, enrichment_id: str, next_poll_at: float) -> None:
        found = self._by_token.get(token)
        if found is not None and found.state is SubmissionState.UNCONFIRMED:
            self._by_token[token] = replace(
                found,
                state=SubmissionState.SUBMITTED,
                enrichment_id=enrichment_id,
                next_poll_at=next_poll_at,
            )

    async def drop(self, token: str) -> None:
        found = self._by_token.get(token)
        if found is not None and found.state is SubmissionState.UNCONFIRMED:
            del self._by_token[token]

    async def by_token(self, token: str) -> Submission | None:
        return self._by_token.get(token)

    async def by_enrichment_id(self, enrichment_id: str) -> Submission | None:
        return next((s for s in self._live() if s.enrichment_id == enrichment_id), None)

    async def active_for(self, identities: Collection[str]) -> dict[str, list[Submission]]:
        wanted = set(identities)
        found: dict[str, list[Submission]] = {}
        for submission in self._by_token.values():
            if submission.active and submission.identity in wanted:
                found.setdefault(submission.identity, []).append(submission)
        return found

    async def settle(self, token: str, enrichment_id: str) -> bool:
        found = self._by_token.get(token)
        if found is None or not found.active:
            return False
        self._by_token[token] = found.settled(enrichment_id, self._clock())
        return True

    async def due(self, now: float, limit: int) -> list[Submission]:
        ready = [
            s
            for s in self._by_token.values()
            if s.state is SubmissionState.SUBMITTED and s.next_poll_at <= now
        ]
        return sorted(ready, key=lambda s: s.next_poll_at)[:limit]

    async def reschedule(self, token: str, next_poll_at: float, polls: int) -> None:
        found = self._by_token.get(token)
        if found is not None and found.state is SubmissionState.SUBMITTED:
            self._by_token[token] = replace(found, next_poll_at=next_poll_at, polls=polls)

    async def release_unconfirmed(self, before: float) -> list[Submission]:
        stale = [
            s
            for s in self._by_token.values()
            if s.state is SubmissionState.UNCONFIRMED and s.submitted_at < before
        ]
        for submission in stale:
            del self._by_token[submission.token]
        return stale

    async def counts(self) -> dict[str, int]:
        counts = {state.value: 0 for state in SubmissionState}
        for submission in self._live():
            counts[submission.state.value] += 1
        return counts

    async def aclose(self) -> None:
        return None
