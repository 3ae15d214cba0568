"""A1 notation as the Sheets API reads and writes it.

`split_sheet("'My Sheet'!A:C")` separates the sheet title from the cell part;
`parse_cells("A2:C")` turns the cell part into half-open, 0-based `Bounds` where `None`
means "to the edge of the grid"; `format_range` writes a resolved rectangle back the way
Google echoes it (`Sheet1!A1:Z1000`, `'My Sheet'!B3`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pronto_sheets.sheets.a1 import column_index, column_letters

__all__ = ["column_index", "column_letters"]

MAX_COLUMNS = 18278  # ZZZ: the widest sheet Google allows

_ENDPOINT = re.compile(r"^\$?([A-Za-z]{1,3})?\$?([1-9][0-9]{0,8})?$")
_CELL_LIKE_TITLE = re.compile(r"^[A-Za-z]{1,3}[0-9]+$")
_R1C1_LIKE_TITLE = re.compile(r"^[Rr][0-9]*[Cc][0-9]*$")
_PLAIN_TITLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class RangeParseError(ValueError):
    """The text is not a range the Sheets API would accept."""


@dataclass(frozen=True, slots=True)
class Bounds:
    """A rectangle of a grid: rows and columns are 0-based, ends exclusive, None = open."""

    start_row: int
    end_row: int | None
    start_col: int
    end_col: int | None


@dataclass(frozen=True, slots=True)
class Rect:
    """A fully bounded rectangle: 0-based, ends exclusive, never empty."""

    start_row: int
    end_row: int
    start_col: int
    end_col: int

    @property
    def rows(self) -> int:
        return self.end_row - self.start_row

    @property
    def cols(self) -> int:
        return self.end_col - self.start_col


def split_sheet(text: str) -> tuple[str | None, str | None]:
    """Split `'Sheet'!A1:B2` into `("Sheet", "A1:B2")`.

    A quoted title may contain `!` and doubled quotes; an unquoted one runs up to the last
    `!`. Without `!` the whole text is returned as the cell part (the caller decides whether
    it is a range, a sheet title or a named range).
    """
    if text.startswith("'"):
        i = 1
        title: list[str] = []
        while i < len(text):
            ch = text[i]
            if ch == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    title.append("'")
                    i += 2
                    continue
                break
            title.append(ch)
            i += 1
        else:
            raise RangeParseError(text)
        rest = text[i + 1 :]
        if rest == "":
            return "".join(title), None
        if not rest.startswith("!") or rest == "!":
            raise RangeParseError(text)
        return "".join(title), rest[1:]
    if "!" in text:
        name, _, cells = text.rpartition("!")
        if not name or not cells:
            raise RangeParseError(text)
        return name, cells
    return None, text


def _endpoint(text: str) -> tuple[int | None, int | None]:
    match = _ENDPOINT.match(text)
    if not match or not (match.group(1) or match.group(2)):
        raise RangeParseError(text)
    letters, digits = match.group(1), match.group(2)
    col = column_index(letters) if letters else None
    if col is not None and col >= MAX_COLUMNS:
        raise RangeParseError(text)
    row = int(digits) - 1 if digits else None
    return row, col


def parse_cells(text: str) -> Bounds:
    """Parse the cell part of A1 notation: `B3`, `A1:C3`, `A:C`, `A2:C`, `2:5`, `A1:1`.

    Reversed corners (`D4:A1`) are normalised, as Google does.
    """
    if not text or text.count(":") > 1:
        raise RangeParseError(text)
    first, sep, second = text.partition(":")
    row1, col1 = _endpoint(first)
    if not sep:
        if row1 is None or col1 is None:
            raise RangeParseError(text)
        return Bounds(row1, row1 + 1, col1, col1 + 1)
    row2, col2 = _endpoint(second)
    # A column-only end (A2:C) leaves the rows open; a row-only end (A1:1) leaves columns open.
    if row1 is not None and row2 is not None:
        start_row, end_row = min(row1, row2), max(row1, row2) + 1
    elif row1 is None and row2 is None:
        start_row, end_row = 0, None
    else:
        start_row, end_row = (row1 if row1 is not None else 0), None
        if col1 is None or col2 is None:
            raise RangeParseError(text)
    if col1 is not None and col2 is not None:
        start_col, end_col = min(col1, col2), max(col1, col2) + 1
    elif col1 is None and col2 is None:
        start_col, end_col = 0, None
    else:
        start_col, end_col = (col1 if col1 is not None else 0), None
        if row1 is None or row2 is None:
            raise RangeParseError(text)
    return Bounds(start_row, end_row, start_col, end_col)


def looks_like_cells(text: str) -> bool:
    """True when `text` parses as the cell part of A1 notation."""
    try:
        parse_cells(text)
    except RangeParseError:
        return False
    return True


def quote_title(title: str) -> str:
    """Quote a sheet title the way Google does in the ranges it echoes."""
    if (
        _PLAIN_TITLE.match(title)
        and not _CELL_LIKE_TITLE.match(title)
        and not _R1C1_LIKE_TITLE.match(title)
    ):
        return title
    return "'" + title.replace("'", "''") + "'"


def cell_name(row: int, col: int) -> str:
    """`(0, 0) -> "A1"`."""
    return f"{column_letters(col)}{row + 1}"


def format_rect(rect: Rect) -> str:
    """`B3` for one cell, `A1:D4` otherwise."""
    first = cell_name(rect.start_row, rect.start_col)
    if rect.rows == 1 and rect.cols == 1:
        return first
    return f"{first}:{cell_name(rect.end_row - 1, rect.end_col - 1)}"


def format_range(title: str, rect: Rect) -> str:
    """`Sheet1!A1:Z1000`, `'My Sheet'!B3`."""
    return f"{quote_title(title)}!{format_rect(rect)}"
