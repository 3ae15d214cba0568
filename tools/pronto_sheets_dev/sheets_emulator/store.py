"""In-memory spreadsheets: sheets with their grids, merges and named ranges, and how a range
in A1 notation resolves to a rectangle of one sheet.

Everything here runs on the server's single event loop, so no locking is needed.
"""

from __future__ import annotations

import copy
import datetime as dt
import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import errors
from .a1 import (
    Bounds,
    RangeParseError,
    Rect,
    cell_name,
    format_range,
    looks_like_cells,
    parse_cells,
    quote_title,
    split_sheet,
)
from .cells import (
    Cell,
    DateTimeRender,
    Effective,
    FormulaError,
    JsonScalar,
    ValueRender,
    render_effective,
)
from .formulas import ERROR_REF, evaluate
from .grid import Grid

DEFAULT_ROWS = 1000
DEFAULT_COLUMNS = 26
MAX_CELLS = 10_000_000  # per spreadsheet, as Google documents
SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"

_ID_ALPHABET = string.ascii_letters + string.digits + "-_"

# The look of a new spreadsheet, as Google returns it (cosmetic: tests ignore it).
DEFAULT_FORMAT: dict[str, Any] = {
    "backgroundColor": {"red": 1, "green": 1, "blue": 1},
    "padding": {"top": 2, "right": 3, "bottom": 2, "left": 3},
    "verticalAlignment": "BOTTOM",
    "wrapStrategy": "OVERFLOW_CELL",
    "textFormat": {
        "foregroundColor": {},
        "fontFamily": "arial,sans,sans-serif",
        "fontSize": 10,
        "bold": False,
        "italic": False,
        "strikethrough": False,
        "underline": False,
        "foregroundColorStyle": {"rgbColor": {}},
    },
    "backgroundColorStyle": {"rgbColor": {"red": 1, "green": 1, "blue": 1}},
}
SPREADSHEET_THEME: dict[str, Any] = {
    "primaryFontFamily": "Arial",
    "themeColors": [
        {"colorType": name, "color": {"rgbColor": rgb}}
        for name, rgb in (
            ("TEXT", {}),
            ("BACKGROUND", {"red": 1, "green": 1, "blue": 1}),
            ("ACCENT1", {"red": 0.25882354, "green": 0.52156866, "blue": 0.95686275}),
            ("ACCENT2", {"red": 0.91764706, "green": 0.2627451, "blue": 0.20784314}),
            ("ACCENT3", {"red": 0.9843137, "green": 0.7372549, "blue": 0.015686275}),
            ("ACCENT4", {"red": 0.20392157, "green": 0.65882355, "blue": 0.3254902}),
            ("ACCENT5", {"red": 1, "green": 0.42745098, "blue": 0.003921569}),
            ("ACCENT6", {"red": 0.27450982, "green": 0.7411765, "blue": 0.7764706}),
            ("LINK", {"red": 0.06666667, "green": 0.33333334, "blue": 0.8}),
        )
    ],
}


def new_spreadsheet_id() -> str:
    """An id shaped like Google's: 44 URL-safe characters starting with `1`."""
    return "1" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(43))


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def rfc3339(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def grid_range_json(sheet_id: int, rect: Rect | Bounds) -> dict[str, Any]:
    """A GridRange as Google writes it: sheetId 0 and open ends are left out."""
    out: dict[str, Any] = {}
    if sheet_id:
        out["sheetId"] = sheet_id
    out["startRowIndex"] = rect.start_row
    if rect.end_row is not None:
        out["endRowIndex"] = rect.end_row
    out["startColumnIndex"] = rect.start_col
    if rect.end_col is not None:
        out["endColumnIndex"] = rect.end_col
    return out


@dataclass
class Sheet:
    """One tab: its properties (as the API shows them), cells and merged regions."""

    properties: dict[str, Any]
    grid: Grid = field(default_factory=Grid)
    merges: list[Rect] = field(default_factory=list)

    @property
    def sheet_id(self) -> int:
        return int(self.properties["sheetId"])

    @property
    def title(self) -> str:
        return str(self.properties["title"])

    @property
    def row_count(self) -> int:
        return int(self.properties["gridProperties"]["rowCount"])

    @property
    def column_count(self) -> int:
        return int(self.properties["gridProperties"]["columnCount"])

    def whole(self) -> Rect:
        return Rect(0, self.row_count, 0, self.column_count)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"properties": copy.deepcopy(self.properties)}
        if self.merges:
            out["merges"] = [grid_range_json(self.sheet_id, m) for m in self.merges]
        return out


@dataclass
class NamedRange:
    named_range_id: str
    name: str
    sheet_id: int
    bounds: Bounds

    def to_json(self) -> dict[str, Any]:
        return {
            "namedRangeId": self.named_range_id,
            "name": self.name,
            "range": grid_range_json(self.sheet_id, self.bounds),
        }


