"""The sheet filler: read a sheet, enrich what its rows lack, write the results back.

One run (`SheetFiller.fill`):
1. reads the spreadsheet's metadata (one request) and the sheet's used range (one
   request, or one per 10,000 rows), once;
2. plans off the event loop (a big sheet's parsing must not stall typed formulas): maps
   the columns (`columns`), and asks each row only the requested types it is not done
   for (`cells.types_to_do`, the per-type done rule; all of them with `overwrite`);
3. sends each distinct contact to the enricher once, at background priority, in small
   chunks that overlap so Pronto's slots stay busy; a contact on several rows is paid
   once and written to each row, each row getting only the types it asked;
4. writes results through the `ResultWriter` (writer.py): RAW values, paced flushes,
   rows edited meanwhile left out.

A run cut short (`max_rows`, the deadline, a cancelled task, a failed write) writes what
it has and stops; the next run starts again from the rows not done, and what was paid
but not written is served from the enricher's cache and store (in a new process too).
The deadline is checked while waiting, not only between chunks, and leaves time for the
last write.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pronto_sheets.enrich.contacts import Contact, EnrichmentTypes
from pronto_sheets.enrich.engine import Enricher, EnrichOutcome
from pronto_sheets.enrich.gate import Priority
from pronto_sheets.enrich.results import RowResult, Status, TypeResult
from pronto_sheets.errors import SheetsError, SheetWriteFailed, SpreadsheetPermissionDenied
from pronto_sheets.sheets.bulk import bulk_allocation
from pronto_sheets.sheets.cells import PRONTO_STATUS, output_cells, types_to_do
from pronto_sheets.sheets.client import SheetsClient, run_blocking
from pronto_sheets.sheets.columns import ColumnMap, detect_columns
from pronto_sheets.sheets.worksheet import Worksheet
from pronto_sheets.sheets.writer import Clock, FlushPolicy, ResultWriter, Sleep
from pronto_sheets.vocabulary import vocabulary

logger = logging.getLogger(__name__)

# A few contacts per `enrich` call; several calls in flight keep every Pronto slot busy,
# and a chunk cut short by a deadline loses little (its answers are cached anyway).
CHUNK_CONTACTS = 5
# Planning runs in a thread; it hands the GIL to the event loop this often.
YIELD_EVERY_ROWS = 100
# This many distinct contacts failing in a row stops the run (a rejected key, an outage).
FAILING_STREAK_LIMIT = 30


@dataclass(frozen=True)
class FillRequest:
    """What to fill. `columns` maps field names to header texts or column letters."""

    spreadsheet_id: str
    sheet: str | None = None
    types: EnrichmentTypes = field(default_factory=EnrichmentTypes)
    overwrite: bool = False
    dry_run: bool = False
    max_rows: int | None = None
    columns: Mapping[str, str] | None = None
    # Only these sheet rows (1-based, inclusive): the sidebar's selection, run on the server.
    first_row: int | None = None
    last_row: int | None = None
    # Stop in time to answer within this many seconds (a scheduler gives up at 1,800).
    deadline_s: float | None = None
    # The header row (1-based), when the caller knows it (the sidebar does): no detection.
    header_row: int | None = None


@dataclass(frozen=True)
class FillProgress:
    """Where a run stands, for a progress bar: rows with a result out of rows to enrich,
    rows already saved in the sheet, and write requests sent (retries included)."""

    rows_total: int
    rows_done: int
    rows_written: int
    found: int
    credits: int
    writes: int


@dataclass
class FillSummary:
    """What a run did (or, for a dry run, would do). Counts are rows unless named otherwise."""

    spreadsheet_id: str
    sheet: str = ""
    dry_run: bool = False
    rows: int = 0  # non-blank data rows in the sheet (within first_row..last_row)
    to_enrich: int = 0  # rows with a requested type not done, within max_rows
    enriched: int = 0  # rows that got Pronto's answer for every type asked
    found: int = 0
    not_found: int = 0
    skipped_filled: int = 0  # rows done for every requested type
    duplicates: int = 0  # rows sharing a contact with an earlier row: paid once
    invalid: int = 0
    needs_linkedin: int = 0  # rows with a type not asked for lack of a LinkedIn URL
    failed: int = 0
    over_budget: int = 0
    pending: int = 0
    remaining: int = 0  # rows left for a later run (max_rows, deadline, stop)
    credits: int = 0
    upstream_calls: int = 0
    sheets_reads: int = 0
    sheets_writes: int = 0
    seconds: float = 0.0
    found_by_type: dict[str, int] = field(default_factory=dict)
    changed_during_run: int = 0  # rows edited or moved meanwhile: not written, left for later
    stopped: str | None = None  # why the run ended early, in words
    notices: dict[str, str] = field(default_factory=dict)  # account-level, by code
    plan: dict[str, int] | None = None  # dry runs: cached, to_call, estimated_credits…

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            name: getattr(self, name)
            for name in (
                "spreadsheet_id",
                "sheet",
                "dry_run",
                "rows",
                "to_enrich",
                "enriched",
                "found",
                "not_found",
                "skipped_filled",
                "duplicates",
                "invalid",
                "needs_linkedin",
                "failed",
                "over_budget",
                "pending",
                "remaining",
                "credits",
                "upstream_calls",
                "sheets_reads",
                "sheets_writes",
            )
        }
        body["seconds"] = round(self.seconds, 3)
        body["found_by_type"] = dict(self.found_by_type)
        body["notices"] = [{"code": c, "message": m} for c, m in self.notices.items()]
        if self.changed_during_run:
            body["changed_during_run"] = self.changed_during_run
        if self.stopped:
            body["stopped"] = self.stopped
        if self.plan is not None:
            body.update(self.plan)
        return body


@dataclass(frozen=True)
class RowTask:
    """One sheet row to enrich: what it asks, what it already had, how it read."""

    number: int  # 1-based row number in the sheet
    contact: Contact
    identity: str  # computed once, in the plan ("" for a row that cannot be looked up)
    types: EnrichmentTypes  # the requested types this row is not done for
    done_before: frozenset[str]  # requested types it already had (an overwrite run)
    values: Sequence[Any]  # the row as read, to skip writing what is already there


@dataclass
class FillPlan:
    """The rows to enrich, grouped by contact; built off the event loop."""

    column_map: ColumnMap
    rows: list[RowTask]
    groups: list[list[RowTask]]  # rows of one contact, the contact's types = their union
    counts: Counter[str]  # rows, skipped_filled, remaining, invalid, needs_linkedin
    wanted: dict[str, set[str]]  # identity -> the types it can be asked


def plan_fill(values: Sequence[Sequence[Any]], request: FillRequest) -> FillPlan:
    """Map the columns and list each row's work: pure CPU, run in a thread for big sheets
    (its objects kept out of the garbage collector's scans: see bulk.py)."""
    with bulk_allocation():
        return _plan_fill(values, request)


def _plan_fill(values: Sequence[Sequence[Any]], request: FillRequest) -> FillPlan:
    header_row = None if request.header_row is None else request.header_row - 1
    column_map = detect_columns(values, request.columns, header_row=header_row)
    counts: Counter[str] = Counter()
    rows: list[RowTask] = []
    start = column_map.header_row + 1
    if request.first_row is not None:
        start = max(start, request.first_row - 1)
    end = len(values) if request.last_row is None else min(len(values), request.last_row)
    for index in range(start, end):
        if index % YIELD_EVERY_ROWS == 0:
            time.sleep(0)  # let the event loop's thread take the GIL: formulas stay quick
        row = values[index]
        if column_map.is_blank(row):
            continue
        counts["rows"] += 1
        todo = types_to_do(column_map, row, request.types, overwrite=request.overwrite)
        if not todo:
            counts["skipped_filled"] += 1
            continue
        contact = Contact.from_mapping(column_map.contact_fields(row))
        identity = "" if contact.invalid_reason() else contact.identity()
        done_before = frozenset(request.types.names) - set(todo)
        if request.overwrite:
            done_before = frozenset(
                n for n in request.types if not types_to_do(column_map, row, [n])
            )
        task = RowTask(index + 1, contact, identity, EnrichmentTypes.of(todo), done_before, row)
        rows.append(task)
    if request.max_rows is not None and len(rows) > request.max_rows:
        counts["remaining"] = len(rows) - request.max_rows
        rows = rows[: request.max_rows]
    by_identity: dict[str, list[RowTask]] = {}
    wanted: dict[str, set[str]] = {}
    for task in rows:
        if not task.identity:
            counts["invalid"] += 1
            continue
        by_identity.setdefault(task.identity, []).append(task)
        askable = [name for name in task.types if task.contact.can_ask(name)]
        counts["needs_linkedin"] += len(askable) < len(task.types.names)
        wanted.setdefault(task.identity, set()).update(askable)
    return FillPlan(column_map, rows, list(by_identity.values()), counts, wanted)


def _union(group: Sequence[RowTask]) -> EnrichmentTypes:
    return EnrichmentTypes.of(name for task in group for name in task.types)


@dataclass
class _Tally:
    rows_total: int = 0
    rows_done: int = 0
    writer: ResultWriter | None = None
    failing: int = 0  # distinct contacts in a row that came back `failed`
    last_failure: str = ""


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
    ) -> None:
        self.enricher = enricher
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
                needed = max(columns.values()) + 1
                if needed > sheet.column_count:  # a write of its own, paced like the others
                    await run_blocking(sheet.ensure_columns, needed)
                    policy.last_write = self.clock()
                header_row = column_map.header_row
                writer.name_columns(header_row + 1, values[header_row], appended)
            for task in plan.rows:
                if not task.identity:
                    reason = task.contact.invalid_reason() or ""
                    result = RowResult.invalid_row(reason, task.types.names, None)
                    self._record(result, [task], writer, summary)
                    tally.rows_done += 1
            self._report(tally, summary, sheet)
            writer_task = asyncio.create_task(writer.run())
            try:
                await self._enrich_groups(
                    plan.groups, writer, writer_task, tally, summary, sheet, deadline
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

    async def _finish_writes(self, writer_task: asyncio.Task[None], deadline: float | None) -> None:
        """Let the writer write what is left, within the deadline when there is one."""
        if deadline is None:
            await asyncio.shield(writer_task)
            return
        done, _ = await asyncio.wait({writer_task}, timeout=max(0.0, deadline - self.clock()))
        if writer_task in done:
            writer_task.result()  # raises the write error, if any

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
        stop_at = None
        if deadline is not None:
            margin = min(self.write_margin_s, (deadline - self.clock()) / 4)
            stop_at = deadline - margin
        running: dict[asyncio.Task[EnrichOutcome], list[list[RowTask]]] = {}
        try:
            while chunks or running:
                stop: str | None = None
                if stop_at is not None and self.clock() >= stop_at:
                    stop = "Stopped before the time limit; run the fill again to continue."
                elif tally.failing >= FAILING_STREAK_LIMIT:
                    # A rejected key or an outage: don't mark the whole sheet failed.
                    stop = (
                        f"Stopped because Pronto kept failing ({tally.last_failure}) "
                        "Run the fill again later to continue."
                    )
                if stop:
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
                while chunks and len(running) < window:
                    chunk = chunks.popleft()
                    task = asyncio.create_task(
                        self.enricher.enrich(
                            [group[0].contact for group in chunk],
                            [_union(group) for group in chunk],
                            priority=Priority.BACKGROUND,
                        )
                    )
                    running[task] = chunk
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
            # Calls already made are paid for: wait for them briefly and write their rows.
            if running:
                drained, _ = await asyncio.wait(running, timeout=self.drain_grace_s)
                for task in drained:
                    if not task.cancelled() and task.exception() is None:
                        self._take(task.result(), running[task], writer, tally, summary)
            raise
        finally:
            for task in running:
                task.cancel()

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
