"""The sheet filler: read a sheet, enrich the rows that lack results, write them back.

One run (`SheetFiller.fill`):
1. reads the spreadsheet's metadata (one request) and the sheet's used range (one
   request, or one per 10,000 rows), once;
2. maps the columns (`sheet_columns`); rows already done are skipped unless
   `overwrite` — a row is done when it has an Email or a Phone, or its Pronto status
   starts with `success` or `not_found` (`invalid`, `failed`, `over_budget` and
   `pending` rows are looked at again);
3. sends each distinct contact to the enricher once, at background priority, in small
   chunks that overlap so Pronto's slots stay busy; a contact on several rows is paid
   once and written to all of them;
4. writes results with `values:batchUpdate` and `valueInputOption=RAW` (a value
   starting with `=`, `+`, `-` or `@` stays text), touching only the output cells of
   rows whose result changes them, in flushes of about 200 rows or every 5 seconds,
   never two writes less than a second apart. Each flush first reads the rows' input
   cells again (one `batchGet`) and leaves out any row edited, sorted away or deleted
   since the fill read it, so a result never lands beside another person (the next
   run writes it, from the cache). Missing output columns are appended
   after the last used column; their headers go in the first flush (the grid is
   widened first, one more write, only when it is too narrow).

A run cut short (`max_rows`, the deadline, a cancelled task, a failed write) writes
what it has and stops; the next run starts again from the rows without results, and
what was paid but not written is served from the enricher's cache.

    SheetFillError                 the run could not start or could not finish
    ├── WorksheetNotFound          no sheet of that name in the spreadsheet
    ├── SheetUnmappable            the columns cannot be told apart (lists the headers)
    └── SheetWriteFailed           a write kept failing; earlier writes are kept

Errors reading the spreadsheet itself (not found, not shared, quota, unavailable) are
the `sheets_client` errors, raised as they are.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gspread.http_client import ParamsType

from pronto_sheets.enrich.contacts import Contact, EnrichmentTypes
from pronto_sheets.enrich.engine import Enricher, EnrichOutcome
from pronto_sheets.enrich.gate import Priority
from pronto_sheets.enrich.results import RowResult, Status
from pronto_sheets.sheets.client import SheetsClient, SheetsError, sheets_errors
from pronto_sheets.sheets.columns import (
    OUTPUT_HEADERS,
    ColumnMap,
    ColumnMappingError,
    OutputField,
    detect_columns,
)

from .a1 import column_letters

logger = logging.getLogger(__name__)

READ_CHUNK_ROWS = 10_000
DONE_PREFIXES = ("success", "not_found")
# A few contacts per `enrich` call; several calls in flight keep every Pronto slot busy.
CHUNK_CONTACTS = 10
# This many distinct contacts failing in a row stops the run (a rejected key, an outage).
FAILING_STREAK_LIMIT = 30
# A flush never carries more than this many rows, so a payload stays well under 2 MB.
MAX_ROWS_PER_WRITE = 2_000

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class SheetFillError(Exception):
    """The fill could not start or finish; `message` is a sentence for the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class WorksheetNotFound(SheetFillError):
    pass


class SheetUnmappable(SheetFillError):
    pass


class SheetWriteFailed(SheetFillError):
    """A write kept failing after retries; `summary` says what was done before it."""

    def __init__(self, message: str, summary: FillSummary) -> None:
        super().__init__(message)
        self.summary = summary


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
    rows: int = 0  # non-blank data rows in the sheet
    to_enrich: int = 0  # rows without results (all rows when overwriting), within max_rows
    enriched: int = 0  # rows that got Pronto's answer (found or not found)
    found: int = 0
    not_found: int = 0
    skipped_filled: int = 0
    duplicates: int = 0  # rows sharing a contact with an earlier row: paid once
    invalid: int = 0
    failed: int = 0
    over_budget: int = 0
    remaining: int = 0  # rows left for a later run (max_rows, deadline, stop)
    credits: int = 0
    upstream_calls: int = 0
    sheets_reads: int = 0
    sheets_writes: int = 0
    seconds: float = 0.0
    changed_during_run: int = 0  # rows edited or moved meanwhile: not written, left for later
    stopped: str | None = None  # why the run ended early, in words
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
                "failed",
                "over_budget",
                "remaining",
                "credits",
                "upstream_calls",
                "sheets_reads",
                "sheets_writes",
            )
        }
        body["seconds"] = round(self.seconds, 3)
        if self.changed_during_run:
            body["changed_during_run"] = self.changed_during_run
        if self.stopped:
            body["stopped"] = self.stopped
        if self.plan is not None:
            body.update(self.plan)
        return body


