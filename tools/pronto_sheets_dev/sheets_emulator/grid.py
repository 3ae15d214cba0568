"""A sheet's cells: a list of rows, each a list of cells, stored only up to the last used one.

Rows past the last non-empty row and cells past a row's last non-empty cell are simply not
stored, so a 1000 × 26 sheet with 12 used columns costs 12 slots per used row, and reading
a 2,000 × 12 block is a slice per row.
"""

from __future__ import annotations

from .a1 import Rect
from .cells import Cell


class Grid:
    """Cells by (row, column), 0-based; None is an empty cell."""

    __slots__ = ("_rows",)

    def __init__(self) -> None:
        self._rows: list[list[Cell | None]] = []

    def get(self, row: int, col: int) -> Cell | None:
        if row >= len(self._rows):
            return None
        cells = self._rows[row]
        return cells[col] if col < len(cells) else None

    def set(self, row: int, col: int, cell: Cell | None) -> None:
        if cell is None:
            if row < len(self._rows) and col < len(self._rows[row]):
                self._rows[row][col] = None
                self._trim_row(row)
            return
        while len(self._rows) <= row:
            self._rows.append([])
        cells = self._rows[row]
        if len(cells) <= col:
            cells.extend([None] * (col + 1 - len(cells)))
        cells[col] = cell

    def _trim_row(self, row: int) -> None:
        cells = self._rows[row]
        while cells and cells[-1] is None:
            cells.pop()
        while self._rows and not self._rows[-1]:
            self._rows.pop()

    def row_slice(self, row: int, start_col: int, end_col: int) -> list[Cell | None]:
        """The cells of one row between two columns, shorter when its tail is empty."""
        if row >= len(self._rows):
            return []
        return self._rows[row][start_col:end_col]

    def block(self, rect: Rect) -> list[list[Cell | None]]:
        """A copy of the cells in `rect`, padded to its full size."""
        out = []
        for row in range(rect.start_row, rect.end_row):
            cells = self.row_slice(row, rect.start_col, rect.end_col)
            out.append(cells + [None] * (rect.cols - len(cells)))
        return out

    def clear(self, rect: Rect) -> None:
        for row in range(rect.start_row, min(rect.end_row, len(self._rows))):
            cells = self._rows[row]
            for col in range(rect.start_col, min(rect.end_col, len(cells))):
                cells[col] = None
        for row in range(min(rect.end_row, len(self._rows)) - 1, rect.start_row - 1, -1):
            if row < len(self._rows):
                self._trim_row(row)

    @property
    def used_rows(self) -> int:
        """One past the last row that holds a value."""
        return len(self._rows)

    @property
    def used_cols(self) -> int:
        """One past the last column that holds a value in any row."""
        return max((len(cells) for cells in self._rows), default=0)

    def insert_rows(self, at: int, count: int) -> None:
        if at < len(self._rows):
            self._rows[at:at] = [[] for _ in range(count)]

    def delete_rows(self, start: int, end: int) -> None:
        del self._rows[start:end]
        if self._rows:
            self._trim_row(len(self._rows) - 1)

    def insert_cols(self, at: int, count: int) -> None:
        for cells in self._rows:
            if at < len(cells):
                cells[at:at] = [None] * count

    def delete_cols(self, start: int, end: int) -> None:
        for row, cells in enumerate(self._rows):
            del cells[start:end]
            while cells and cells[-1] is None:
                cells.pop()
            self._rows[row] = cells
        while self._rows and not self._rows[-1]:
            self._rows.pop()

    def truncate(self, rows: int, cols: int) -> None:
        """Drop everything outside a grid of `rows` × `cols` (a shrinking resize)."""
        del self._rows[rows:]
        for cells in self._rows:
            del cells[cols:]
            while cells and cells[-1] is None:
                cells.pop()
        while self._rows and not self._rows[-1]:
            self._rows.pop()

    def copy(self) -> Grid:
        clone = Grid()
        clone._rows = [list(cells) for cells in self._rows]
        return clone
