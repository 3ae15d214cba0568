"""One fill's contacts through the async lane (`AsyncLane.fill`).

Each contact (one per distinct identity) is, per type: answered from memory or the
store (paid before); joined to a submission already in flight (this process's, or one
the store remembers from before a restart: never sent twice); decided at once (needs a
LinkedIn URL, personal emails paused); or submitted. Answers are handed to `on_result`
as they arrive, a contact once all its types are known; what has not arrived when
`stop_at()` says stop is counted as waiting and written by a later run.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from pronto_sheets.enrich.async_lane import (
    PERSONAL_EMAIL,
    RELEASED_MESSAGE,
    AsyncLane,
    FillCounts,
    TypeResults,
    all_of,
    paused,
)
from pronto_sheets.enrich.cache import answer_key
from pronto_sheets.enrich.contacts import Contact, EnrichmentTypes
from pronto_sheets.results import RowResult, Status, TypeResult
from pronto_sheets.store.submissions import Submission
from pronto_sheets.vocabulary import vocabulary

Answer = asyncio.Future[TypeResults]
# Wake-ups (about a second each) with no answer arriving before the store is read for
# answers another process settled.
STALL_WAKES = 5


class LaneFill:
    """See the module docstring."""

    def __init__(
        self,
        lane: AsyncLane,
        contacts: list[Contact],
        types: list[EnrichmentTypes],
        on_result: Callable[[int, RowResult], None],
    ) -> None:
        self.lane = lane
        self.contacts = contacts
        self.types = types
        self.on_result = on_result
        self.counts = FillCounts()
        self.rows: list[TypeResults] = [{} for _ in contacts]
        self.open: set[int] = set(range(len(contacts)))
        self.waits: dict[Answer, list[int]] = {}  # answers on their way -> their contacts
        self.ready: list[Answer] = []  # answers arrived, not yet taken
        self.wake = asyncio.Event()
        # Types given up unconfirmed (`AsyncLane.release_stale`): sent again by this run.
        self.again: list[tuple[int, EnrichmentTypes]] = []
        self.submitters: list[asyncio.Task[None]] = []
        self.arrivals = 0  # answers taken so far; unchanged for a while means a stall

    async def run(self, stop_at: Callable[[], bool], wake_every_s: float) -> FillCounts:
        wanted = self._askable()
        known = await self.lane.known(wanted)
        unknown = [
            i for i, names in wanted.items() if any(answer_key(i, n) not in known for n in names)
        ]
        in_flight = await self.lane.submissions.active_for(unknown)
        to_submit = [
            item
            for index in range(len(self.contacts))
            for item in self._sort(index, wanted, known, in_flight)
        ]
        self._start_submitting(to_submit, stop_at)
        try:
            await self._collect(stop_at, wake_every_s)
        finally:
            for submitter in self.submitters:
                submitter.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await submitter
        on_its_way = {index for indices in self.waits.values() for index in indices}
        self.counts.waiting = sorted(self.open & on_its_way)
        self.counts.unsent = sorted(self.open - on_its_way)
        return self.counts

    def _askable(self) -> dict[str, set[str]]:
        """identity -> the types Pronto may be asked; the others decided now."""
        wanted: dict[str, set[str]] = {}
        for index, (contact, types) in enumerate(zip(self.contacts, self.types, strict=True)):
            for name in types:
                if contact.can_ask(name):
                    wanted.setdefault(contact.identity(), set()).add(name)
                else:
                    message = vocabulary().needs_linkedin_message(name)
                    self.rows[index][name] = TypeResult(Status.NEEDS_LINKEDIN, message=message)
        return wanted

    def _sort(
        self,
        index: int,
        wanted: dict[str, set[str]],
        known: TypeResults,
        in_flight: dict[str, list[Submission]],
    ) -> list[tuple[int, EnrichmentTypes]]:
        """Answer, join or decide each type of one contact; what is left to submit, one
        request per type: the async pages take "an array containing one of" the types
        (https://docs.prontohq.com/api-reference/endpoints/enrichments/single)."""
        identity = self.contacts[index].identity()
        missing: list[str] = []
        joined = False
        for name in sorted(wanted.get(identity, ())):
            key = answer_key(identity, name)
            future = None if key in known else self._on_its_way(identity, name, in_flight)
            if key in known:
                self.rows[index][name] = known[key]
            elif future is not None:
                joined = True
                self._wait(index, future)
            elif name == PERSONAL_EMAIL and self.lane.consent.paused:
                self.rows[index][name] = paused()
            else:
                missing.append(name)
        self.counts.joined += joined
        self._done_if_complete(index)
        return [(index, EnrichmentTypes.of([name])) for name in missing]

    def _on_its_way(
        self, identity: str, name: str, in_flight: dict[str, list[Submission]]
    ) -> Answer | None:
        covering = next((s for s in in_flight.get(identity, []) if name in s.types), None)
        if covering is not None:
            return self.lane.waiter(covering)
        joined = self.lane.joinable(identity, name)
        if joined is None and self.lane.on_other_lane is not None:
            joined = self.lane.on_other_lane(identity, name)  # a formula's sync call
        return joined

    def _wait(self, index: int, future: Answer) -> None:
        indices = self.waits.get(future)
        if indices is None:
            indices = self.waits[future] = []
            # One callback per answer, not a scan of them all per arrival: a 10,000-row
            # fill takes hundreds of answers a second.
            future.add_done_callback(self._arrived)
        if index not in indices:
            indices.append(index)

    def _arrived(self, future: Answer) -> None:
        self.ready.append(future)
        self.wake.set()

    def _done_if_complete(self, index: int) -> None:
        row = self.rows[index]
        if index in self.open and all(name in row for name in self.types[index]):
            self.open.discard(index)
            self.on_result(index, RowResult.combine(row))

    async def _submit_all(
        self, items: list[tuple[int, EnrichmentTypes]], stop_at: Callable[[], bool]
    ) -> None:
        queue = list(reversed(items))
        closed = False

        async def worker() -> None:
            nonlocal closed
            while queue and not stop_at():
                index, types = queue.pop()
                if closed:  # out of credits: no further submission today
                    message = self.lane.budget.exhausted_message
                    self.rows[index].update(all_of(types, Status.OVER_BUDGET, message))
                else:
                    submission, decided = await self.lane.submit(self.contacts[index], types)
                    self.rows[index].update(decided)
                    closed = closed or any(r.status is Status.OVER_BUDGET for r in decided.values())
                    if submission is not None:
                        self.counts.submitted += 1  # requests: one per contact and type
                        self._wait(index, self.lane.waiter(submission))
                self._done_if_complete(index)

        await asyncio.gather(*(worker() for _ in range(max(1, self.lane.client_slots))))

    def _start_submitting(
        self, items: list[tuple[int, EnrichmentTypes]], stop_at: Callable[[], bool]
    ) -> None:
        submitter = asyncio.create_task(self._submit_all(items, stop_at))
        submitter.add_done_callback(lambda _task: self.wake.set())
        self.submitters.append(submitter)

    async def _collect(self, stop_at: Callable[[], bool], wake_every_s: float) -> None:
        """Take answers as they arrive, until all contacts are answered, nothing more is on
        its way, or `stop_at()` (looked at every `wake_every_s` at least)."""
        quiet_wakes, arrivals_seen = 0, self.arrivals
        while self.open and not stop_at():
            self._take_ready()
            quiet_wakes = 0 if self.arrivals != arrivals_seen else quiet_wakes + 1
            arrivals_seen = self.arrivals
            if quiet_wakes >= STALL_WAKES:
                quiet_wakes = 0
                await self._settled_elsewhere()
            if self.again:
                again, self.again = self.again, []
                self._start_submitting(again, stop_at)
            submitting = any(not task.done() for task in self.submitters)
            if not self.open or (not submitting and not self.waits):
                break  # all answered, or nothing on its way for what is left
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), wake_every_s)
        self._take_ready()

    async def _settled_elsewhere(self) -> None:
        """Answers settled by another process (the webhook reached another instance, or
        this is a job beside the deployed function, which receives Pronto's webhooks): no
        future of this process resolves for them, so read them from the store."""
        waiting = {index for indices in self.waits.values() for index in indices} & self.open
        wanted: dict[str, set[str]] = {}
        for index in waiting:
            names = {name for name in self.types[index] if name not in self.rows[index]}
            if names:
                wanted.setdefault(self.contacts[index].identity(), set()).update(names)
        if not wanted:
            return
        known = await self.lane.known(wanted)
        for index in sorted(waiting):
            identity = self.contacts[index].identity()
            for name in self.types[index]:
                key = answer_key(identity, name)
                if name not in self.rows[index] and key in known:
                    self.rows[index][name] = known[key]
            self._done_if_complete(index)

    def _take_ready(self) -> None:
        ready, self.ready = self.ready, []
        for future in ready:
            if future in self.waits:
                self._take(future)

    def _take(self, future: Answer) -> None:
        indices = self.waits.pop(future)
        self.arrivals += 1
        if future.cancelled():
            return
        results = future.result()
        for index in indices:
            for name in self.types[index]:
                if name not in results or name in self.rows[index]:
                    continue
                if results[name].message == RELEASED_MESSAGE:
                    self.again.append((index, EnrichmentTypes.of([name])))
                else:
                    self.rows[index][name] = results[name]
            self._done_if_complete(index)