def status_text(result: RowResult) -> str:
    """The Pronto status cell: the status code, then the message when there is one."""
    message = " ".join((result.message or "").split())
    return f"{result.status.value}: {message}" if message else result.status.value


def output_cells(result: RowResult, types: EnrichmentTypes) -> dict[OutputField, str]:
    """The cells a result writes. A "try again" status never erases values already there."""
    cells = {OutputField.PRONTO_STATUS: status_text(result)}
    if result.status.is_answer:
        if types.wants_email:
            cells[OutputField.EMAIL] = result.email or ""
            cells[OutputField.EMAIL_STATUS] = result.email_status or ""
        if types.wants_phone:
            cells[OutputField.PHONE] = ", ".join(phone.number for phone in result.phones)
            cells[OutputField.PHONE_STATUS] = result.phone_status or ""
    return cells


def row_is_done(column_map: ColumnMap, row: Sequence[Any]) -> bool:
    """True when the row has an Email or a Phone, or its status is an answer."""
    if column_map.output(row, OutputField.EMAIL) or column_map.output(row, OutputField.PHONE):
        return True
    status = column_map.output(row, OutputField.PRONTO_STATUS).lower()
    return status.startswith(DONE_PREFIXES)


def quote_sheet_title(title: str) -> str:
    """A sheet title as the Sheets API reads it in a range: `'Leads Q3'`."""
    return "'" + title.replace("'", "''") + "'"


@dataclass
class FlushPolicy:
    """When to write: about every `rows` results or every `interval_s`, never faster
    than one write per `min_gap_s`. Pure logic on the clock's readings, for tests."""

    rows: int = 200
    interval_s: float = 5.0
    min_gap_s: float = 1.0
    last_write: float | None = None

    def due(self, pending: int, first_pending_at: float | None, now: float) -> bool:
        """True when pending results should be written as soon as the gap allows."""
        if pending == 0:
            return False
        if pending >= self.rows:
            return True
        return first_pending_at is not None and now - first_pending_at >= self.interval_s

    def wait_before_write(self, now: float) -> float:
        """Seconds to wait so this write starts at least `min_gap_s` after the last one."""
        if self.last_write is None:
            return 0.0
        return max(0.0, self.last_write + self.min_gap_s - now)


@dataclass(frozen=True)
class _Row:
    number: int  # 1-based row number in the sheet
    contact: Contact
    values: Sequence[Any]  # the row as read, to skip writing what is already there


