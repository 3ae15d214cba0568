"""The sheet filler: read a sheet, enrich what its rows lack, write the results back.

One run (`SheetFiller.fill`):
1. reads the spreadsheet's metadata (one request) and the sheet's used range (one
   request, or one per 10,000 rows), once;
2. plans off the event loop (a big sheet's parsing must not stall typed formulas):
   `planning.plan_fill` maps the columns and asks each row only the requested types it
   is not done for;
3. sends each distinct contact to the enricher once, at background priority, in small
   chunks that overlap so Pronto's slots stay busy; a contact on several rows is paid
   once and written to each row, each row getting only the types it asked;
4. writes results through the `ResultWriter` (writer.py): RAW values, paced flushes,
   rows edited meanwhile left out.
With an async lane (`lane`, docs/async-lane.md) step 3 submits the contacts to Pronto's
async endpoint instead and writes answers as webhooks and polls bring them, until all
are in or the deadline nears; the next run writes the rest without submitting again.

A run cut short (`max_rows`, the deadline, a cancelled task, a failed write) writes what
it has and stops; the next run starts again from the rows not done, and what was paid
but not written is served from the enricher's cache and store (in a new process too).
The deadline is checked while waiting, not only between chunks, and leaves time for the
last write. What a fill takes and reports is in `fill_types.py`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pronto_sheets.enrich.async_lane import AsyncLane, takes
from pronto_sheets.enrich.contacts import EnrichmentTypes
from pronto_sheets.enrich.engine import Enricher
from pronto_sheets.enrich.gate import Priority
from pronto_sheets.enrich.outcome import EnrichOutcome
from pronto_sheets.errors import SheetsError, SheetWriteFailed, SpreadsheetPermissionDenied
from pronto_sheets.results import RowResult, Status, TypeResult
from pronto_sheets.sheets.cells import PRONTO_STATUS, output_cells
from pronto_sheets.sheets.client import SheetsClient, run_blocking
from pronto_sheets.sheets.columns import ColumnMap
from pronto_sheets.sheets.fill_types import FillProgress, FillRequest, FillSummary
from pronto_sheets.sheets.planning import FillPlan, RowTask, plan_fill, types_of
from pronto_sheets.sheets.worksheet import Worksheet
from pronto_sheets.sheets.writer import Clock, FlushPolicy, ResultWriter, Sleep
from pronto_sheets.vocabulary import vocabulary

logger = logging.getLogger(__name__)

# A few contacts per `enrich` call; several calls in flight keep every Pronto slot busy,
# and a chunk cut short by a deadline loses little (its answers are cached anyway).
CHUNK_CONTACTS = 5
# This many distinct contacts failing in a row stops the run (a rejected key, an outage).
FAILING_STREAK_LIMIT = 30


# The chunks being enriched, by the task enriching each.
_Running = dict[asyncio.Task[EnrichOutcome], list[list[RowTask]]]


@dataclass
class _Tally:
    rows_total: int = 0
    rows_done: int = 0
    writer: ResultWriter | None = None
    failing: int = 0  # distinct contacts in a row that came back `failed`
    last_failure: str = ""
    lane_open: int = 0  # rows handed to the async lane, their answer not arrived yet


class SheetFiller:
    """Fills sheets through one gspread client with one enricher (see module docstring).

    `clock` and `sleep` pace the writes (tests inject their own); `progress` is called
    after every chunk of results and every write; `deadline_s` stops a run in time to
    answer (a request's own `deadline_s` is used when shorter); `write_margin_s` is kept
    before it for the last write.
    """

    def __init__(
        self,
        enricher: Enricher,
        client: SheetsClient,
        *,
        progress: Callable[[FillProgress], None] | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        flush_rows: int = 200,
        flush_interval_s: float = 5.0,
        min_write_gap_s: float = 1.0,
        chunk_contacts: int = CHUNK_CONTACTS,
        deadline_s: float | None = None,
        write_margin_s: float = 30.0,
        drain_grace_s: float = 30.0,
        lane: AsyncLane | None = None,
    ) -> None:
        self.enricher = enricher
        self.lane = lane  # the async lane (docs/async-lane.md), when the function has one
        self.client = client
        self.progress = progress
        self.clock = clock
        self.sleep = sleep
        self.flush_rows = flush_rows
        self.flush_interval_s = flush_interval_s
        self.min_write_gap_s = min_write_gap_s
        self.chunk_contacts = chunk_contacts
        self.deadline_s = deadline_s
        self.write_margin_s = write_margin_s
        self.drain_grace_s = drain_grace_s

    async def fill(self, request: FillRequest) -> FillSummary:
        """Run one fill; see the module docstring for what it does and raises."""
        started = self.clock()
        limits = [s for s in (self.deadline_s, request.deadline_s) if s is not None]
        # A little slack (2%, at most a second) for the answer itself to reach the caller.
        deadline = started + min(limits) - min(1.0, 0.02 * min(limits)) if limits else None
        summary = FillSummary(spreadsheet_id=request.spreadsheet_id, dry_run=request.dry_run)
        if self.lane is not None:
            summary.lane = "async"
        sheet = await run_blocking(Worksheet, self.client, request.spreadsheet_id, request.sheet)
        summary.sheet = sheet.title
        try:
            values = await run_blocking(sheet.read_values)
        finally:
            summary.sheets_reads = sheet.reads
        plan = await asyncio.to_thread(plan_fill, values, request)
        summary.rows = plan.counts["rows"]
        summary.skipped_filled = plan.counts["skipped_filled"]
        summary.remaining = plan.counts["remaining"]
        summary.to_enrich = len(plan.rows)
        summary.invalid = plan.counts["invalid"]
        summary.duplicates = summary.to_enrich - summary.invalid - len(plan.groups)
        if request.dry_run:
            await self.enricher.recall(plan.wanted)  # answers kept by earlier runs count
            estimate = await self.enricher.estimate_in_slices(plan.wanted)
            summary.needs_linkedin = plan.counts["needs_linkedin"]
            summary.plan = {
                "unique": len(plan.groups),
                "cached": estimate.cached,
                "to_call": estimate.to_call,
                "estimated_credits": estimate.estimated_credits,
            }
            summary.seconds = self.clock() - started
            return summary
        if plan.rows:
            await self._enrich_and_write(sheet, values, plan, request, summary, deadline)
        summary.sheets_reads = sheet.reads
        summary.sheets_writes = sheet.writes
        summary.seconds = self.clock() - started
        return summary

    def _output_columns(
        self, values: Sequence[Sequence[Any]], column_map: ColumnMap, types: EnrichmentTypes
    ) -> tuple[dict[str, int], dict[str, str]]:
        """The output columns this run writes (those of the requested types, and Pronto
        status), each found or appended after the last used column, with the headers of
        those to append."""
        columns: dict[str, int] = {}
        appended: dict[str, str] = {}
        next_free = max((len(row) for row in values), default=0)
        next_free = max(next_free, *(index + 1 for index in column_map.outputs.values()), 0)
        for column in vocabulary().output_columns:
            if column.type is not None and column.type not in types:
                continue
            if column.field in column_map.outputs:
                columns[column.field] = column_map.outputs[column.field]
            else:
                columns[column.field] = next_free
                appended[column.field] = column.header
                next_free += 1
        return columns, appended

    async def _enrich_and_write(
        self,
        sheet: Worksheet,
        values: Sequence[Sequence[Any]],
        plan: FillPlan,
        request: FillRequest,
        summary: FillSummary,
        deadline: float | None,
    ) -> None:
        """Enrich the plan's rows and write their results, whatever stops the run."""
        column_map = plan.column_map
        columns, appended = self._output_columns(values, column_map, request.types)
        tally = _Tally(rows_total=len(plan.rows))
        policy = FlushPolicy(self.flush_rows, self.flush_interval_s, self.min_write_gap_s)
        writer = ResultWriter(
            sheet,
            columns,
            list(column_map.inputs.values()),
            policy,
            self.clock,
            self.sleep,
            on_write=lambda: self._report(tally, summary, sheet),
        )
        tally.writer = writer
        writer_task: asyncio.Task[None] | None = None
        try:
            if appended:
                await self._add_columns(sheet, writer, policy, columns, appended, values, plan)
            self._record_invalid_rows(plan, writer, tally, summary)
            self._report(tally, summary, sheet)
            writer_task = asyncio.create_task(writer.run())
            try:
                groups = plan.groups
                if self.lane is not None:
                    groups = await self._lane_groups(
                        self.lane, groups, writer, writer_task, tally, summary, sheet, deadline
                    )
                await self._enrich_groups(
                    groups, writer, writer_task, tally, summary, sheet, deadline
                )
                writer.close()
                await self._finish_writes(writer_task, deadline)
            except asyncio.CancelledError:
                # Interrupted: what was paid for is still written (within the grace time).
                summary.stopped = "The run was interrupted; run the fill again to continue."
                writer.close()
                await asyncio.wait({writer_task}, timeout=self.drain_grace_s)
                raise
        except SpreadsheetPermissionDenied:
            raise  # unshared while filling: its message says who to share it with
        except SheetsError as exc:
            raise self._write_failed(exc, writer, summary, sheet) from exc
        finally:
            if writer_task is not None and not writer_task.done():
                writer_task.cancel()
            summary.changed_during_run = writer.rows_changed
        summary.remaining += writer.rows_changed
        self._report(tally, summary, sheet)

    def _record_invalid_rows(
        self, plan: FillPlan, writer: ResultWriter, tally: _Tally, summary: FillSummary
    ) -> None:
        """Rows that cannot be looked up get their reason at once, without Pronto."""
        for task in plan.rows:
            if not task.identity:
                reason = task.contact.invalid_reason() or ""
                result = RowResult.invalid_row(reason, task.types.names, None)
                self._record(result, [task], writer, summary)
                tally.rows_done += 1

    async def _add_columns(
        self,
        sheet: Worksheet,
        writer: ResultWriter,
        policy: FlushPolicy,
        columns: dict[str, int],
        appended: dict[str, str],
        values: Sequence[Sequence[Any]],
        plan: FillPlan,
    ) -> None:
        """Widen the sheet when the new output columns need it, and queue their headers."""
        needed = max(columns.values()) + 1
        if needed > sheet.column_count:  # a write of its own, paced like the others
            await run_blocking(sheet.ensure_columns, needed)
            policy.last_write = self.clock()
        header_row = plan.column_map.header_row
        writer.name_columns(header_row + 1, values[header_row], appended)

    async def _finish_writes(self, writer_task: asyncio.Task[None], deadline: float | None) -> None:
        """Let the writer write what is left, within the deadline when there is one."""
        if deadline is None:
            await asyncio.shield(writer_task)
            return
        done, _ = await asyncio.wait({writer_task}, timeout=max(0.0, deadline - self.clock()))
        if writer_task in done:
            writer_task.result()  # raises the write error, if any

    async def _lane_groups(
        self,
        lane: AsyncLane,
        groups: list[list[RowTask]],
        writer: ResultWriter,
        writer_task: asyncio.Task[None],
        tally: _Tally,
        summary: FillSummary,
        sheet: Worksheet,
        deadline: float | None,
    ) -> list[list[RowTask]]:
        """Send the contacts the async lane can take through it, writing answers as they
        arrive until all are in or the deadline nears; the groups it cannot take (an
        email without a domain or company) are returned for the sync lane."""
        ours = [g for g in groups if takes(g[0].contact, types_of(g))]
        rest = [g for g in groups if not takes(g[0].contact, types_of(g))]
        stop_at = self._stop_at(deadline)

        def on_result(index: int, result: RowResult) -> None:
            statuses = {r.status for r in result.types.values()}
            if Status.PAUSED in statuses:  # account-level: said once, as the sync lane does
                notice = str(vocabulary().messages["consent_notice"])
                summary.notices.setdefault("personal_email_consent", notice)
            if Status.OVER_BUDGET in statuses:
                summary.notices.setdefault("over_budget", lane.budget.exhausted_message)
            self._record(result, ours[index], writer, summary)
            tally.rows_done += len(ours[index])
            tally.lane_open -= len(ours[index])
            self._report(tally, summary, sheet)

        def stop() -> bool:
            return writer_task.done() or (stop_at is not None and self.clock() >= stop_at)

        contacts = [group[0].contact for group in ours]
        tally.lane_open = sum(len(group) for group in ours)
        self._report(tally, summary, sheet)
        counts = await lane.fill(contacts, [types_of(g) for g in ours], on_result, stop_at=stop)
        if writer_task.done():
            await writer_task  # raises the write error
        summary.submitted += counts.submitted
        summary.waiting += sum(len(ours[i]) for i in counts.waiting)
        summary.remaining += sum(len(ours[i]) for i in counts.unsent)
        tally.lane_open = summary.waiting  # the progress bar's last word on the lane
        self._report(tally, summary, sheet)
        if counts.waiting or counts.unsent:
            summary.stopped = (
                "Stopped before the time limit; answers still on their way are written by "
                "the next run, without asking Pronto again."
            )
            return []
        return rest

    def _stop_at(self, deadline: float | None) -> float | None:
        """When to stop waiting for answers: before the deadline, leaving time to write."""
        if deadline is None:
            return None
        return deadline - min(self.write_margin_s, (deadline - self.clock()) / 4)

    async def _enrich_groups(
        self,
        groups: list[list[RowTask]],
        writer: ResultWriter,
        writer_task: asyncio.Task[None],
        tally: _Tally,
        summary: FillSummary,
        sheet: Worksheet,
        deadline: float | None,
    ) -> None:
        """Send distinct contacts in overlapping chunks; hand each result to the writer."""
        chunks = deque(
            groups[i : i + self.chunk_contacts] for i in range(0, len(groups), self.chunk_contacts)
        )
        window = max(2, -(-4 * self.enricher.gate.max_in_flight // self.chunk_contacts))
        stop_at = self._stop_at(deadline)
        running: _Running = {}
        try:
            while chunks or running:
                self._stop_when_due(chunks, running, tally, summary, stop_at)
                while chunks and len(running) < window:
                    chunk = chunks.popleft()
                    running[self._start_chunk(chunk)] = chunk
                if not running:
                    break
                waiting: set[asyncio.Future[Any]] = {*running, writer_task}
                timeout = None if stop_at is None else max(0.0, stop_at - self.clock())
                done, _ = await asyncio.wait(
                    waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                for finished in [task for task in running if task in done]:
                    self._take(finished.result(), running.pop(finished), writer, tally, summary)
                if writer_task.done():
                    await writer_task  # raises the write error; a clean end cannot happen here
                    return
                self._report(tally, summary, sheet)
        except asyncio.CancelledError:
            await self._drain(running, writer, tally, summary)
            raise
        finally:
            for task in running:
                task.cancel()

    async def _drain(
        self, running: _Running, writer: ResultWriter, tally: _Tally, summary: FillSummary
    ) -> None:
        """Calls already made are paid for: wait for them briefly and write their rows."""
        if not running:
            return
        drained, _ = await asyncio.wait(running, timeout=self.drain_grace_s)
        for task in drained:
            if not task.cancelled() and task.exception() is None:
                self._take(task.result(), running[task], writer, tally, summary)

    def _start_chunk(self, chunk: list[list[RowTask]]) -> asyncio.Task[EnrichOutcome]:
        """One `enrich` call for a chunk's contacts, each asked its rows' types."""
        return asyncio.create_task(
            self.enricher.enrich(
                [group[0].contact for group in chunk],
                [types_of(group) for group in chunk],
                priority=Priority.BACKGROUND,
            )
        )

    def _stop_when_due(
        self,
        chunks: deque[list[list[RowTask]]],
        running: _Running,
        tally: _Tally,
        summary: FillSummary,
        stop_at: float | None,
    ) -> None:
        """Past `stop_at`, or after too many failures in a row, start no more chunks and
        say why; past `stop_at`, stop waiting for those running too."""
        stop: str | None = None
        if stop_at is not None and self.clock() >= stop_at:
            stop = "Stopped before the time limit; run the fill again to continue."
        elif tally.failing >= FAILING_STREAK_LIMIT:
            # A rejected key or an outage: don't mark the whole sheet failed.
            stop = (
                f"Stopped because Pronto kept failing ({tally.last_failure}) "
                "Run the fill again later to continue."
            )
        if not stop:
            return
        left = [g for chunk in chunks for g in chunk]
        if stop_at is not None and self.clock() >= stop_at:
            # Out of time: stop waiting too. The lookups go on in the enricher
            # and their answers are cached; the next run writes them for free.
            left += [g for chunk in running.values() for g in chunk]
            for task in running:
                task.cancel()
            running.clear()
        summary.remaining += sum(len(group) for group in left)
        summary.stopped = stop
        chunks.clear()

    def _take(
        self,
        outcome: EnrichOutcome,
        chunk: list[list[RowTask]],
        writer: ResultWriter,
        tally: _Tally,
        summary: FillSummary,
    ) -> None:
        summary.credits += outcome.stats.credits_spent
        summary.upstream_calls += outcome.stats.upstream_calls
        for notice in outcome.notices:
            summary.notices.setdefault(notice.code, notice.message)
        for result, group in zip(outcome.results, chunk, strict=True):
            self._record(result, group, writer, summary)
            tally.rows_done += len(group)
            if result.status is Status.FAILED:
                tally.failing += 1
                tally.last_failure = result.message or ""
            else:
                tally.failing = 0

    @staticmethod
    def _record(
        result: RowResult, rows: list[RowTask], writer: ResultWriter, summary: FillSummary
    ) -> None:
        for task in rows:
            # Each row gets the types it asked, and its status from those alone.
            mine: dict[str, TypeResult] = {
                name: result.types[name] for name in task.types if name in result.types
            }
            own = result if mine == dict(result.types) else RowResult.combine(mine)
            match own.status:
                case Status.SUCCESS:
                    summary.found += 1
                case Status.NOT_FOUND:
                    summary.not_found += 1
                case Status.FAILED:
                    summary.failed += 1
                case Status.OVER_BUDGET:
                    summary.over_budget += 1
                case Status.PENDING:
                    summary.pending += 1
            statuses = {r.status for r in own.types.values()}
            summary.enriched += all(status.is_answer for status in statuses)
            summary.needs_linkedin += Status.NEEDS_LINKEDIN in statuses
            for name, type_result in own.types.items():
                if type_result.status is Status.SUCCESS:
                    summary.found_by_type[name] = summary.found_by_type.get(name, 0) + 1
            writer.add(task.number, output_cells(own, task.done_before), task.values)

    def _report(self, tally: _Tally, summary: FillSummary, sheet: Worksheet) -> None:
        summary.sheets_writes = sheet.writes
        if self.progress is not None:
            self.progress(
                FillProgress(
                    rows_total=tally.rows_total,
                    rows_done=tally.rows_done,
                    rows_written=tally.writer.rows_written if tally.writer else 0,
                    found=summary.found,
                    credits=summary.credits,
                    writes=sheet.writes,
                    lane=summary.lane,
                    submitted=summary.submitted,
                    waiting=tally.lane_open,
                )
            )

    @staticmethod
    def _write_failed(
        exc: SheetsError, writer: ResultWriter, summary: FillSummary, sheet: Worksheet
    ) -> SheetWriteFailed:
        summary.sheets_writes = sheet.writes
        summary.sheets_reads = sheet.reads
        return SheetWriteFailed(
            f"Google Sheets kept refusing to save results ({exc.message}), so the fill stopped "
            f"after writing {writer.rows_written} rows. Those rows are kept; run the fill "
            "again later and it will continue where it stopped without paying twice.",
            summary,
            code="sheet_write_failed",
        )


__all__ = [
    "PRONTO_STATUS",
    "FillPlan",
    "FillProgress",
    "FillRequest",
    "FillSummary",
    "RowTask",
    "SheetFiller",
    "plan_fill",
]
