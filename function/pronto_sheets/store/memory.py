"""`MemoryStore`: the store of PRONTO_STORE=memory, and the budget's fallback while the
durable store is down. Nothing survives the process."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping

from pronto_sheets.store.protocol import Claim, LedgerDay, StoredAnswer, grant


class MemoryStore:
    """Dicts in this process; claims are atomic because nothing awaits inside them.

    With `keep_answers=False` answers are not kept at all: in front of it the engine's
    bounded `ResultCache` already is the memory, and a second, unbounded copy would grow.
    """

    kind = "memory"

    def __init__(
        self, *, keep_answers: bool = True, clock: Callable[[], float] = time.time
    ) -> None:
        self._keep_answers = keep_answers
        self._answers: dict[str, StoredAnswer] = {}
        self._days: dict[str, LedgerDay] = {}
        self._clock = clock

    async def get_answers(self, keys: Collection[str]) -> dict[str, StoredAnswer]:
        now = self._clock()
        found = {key: self._answers[key] for key in keys if key in self._answers}
        return {key: answer for key, answer in found.items() if answer.expire_at > now}

    async def put_answers(self, answers: Mapping[str, StoredAnswer]) -> None:
        if self._keep_answers:
            self._answers.update(answers)

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