class _Sheet:
    """One worksheet through gspread's HTTP client (blocking: call in a thread).

    The metadata is read once; values are read with `FORMATTED_VALUE` (what the person
    sees) and written with `RAW`. gspread and network errors leave as `SheetsError`.
    """

    def __init__(self, client: SheetsClient, spreadsheet_id: str, sheet: str | None) -> None:
        self._client = client
        self._http = client.http_client
        self.spreadsheet_id = spreadsheet_id
        self._baseline = client.counters.snapshot()
        with self._errors():
            metadata = self._http.fetch_sheet_metadata(spreadsheet_id)
        sheets = [item["properties"] for item in metadata.get("sheets", [])]
        if sheet is None:
            if not sheets:
                raise WorksheetNotFound("This spreadsheet has no sheet to fill.")
            chosen = sheets[0]
        else:
            matches = [p for p in sheets if p.get("title") == sheet]
            if not matches:
                names = ", ".join(f'"{p.get("title")}"' for p in sheets)
                raise WorksheetNotFound(
                    f'There is no sheet named "{sheet}" in this spreadsheet. '
                    f"Its sheets are: {names}. Check the tab name (it is case-sensitive)."
                )
            chosen = matches[0]
        self.title: str = chosen["title"]
        self.sheet_id: int = chosen.get("sheetId", 0)
        grid = chosen.get("gridProperties", {})
        self.row_count: int = int(grid.get("rowCount", 1000))
        self.column_count: int = int(grid.get("columnCount", 26))

    def _errors(self) -> Any:
        return sheets_errors(
            spreadsheet_id=self.spreadsheet_id, account_email=self._client.service_account_email
        )

    @property
    def reads(self) -> int:
        """Read requests Google saw from this run (retries included)."""
        return self._client.counters.snapshot().reads - self._baseline.reads

    @property
    def writes(self) -> int:
        """Write requests Google saw from this run (retries included)."""
        return self._client.counters.snapshot().writes - self._baseline.writes

    def read_values(self) -> list[list[Any]]:
        """The used range, row by row (one request, or one per 10,000 rows)."""
        quoted = quote_sheet_title(self.title)
        params: ParamsType = {"valueRenderOption": "FORMATTED_VALUE"}
        if self.row_count <= READ_CHUNK_ROWS:
            with self._errors():
                answer = self._http.values_get(self.spreadsheet_id, quoted, params=params)
            return [list(row) for row in answer.get("values", [])]
        values: list[list[Any]] = []
        last_col = column_letters(max(self.column_count, 1) - 1)
        for start in range(1, self.row_count + 1, READ_CHUNK_ROWS):
            end = min(start + READ_CHUNK_ROWS - 1, self.row_count)
            with self._errors():
                answer = self._http.values_get(
                    self.spreadsheet_id, f"{quoted}!A{start}:{last_col}{end}", params=params
                )
            chunk = [list(row) for row in answer.get("values", [])]
            if chunk:
                values.extend([[] for _ in range(start - 1 - len(values))])  # empty chunks
                values.extend(chunk)
        return values

    def read_rows(self, numbers: Sequence[int], width: int) -> dict[int, list[Any]]:
        """Columns A.. (`width` of them) of these rows as they are now: one `batchGet`."""
        runs: list[list[int]] = []
        for number in sorted(numbers):
            if runs and runs[-1][-1] == number - 1:
                runs[-1].append(number)
            else:
                runs.append([number])
        quoted = quote_sheet_title(self.title)
        last = column_letters(max(width, 1) - 1)
        ranges = [f"{quoted}!A{run[0]}:{last}{run[-1]}" for run in runs]
        params: ParamsType = {"valueRenderOption": "FORMATTED_VALUE"}
        with self._errors():
            answer = self._http.values_batch_get(self.spreadsheet_id, ranges, params=params)
        rows: dict[int, list[Any]] = {}
        for run, value_range in zip(runs, answer.get("valueRanges", []), strict=False):
            values = value_range.get("values", [])
            for offset, number in enumerate(run):
                rows[number] = list(values[offset]) if offset < len(values) else []
        return rows

    def ensure_columns(self, count: int) -> None:
        """Grow the grid to `count` columns (Sheets refuses writes past its edge)."""
        request = {
            "appendDimension": {
                "sheetId": self.sheet_id,
                "dimension": "COLUMNS",
                "length": count - self.column_count,
            }
        }
        with self._errors():
            self._http.batch_update(self.spreadsheet_id, {"requests": [request]})
        self.column_count = count

    def write(self, data: list[dict[str, Any]]) -> None:
        """One `values:batchUpdate` with RAW input: strings are stored as typed."""
        with self._errors():
            self._http.values_batch_update(
                self.spreadsheet_id, body={"valueInputOption": "RAW", "data": data}
            )


