"""Writing results back: paced `values:batchUpdate` flushes that never land on the wrong row.

The `ResultWriter` runs as its own task beside the enrichment. It collects each row's
output cells and writes them in flushes of about `FlushPolicy.rows` rows or every
`interval_s`, never two writes less than `min_gap_s` apart (Google allows 60 writes a
minute per user). Each flush first reads the rows' input cells again (one `batchGet`)
and leaves out any row edited, sorted away or deleted since the fill read it, so a
result never lands beside another person (the next run writes it, from the cache).
Only the output cells a result changes are written; a cell a row does not write is sent
as `null`, which the API skips.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pronto_sheets.sheets.a1 import column_letters
from pronto_sheets.sheets.client import run_blocking
from pronto_sheets.sheets.columns import cell_text
from pronto_sheets.sheets.worksheet import Worksheet, quote_sheet_title

# A flush never carries more than this many rows, so a payload stays well under 2 MB.
MAX_ROWS_PER_WRITE = 2_000

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
Cells = Mapping[str, str]


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


def value_ranges(
    title: str, columns: Mapping[str, int], cells_by_row: Mapping[int, Cells]
) -> list[dict[str, Any]]:
    """Value ranges covering exactly the output cells of these rows.

    Consecutive rows are written as one rectangle per run of adjacent output columns; a
    cell a row does not write is `null`, which the API skips (it stays as it was).
    """
    by_column = sorted((index, name) for name, index in columns.items())
    column_runs: list[list[tuple[int, str]]] = []
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


class ResultWriter:
    """Collects row results and writes them in paced flushes (run it as its own task)."""

    def __init__(
        self,
        sheet: Worksheet,
        columns: Mapping[str, int],
        inputs: Sequence[int],
        policy: FlushPolicy,
        clock: Clock,
        sleep: Sleep,
        on_write: Callable[[], None],
    ) -> None:
        self._sheet = sheet
        self._columns = columns
        self._inputs = tuple(sorted(inputs))
        self._snapshots: dict[int, Sequence[Any]] = {}
        self._policy = policy
        self._clock = clock
        self._sleep = sleep
        self._on_write = on_write
        self._pending: dict[int, Cells] = {}
        self._first_pending_at: float | None = None
        self._closed = False
        self._wake = asyncio.Event()
        self._headers: list[dict[str, Any]] = []
        self._header_row = 0
        self.rows_written = 0
        self.rows_changed = 0  # edited, moved or deleted since the read: not written

    @property
    def policy(self) -> FlushPolicy:
        return self._policy

    def add(self, number: int, cells: Cells, current: Sequence[Any]) -> None:
        """Queue a row's output cells, unless they already say exactly that (an invalid
        row met again, say): a refresh that changes nothing writes nothing."""
        if all(cell_text(current, self._columns[name]) == value for name, value in cells.items()):
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
        self, row_number: int, header: Sequence[Any], names: Mapping[str, str]
    ) -> None:
        """Name the appended output columns on the header row, in the first flush (so the
        header costs no write of its own), if the header row is still where it was."""
        columns = {name: self._columns[name] for name in names}
        self._headers = value_ranges(self._sheet.title, columns, {row_number: dict(names)})
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
        now = await run_blocking(self._sheet.read_rows, checked, self._inputs[-1] + 1)
        batch = {
            number: self._pending[number]
            for number in numbers
            if self._unchanged(self._snapshots[number], now.get(number, []))
        }
        header_moved = bool(self._headers) and not self._unchanged(
            self._snapshots[self._header_row], now.get(self._header_row, [])
        )
        headers = [] if header_moved else self._headers
        data = [*headers, *value_ranges(self._sheet.title, self._columns, batch)]
        try:
            if data:
                await run_blocking(self._sheet.write, data)
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
