"""One worksheet through gspread's HTTP client: read once, read rows back, grow, write.

Blocking calls (gspread uses requests): the filler runs them on the Sheets executor
(`sheets.client.run_blocking`), never on the event loop. Values are read with
`FORMATTED_VALUE` (what the person sees) and written with `RAW`, so a value starting with
`=`, `+`, `-` or `@` stays text and never runs as a formula. gspread and network errors
leave as `SheetsError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from gspread.http_client import ParamsType

from pronto_sheets.errors import WorksheetNotFound
from pronto_sheets.sheets.a1 import column_letters
from pronto_sheets.sheets.bulk import bulk_allocation
from pronto_sheets.sheets.client import SheetsClient
from pronto_sheets.sheets.google_errors import sheets_errors

READ_CHUNK_ROWS = 10_000


def quote_sheet_title(title: str) -> str:
    """A sheet title as the Sheets API reads it in a range: `'Leads Q3'`."""
    return "'" + title.replace("'", "''") + "'"


class Worksheet:
    """One tab of one spreadsheet; the metadata is read once, when it is opened."""

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

    def _errors(self) -> AbstractContextManager[None]:
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
        """The used range, row by row (one request, or one per 10,000 rows); a big sheet's
        rows are kept out of the garbage collector's scans (bulk.py)."""
        with bulk_allocation():
            return self._read_values()

    def _read_values(self) -> list[list[Any]]:
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