def _ranges(
    title: str,
    columns: Mapping[OutputField, int],
    cells_by_row: Mapping[int, Mapping[OutputField, str]],
) -> list[dict[str, Any]]:
    """Value ranges covering exactly the output cells of these rows.

    Consecutive rows are written as one rectangle per run of adjacent output columns; a
    cell a row does not write is `null`, which the API skips (it stays as it was).
    """
    by_column = sorted((index, name) for name, index in columns.items())
    column_runs: list[list[tuple[int, OutputField]]] = []
    for index, name in by_column:
        if column_runs and column_runs[-1][-1][0] == index - 1:
            column_runs[-1].append((index, name))
        else:
            column_runs.append([(index, name)])
    row_runs: list[list[int]] = []
    for number in sorted(cells_by_row):
        if row_runs and row_runs[-1][-1] == number - 1:
            row_runs[-1].append(number)
        else:
            row_runs.append([number])
    quoted = quote_sheet_title(title)
    data: list[dict[str, Any]] = []
    for rows in row_runs:
        for run in column_runs:
            values = [[cells_by_row[number].get(name) for _, name in run] for number in rows]
            if all(value is None for line in values for value in line):
                continue
            first, last = column_letters(run[0][0]), column_letters(run[-1][0])
            data.append({"range": f"{quoted}!{first}{rows[0]}:{last}{rows[-1]}", "values": values})
    return data


def _text(row: Sequence[Any], index: int) -> str:
    return "" if index >= len(row) or row[index] is None else str(row[index])


