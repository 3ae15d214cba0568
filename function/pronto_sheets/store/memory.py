"""`MemoryStore`: the store of PRONTO_STORE=memory, and the budget's fallback while the
durable store is down. Nothing survives the process."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping

from pronto_sheets.store.protocol import Claim, LedgerDay, StoredAnswer, grant, subject_rows


class MemoryStore:
    """Dicts in this process; claims are atomic because nothing awaits inside them.

    With `keep_answers=False` answers are not kept at all: in front of it the engine's
    bounded `ResultCache` already is the memory, and a second, unbounded copy would grow.
    The subject index is kept either way (hashes, dropped when they expire): it is how a
    person whose answers are in that memory is found to be forgotten.
    """

    kind = "memory"

    def __init__(
        self, *, keep_answers: bool = True, clock: Callable[[], float] = time.time
    ) -> None:
        self._keep_answers = keep_answers
        self._answers: dict[str, StoredAnswer] = {}
        self._days: dict[str, LedgerDay] = {}
        self._subjects: dict[str, dict[str, float]] = {}  # subject -> identity -> expire_at
        self._clock = clock

    async def get_answers(self, keys: Collection[str]) -> dict[str, StoredAnswer]:
        now = self._clock()
        found = {key: self._answers[key] for key in keys if key in self._answers}
        return {key: answer for key, answer in found.items() if answer.expire_at > now}

    async def put_answers(
        self,
        answers: Mapping[str, StoredAnswer],
        subjects: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        if self._keep_answers:
            self._answers.update(answers)
        now = self._clock()
        for subject, identity, until in subject_rows(answers, subjects):
            entries = self._subjects.setdefault(subject, {})
            entries[identity] = max(entries.get(identity, 0.0), until)
            for gone in [name for name, end in entries.items() if end <= now]:
                del entries[gone]

    async def find_identities(self, subjects: Collection[str]) -> set[str]:
        now = self._clock()
        return {
            identity
            for subject in subjects
            for identity, until in self._subjects.get(subject, {}).items()
            if until > now
        }

    async def forget(self, keys: Collection[str], identities: Collection[str]) -> int:
        deleted = sum(1 for key in keys if self._answers.pop(key, None) is not None)
        people = set(identities)
        for subject in list(self._subjects):
            entries = self._subjects[subject]
            for identity in people & entries.keys():
                del entries[identity]
            if not entries:
                del self._subjects[subject]
        return deleted

    def claim_now(self, day: str, *, wanted: int, minimum: int, limit: int) -> Claim:
        """`claim_credits` without awaiting (the budget's in-memory accounting)."""
        state = self._days.get(day, LedgerDay())
        granted = grant(state.claimed, state.closed, wanted=wanted, minimum=minimum, limit=limit)
        state = LedgerDay(state.claimed + granted, state.spent, state.closed)
        self._days[day] = state
        return Claim(granted, state.claimed, state.closed)

    async def claim_credits(self, day: str, *, wanted: int, minimum: int, limit: int) -> Claim:
        return self.claim_now(day, wanted=wanted, minimum=minimum, limit=limit)

    async def release_credits(self, day: str, credits: int) -> None:
        state = self._days.get(day, LedgerDay())
        claimed = max(0, state.claimed - credits)
        self._days[day] = LedgerDay(claimed, state.spent, state.closed)

    async def record_spent(self, day: str, credits: int) -> None:
        state = self._days.get(day, LedgerDay())
        self._days[day] = LedgerDay(state.claimed, state.spent + credits, state.closed)

    async def close_day(self, day: str) -> None:
        state = self._days.get(day, LedgerDay())
        self._days[day] = LedgerDay(state.claimed, state.spent, True)

    async def ledger(self, day: str) -> LedgerDay:
        return self._days.get(day, LedgerDay())

    async def aclose(self) -> None:
        return None