@dataclass
class Resolved:
    """A range resolved against a spreadsheet: the sheet and the clipped rectangle."""

    sheet: Sheet
    rect: Rect

    @property
    def a1(self) -> str:
        return format_range(self.sheet.title, self.rect)


@dataclass
class Spreadsheet:
    """A spreadsheet, which is also a Drive file with the same id and name."""

    spreadsheet_id: str
    properties: dict[str, Any]
    sheets: list[Sheet]
    named_ranges: list[NamedRange] = field(default_factory=list)
    shared: bool = True
    created: dt.datetime = field(default_factory=now)
    modified: dt.datetime = field(default_factory=now)

    @property
    def title(self) -> str:
        return str(self.properties["title"])

    # -- sheets ---------------------------------------------------------------------------

    def reindex(self) -> None:
        for index, sheet in enumerate(self.sheets):
            sheet.properties["index"] = index

    def sheet_by_id(self, sheet_id: int) -> Sheet | None:
        return next((s for s in self.sheets if s.sheet_id == sheet_id), None)

    def sheet_by_title(self, title: str) -> Sheet | None:
        exact = next((s for s in self.sheets if s.title == title), None)
        if exact is not None:
            return exact
        folded = title.casefold()
        return next((s for s in self.sheets if s.title.casefold() == folded), None)

    def new_sheet_id(self) -> int:
        taken = {s.sheet_id for s in self.sheets}
        while True:
            candidate = secrets.randbelow(2**31 - 2) + 1
            if candidate not in taken:
                return candidate

    def cell_total(self, excluding: Sheet | None = None) -> int:
        return sum(s.row_count * s.column_count for s in self.sheets if s is not excluding)

    def touch(self) -> None:
        self.modified = now()

    # -- ranges ---------------------------------------------------------------------------

    def named_range(self, name: str) -> NamedRange | None:
        folded = name.casefold()
        return next((n for n in self.named_ranges if n.name.casefold() == folded), None)

    def resolve(self, text: str) -> Resolved:
        """Resolve A1 notation (`Sheet1!A1:C3`, `'My Sheet'!A:C`, `A2:C`, `Sheet1`, a named
        range) to a rectangle of one sheet, clipped to its grid; raise Google's 400s."""
        try:
            title, cells = split_sheet(text)
        except RangeParseError as exc:
            raise errors.unable_to_parse(text) from exc
        if title is not None:
            sheet = self.sheet_by_title(title)
            if sheet is None:
                raise errors.unable_to_parse(text)
            if cells is None:
                return Resolved(sheet, sheet.whole())
            if looks_like_cells(cells):
                return Resolved(sheet, self.clip(sheet, parse_cells(cells)))
            named = self.named_range(cells)
            if named is not None and named.sheet_id == sheet.sheet_id:
                return Resolved(sheet, self.clip(sheet, named.bounds))
            raise errors.unable_to_parse(text)
        assert cells is not None
        if looks_like_cells(cells):
            first = self.sheets[0]
            return Resolved(first, self.clip(first, parse_cells(cells)))
        sheet = self.sheet_by_title(cells)
        if sheet is not None:
            return Resolved(sheet, sheet.whole())
        named = self.named_range(cells)
        if named is not None:
            target = self.sheet_by_id(named.sheet_id)
            if target is not None:
                return Resolved(target, self.clip(target, named.bounds))
        raise errors.unable_to_parse(text)

    @staticmethod
    def clip(sheet: Sheet, bounds: Bounds) -> Rect:
        """Close open ends at the grid's edge; a bounded end past the edge is a 400."""
        rows, cols = sheet.row_count, sheet.column_count
        end_row = rows if bounds.end_row is None else bounds.end_row
        end_col = cols if bounds.end_col is None else bounds.end_col
        if bounds.start_row >= rows or end_row > rows:
            bad = cell_name(max(bounds.start_row, rows), bounds.start_col)
            raise exceeds_grid(sheet, bad)
        if bounds.start_col >= cols or end_col > cols:
            bad = cell_name(bounds.start_row, max(bounds.start_col, cols))
            raise exceeds_grid(sheet, bad)
        return Rect(bounds.start_row, end_row, bounds.start_col, end_col)

    # -- values ---------------------------------------------------------------------------

    def effective(self, sheet: Sheet, row: int, col: int, visiting: set[Any]) -> Effective:
        """What a cell evaluates to; formulas are evaluated on demand, cycles are #REF!."""
        cell = sheet.grid.get(row, col)
        if cell is None:
            return None
        if cell.kind != "formula":
            return cell.value
        key = (sheet.sheet_id, row, col)
        if key in visiting:
            return ERROR_REF
        visiting.add(key)
        try:
            return evaluate(str(cell.value), _Source(self, sheet, visiting))
        finally:
            visiting.discard(key)

    def render(
        self,
        sheet: Sheet,
        row: int,
        col: int,
        cell: Cell,
        value_render: ValueRender,
        datetime_render: DateTimeRender,
    ) -> JsonScalar:
        if cell.kind == "formula":
            if value_render == "FORMULA":
                return str(cell.value)
            value = self.effective(sheet, row, col, set())
            return render_effective(value, None, value_render, datetime_render)
        return render_effective(cell.value, cell.number_format, value_render, datetime_render)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "spreadsheetId": self.spreadsheet_id,
            "properties": copy.deepcopy(self.properties),
            "sheets": [s.to_json() for s in self.sheets],
        }
        if self.named_ranges:
            out["namedRanges"] = [n.to_json() for n in self.named_ranges]
        out["spreadsheetUrl"] = f"https://docs.google.com/spreadsheets/d/{self.spreadsheet_id}/edit"
        return out