class _Writer:
    """Collects row results and writes them in paced flushes (its own task)."""

    def __init__(
        self,
        sheet: _Sheet,
        columns: Mapping[OutputField, int],
        inputs: Sequence[int],
        types: EnrichmentTypes,
        policy: FlushPolicy,
        clock: Clock,
        sleep: Sleep,
        on_write: Callable[[], None],
    ) -> None:
        self._sheet = sheet
        self._columns = columns
        self._inputs = tuple(sorted(inputs))
        self._snapshots: dict[int, Sequence[Any]] = {}
        self._types = types
        self._policy = policy
        self._clock = clock
        self._sleep = sleep
        self._on_write = on_write
        self._pending: dict[int, dict[OutputField, str]] = {}
        self._first_pending_at: float | None = None
        self._closed = False
        self._wake = asyncio.Event()
        self._headers: list[dict[str, Any]] = []
        self._header_row = 0
        self.rows_written = 0
        self.rows_changed = 0  # edited, moved or deleted since the read: not written

    def add(self, number: int, result: RowResult, current: Sequence[Any]) -> None:
        """Queue a row's result, unless its cells already say exactly that (an invalid
        row met again, say): a refresh that changes nothing writes nothing."""
        cells = output_cells(result, self._types)
        if all(_text(current, self._columns[name]) == value for name, value in cells.items()):
            return
        if not self._pending:
            self._first_pending_at = self._clock()
            self._wake.set()  # the writer starts the interval's countdown
        self._pending[number] = cells
        self._snapshots[number] = current
        if len(self._pending) >= self._policy.rows:
            self._wake.set()

    def close(self) -> None:
        """No more results: write what is left and end."""
        self._closed = True
        self._wake.set()

    def name_columns(
        self, row_number: int, header: Sequence[Any], names: Mapping[OutputField, str]
    ) -> None:
        """Name the appended output columns on the header row, in the first flush (so the
        header costs no write of its own), if the header row is still where it was."""
        columns = {name: self._columns[name] for name in names}
        self._headers = _ranges(self._sheet.title, columns, {row_number: dict(names)})
        self._header_row = row_number
        self._snapshots[row_number] = header

    async def run(self) -> None:
        while True:
            if self._closed and not self._pending:
                return
            if not self._closed and not self._policy.due(
                len(self._pending), self._first_pending_at, self._clock()
            ):
                await self._wait_for_work()
                continue
            await self._pace()
            await self.flush()

    async def _wait_for_work(self) -> None:
        """Until enough results, the interval, or the end (whichever first)."""
        self._wake.clear()
        timeout: float | None = None
        if self._first_pending_at is not None and self._pending:
            timeout = max(0.0, self._first_pending_at + self._policy.interval_s - self._clock())
        wake = asyncio.ensure_future(self._wake.wait())
        waiters: set[asyncio.Future[Any]] = {wake}
        if timeout is not None:
            waiters.add(asyncio.ensure_future(self._sleep(timeout)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _pace(self) -> None:
        wait = self._policy.wait_before_write(self._clock())
        if wait > 0:
            await self._sleep(wait)

    async def flush(self) -> None:
        """Write pending rows now (up to `MAX_ROWS_PER_WRITE`); raises `SheetsError`.

        First the rows' input cells are read again (one `batchGet`): a row someone edited,
        sorted away or deleted since the fill read it is not written, so a result never
        lands next to another person. Its answer is cached; the next run writes it.
        """
        if not self._pending:
            return
        numbers = sorted(self._pending)[:MAX_ROWS_PER_WRITE]
        checked = [self._header_row, *numbers] if self._headers else numbers
        now = await asyncio.to_thread(self._sheet.read_rows, checked, self._inputs[-1] + 1)
        batch = {
            number: self._pending[number]
            for number in numbers
            if self._unchanged(self._snapshots[number], now.get(number, []))
        }
        header_moved = bool(self._headers) and not self._unchanged(
            self._snapshots[self._header_row], now.get(self._header_row, [])
        )
        headers = [] if header_moved else self._headers
        data = [*headers, *_ranges(self._sheet.title, self._columns, batch)]
        try:
            if data:
                await asyncio.to_thread(self._sheet.write, data)
        finally:
            self._policy.last_write = self._clock()
        self._headers = []
        for number in numbers:
            del self._pending[number]
            del self._snapshots[number]
        self.rows_written += len(batch)
        self.rows_changed += len(numbers) - len(batch)
        self._first_pending_at = self._clock() if self._pending else None
        self._on_write()

    def _unchanged(self, before: Sequence[Any], now: Sequence[Any]) -> bool:
        return all(_text(before, column) == _text(now, column) for column in self._inputs)


@dataclass
class _Tally:
    rows_total: int = 0
    rows_done: int = 0
    writer: _Writer | None = None
    failing: int = 0  # distinct contacts in a row that came back `failed`
    last_failure: str = ""


class SheetFiller:
    """Fills sheets through one gspread client with one enricher (see module docstring).

    `clock` and `sleep` pace the writes (tests inject their own); `progress` is called
    after every chunk of results and every write; `deadline_s` stops a run in time to
    write what it has (a Cloud Function has an hour).
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
        self.drain_grace_s = drain_grace_s

    async def fill(self, request: FillRequest) -> FillSummary:
        """Run one fill; see the module docstring for what it does and raises."""
        started = self.clock()
        summary = FillSummary(spreadsheet_id=request.spreadsheet_id, dry_run=request.dry_run)
        sheet = await asyncio.to_thread(_Sheet, self.client, request.spreadsheet_id, request.sheet)
        summary.sheet = sheet.title
        try:
            values = await asyncio.to_thread(sheet.read_values)
        finally:
            summary.sheets_reads = sheet.reads
        try:
            column_map = detect_columns(values, request.columns)
        except ColumnMappingError as exc:
            raise SheetUnmappable(str(exc)) from exc

        rows = self._rows_to_enrich(values, column_map, request, summary)
        if request.max_rows is not None and len(rows) > request.max_rows:
            summary.remaining = len(rows) - request.max_rows
            rows = rows[: request.max_rows]
        summary.to_enrich = len(rows)
        plan = self.enricher.plan([row.contact for row in rows], request.types)
        summary.invalid = plan.invalid
        summary.duplicates = plan.duplicates
        if request.dry_run:
            summary.plan = {
                "unique": plan.unique,
                "cached": plan.cached,
                "to_call": plan.to_call,
                "estimated_credits": plan.estimated_credits,
            }
            summary.seconds = self.clock() - started
            return summary
        if rows:
            await self._enrich_and_write(sheet, values, column_map, rows, request, summary)
        summary.sheets_reads = sheet.reads
        summary.sheets_writes = sheet.writes
        summary.seconds = self.clock() - started
        return summary

    def _rows_to_enrich(
        self,
        values: Sequence[Sequence[Any]],
        column_map: ColumnMap,
        request: FillRequest,
        summary: FillSummary,
    ) -> list[_Row]:
        rows: list[_Row] = []
        start = column_map.header_row + 1
        if request.first_row is not None:
            start = max(start, request.first_row - 1)
        end = len(values) if request.last_row is None else min(len(values), request.last_row)
        for index in range(start, end):
            row = values[index]
            if column_map.is_blank(row):
                continue
            summary.rows += 1
            if not request.overwrite and row_is_done(column_map, row):
                summary.skipped_filled += 1
                continue
            contact = Contact.from_mapping(column_map.contact_fields(row))
            rows.append(_Row(index + 1, contact, row))
        return rows

    def _output_columns(
        self, values: Sequence[Sequence[Any]], column_map: ColumnMap
    ) -> tuple[dict[OutputField, int], dict[OutputField, str]]:
        """Every output column's index, and the headers of those to append."""
        columns = dict(column_map.outputs)
        next_free = max((len(row) for row in values), default=0)
        next_free = max(next_free, *(index + 1 for index in columns.values()), 0)
        appended: dict[OutputField, str] = {}
        for name in OutputField:
            if name not in columns:
                columns[name] = next_free
                appended[name] = OUTPUT_HEADERS[name]
                next_free += 1
        return columns, appended

    async def _enrich_and_write(
        self,
        sheet: _Sheet,
        values: Sequence[Sequence[Any]],
        column_map: ColumnMap,
        rows: list[_Row],
        request: FillRequest,
        summary: FillSummary,
    ) -> None:
        columns, appended = self._output_columns(values, column_map)
        tally = _Tally(rows_total=len(rows))
        policy = FlushPolicy(self.flush_rows, self.flush_interval_s, self.min_write_gap_s)
        writer = _Writer(
            sheet,
            columns,
            list(column_map.inputs.values()),
            request.types,
            policy,
            self.clock,
            self.sleep,
            on_write=lambda: self._report(tally, summary, sheet),
        )
        tally.writer = writer
        groups: dict[str, list[_Row]] = {}
        for row in rows:
            if not row.contact.invalid_reason():
                groups.setdefault(row.contact.identity(request.types), []).append(row)
        writer_task: asyncio.Task[None] | None = None
        try:
            if appended:
                needed = max(columns.values()) + 1
                if needed > sheet.column_count:  # a write of its own, paced like the others
                    await asyncio.to_thread(sheet.ensure_columns, needed)
                    policy.last_write = self.clock()
                header_row = column_map.header_row
                writer.name_columns(header_row + 1, values[header_row], appended)
            for row in rows:
                reason = row.contact.invalid_reason()
                if reason:
                    self._record(RowResult(Status.INVALID, message=reason), [row], writer, summary)
                    tally.rows_done += 1
            self._report(tally, summary, sheet)
            writer_task = asyncio.create_task(writer.run())
            try:
                await self._enrich_groups(
                    list(groups.values()), request, writer, writer_task, tally, summary, sheet
                )
                writer.close()
                await asyncio.shield(writer_task)
            except asyncio.CancelledError:
                # Interrupted: what was paid for is still written (within the grace time).
                summary.stopped = "The run was interrupted; run the fill again to continue."
                writer.close()
                await asyncio.wait({writer_task}, timeout=self.drain_grace_s)
                raise
        except SheetsError as exc:
            raise self._write_failed(exc, writer, summary, sheet) from exc
        finally:
            if writer_task is not None and not writer_task.done():
                writer_task.cancel()
            summary.changed_during_run = writer.rows_changed
        summary.remaining += writer.rows_changed
        self._report(tally, summary, sheet)

    async def _enrich_groups(
        self,
        groups: list[list[_Row]],
        request: FillRequest,
        writer: _Writer,
        writer_task: asyncio.Task[None],
        tally: _Tally,
        summary: FillSummary,
        sheet: _Sheet,
    ) -> None:
        """Send distinct contacts in overlapping chunks; hand each result to the writer."""
        chunks = deque(
            groups[i : i + self.chunk_contacts] for i in range(0, len(groups), self.chunk_contacts)
        )
        window = max(2, -(-4 * self.enricher.gate.max_in_flight // self.chunk_contacts))
        deadline = None if self.deadline_s is None else self.clock() + self.deadline_s
        running: dict[asyncio.Task[EnrichOutcome], list[list[_Row]]] = {}
        try:
            while chunks or running:
                stop: str | None = None
                if deadline is not None and self.clock() >= deadline:
                    stop = "Stopped before the time limit; run the fill again to continue."
                elif tally.failing >= FAILING_STREAK_LIMIT:
                    # A rejected key or an outage: don't mark the whole sheet failed.
                    stop = (
                        f"Stopped because Pronto kept failing ({tally.last_failure}) "
                        "Run the fill again later to continue."
                    )
                if stop and chunks:
                    summary.remaining += sum(len(group) for chunk in chunks for group in chunk)
                    summary.stopped = stop
                    chunks.clear()
                while chunks and len(running) < window:
                    chunk = chunks.popleft()
                    task = asyncio.create_task(
                        self.enricher.enrich(
                            [group[0].contact for group in chunk],
                            request.types,
                            priority=Priority.BACKGROUND,
                        )
                    )
                    running[task] = chunk
                if not running:
                    break
                waiting: set[asyncio.Future[Any]] = {*running, writer_task}
                done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
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
        chunk: list[list[_Row]],
        writer: _Writer,
        tally: _Tally,
        summary: FillSummary,
    ) -> None:
        summary.credits += outcome.stats.credits_spent
        summary.upstream_calls += outcome.stats.upstream_calls
        for result, group in zip(outcome.results, chunk, strict=True):
            self._record(result, group, writer, summary)
            tally.rows_done += len(group)
            if result.status is Status.FAILED:
                tally.failing += 1
                tally.last_failure = result.message or ""
            else:
                tally.failing = 0

    @staticmethod
    def _record(result: RowResult, rows: list[_Row], writer: _Writer, summary: FillSummary) -> None:
        count = len(rows)
        match result.status:
            case Status.SUCCESS:
                summary.found += count
            case Status.NOT_FOUND:
                summary.not_found += count
            case Status.FAILED:
                summary.failed += count
            case Status.OVER_BUDGET:
                summary.over_budget += count
        if result.status.is_answer:
            summary.enriched += count
        for row in rows:
            writer.add(row.number, result, row.values)

    def _report(self, tally: _Tally, summary: FillSummary, sheet: _Sheet) -> None:
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
        exc: SheetsError, writer: _Writer, summary: FillSummary, sheet: _Sheet
    ) -> SheetWriteFailed:
        summary.sheets_writes = sheet.writes
        summary.sheets_reads = sheet.reads
        reason = getattr(exc, "message", None) or str(exc)
        return SheetWriteFailed(
            f"Google Sheets kept refusing to save results ({reason}), so the fill stopped "
            f"after writing {writer.rows_written} rows. Those rows are kept; run the fill "
            "again later and it will continue where it stopped without paying twice.",
            summary,
        )