class _Source:
    """Formula references looked up in one spreadsheet, relative to the formula's sheet."""

    def __init__(self, book: Spreadsheet, sheet: Sheet, visiting: set[Any]) -> None:
        self.book = book
        self.sheet = sheet
        self.visiting = visiting

    def cell_values(
        self, sheet_title: str | None, bounds_text: str
    ) -> list[Effective] | FormulaError:
        sheet = self.sheet if sheet_title is None else self.book.sheet_by_title(sheet_title)
        if sheet is None:
            return ERROR_REF
        try:
            rect = Spreadsheet.clip(sheet, parse_cells(bounds_text))
        except (RangeParseError, errors.ApiError):
            return ERROR_REF
        return [
            self.book.effective(sheet, r, c, self.visiting)
            for r in range(rect.start_row, rect.end_row)
            for c in range(rect.start_col, rect.end_col)
        ]


def exceeds_grid(sheet: Sheet, cell: str) -> errors.ApiError:
    return errors.invalid_argument(
        f"Range ({quote_title(sheet.title)}!{cell}) exceeds grid limits. "
        f"Max rows: {sheet.row_count}, max columns: {sheet.column_count}"
    )


def new_sheet_properties(
    sheet_id: int, title: str, index: int, rows: int = DEFAULT_ROWS, cols: int = DEFAULT_COLUMNS
) -> dict[str, Any]:
    return {
        "sheetId": sheet_id,
        "title": title,
        "index": index,
        "sheetType": "GRID",
        "gridProperties": {"rowCount": rows, "columnCount": cols},
    }


class Store:
    """All spreadsheets the emulator holds, by id."""

    def __init__(self) -> None:
        self.spreadsheets: dict[str, Spreadsheet] = {}

    def create(
        self,
        title: str,
        *,
        spreadsheet_id: str | None = None,
        sheets: Iterable[dict[str, Any]] | None = None,
    ) -> Spreadsheet:
        """A new spreadsheet; `sheets` are SheetProperties-like dicts (title, sizes)."""
        book = Spreadsheet(
            spreadsheet_id=spreadsheet_id or new_spreadsheet_id(),
            properties={
                "title": title,
                "locale": "en_US",
                "autoRecalc": "ON_CHANGE",
                "timeZone": "Etc/GMT",
                "defaultFormat": copy.deepcopy(DEFAULT_FORMAT),
                "spreadsheetTheme": copy.deepcopy(SPREADSHEET_THEME),
            },
            sheets=[],
        )
        for index, spec in enumerate(list(sheets or [{}])):
            grid_props = spec.get("gridProperties") or {}
            sheet_id = spec.get("sheetId")
            if sheet_id is None:
                sheet_id = 0 if index == 0 else book.new_sheet_id()
            props = new_sheet_properties(
                int(sheet_id),
                str(spec.get("title") or f"Sheet{index + 1}"),
                index,
                int(grid_props.get("rowCount", DEFAULT_ROWS)),
                int(grid_props.get("columnCount", DEFAULT_COLUMNS)),
            )
            book.sheets.append(Sheet(props))
        self.spreadsheets[book.spreadsheet_id] = book
        return book

    def find(self, spreadsheet_id: str) -> Spreadsheet | None:
        return self.spreadsheets.get(spreadsheet_id)

    def get(self, spreadsheet_id: str) -> Spreadsheet:
        """The spreadsheet as the Sheets API sees it: 404 when absent, 403 when not shared."""
        book = self.spreadsheets.get(spreadsheet_id)
        if book is None:
            raise errors.not_found()
        if not book.shared:
            raise errors.permission_denied()
        return book

    def delete(self, spreadsheet_id: str) -> None:
        self.spreadsheets.pop(spreadsheet_id, None)

    def reset(self) -> None:
        self.spreadsheets.clear()
