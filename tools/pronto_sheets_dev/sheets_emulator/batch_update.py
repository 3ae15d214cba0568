"""`spreadsheets.batchUpdate`: the structural requests gspread sends.

Supported: addSheet, deleteSheet, duplicateSheet, updateSheetProperties,
updateSpreadsheetProperties, insertDimension, deleteDimension, appendDimension,
mergeCells, unmergeCells, addNamedRange, updateNamedRange, deleteNamedRange, copyPaste,
cutPaste, sortRange. Anything else (formats, borders, filters, validation, protection...)
answers 400 naming the request, rather than pretending to apply it. The batch is atomic:
one failing request leaves the spreadsheet exactly as it was.
"""

from __future__ import annotations

import copy
import functools
import math
import re
import secrets
import struct
from collections.abc import Callable
from typing import Any

from . import errors, fieldmask
from .a1 import Bounds, Rect, looks_like_cells
from .cells import Cell, FormulaError
from .store import (
    DEFAULT_COLUMNS,
    DEFAULT_ROWS,
    MAX_CELLS,
    NamedRange,
    Sheet,
    Spreadsheet,
    exceeds_grid,
    new_sheet_properties,
)

_SHOWN_WHEN_ZERO = {"sheetId", "index", "rowCount", "columnCount"}
_NAMED_RANGE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


class _Invalid(Exception):
    """A request-level 400; the batch adds the `Invalid requests[i].kind: ` prefix."""


def _color_channel(value: float) -> float | int:
    """A color channel as Google echoes it: cut to 8 bits (0.5 -> 127/255), stored as a
    float32, written back with the fewest digits that give that float32."""
    eight_bit = math.floor(max(0.0, min(1.0, value)) * 255 + 1e-6) / 255
    single: float = struct.unpack("f", struct.pack("f", eight_bit))[0]
    for digits in range(1, 10):
        candidate = float(f"{single:.{digits}g}")
        if struct.unpack("f", struct.pack("f", candidate))[0] == single:
            return int(candidate) if candidate.is_integer() else candidate
    return single


def _prune(value: Any, key: str = "") -> Any:
    """Drop proto3 defaults (false, 0, empty) the way the API leaves them out of answers."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in ("red", "green", "blue", "alpha") and isinstance(v, int | float):
                v = _color_channel(float(v))
            pruned = _prune(v, k)
            if pruned is None:
                continue
            out[k] = pruned
        return out or None
    if value is False or value is None or value == "":
        return None
    if isinstance(value, int | float) and value == 0 and key not in _SHOWN_WHEN_ZERO:
        return None
    return value


def _sheet(book: Spreadsheet, sheet_id: object) -> Sheet:
    sheet = book.sheet_by_id(int(sheet_id or 0))  # type: ignore[call-overload]
    if sheet is None:
        raise _Invalid(f"No grid with id: {sheet_id or 0}")
    return sheet


def _grid_range(book: Spreadsheet, spec: object) -> tuple[Sheet, Rect]:
    if not isinstance(spec, dict):
        raise _Invalid("range is required")
    sheet = _sheet(book, spec.get("sheetId"))
    bounds = Bounds(
        int(spec.get("startRowIndex") or 0),
        None if spec.get("endRowIndex") is None else int(spec["endRowIndex"]),
        int(spec.get("startColumnIndex") or 0),
        None if spec.get("endColumnIndex") is None else int(spec["endColumnIndex"]),
    )
    rect = Spreadsheet.clip(sheet, bounds)
    if rect.rows <= 0 or rect.cols <= 0:
        raise _Invalid("The range is empty.")
    return sheet, rect


def _check_cells(book: Spreadsheet, replacing: Sheet | None, rows: int, cols: int) -> None:
    """Refuse a sheet size that would take the spreadsheet past Google's cell limit."""
    if book.cell_total(excluding=replacing) + rows * cols > MAX_CELLS:
        raise _Invalid(
            f"This action would increase the number of cells in the workbook above the limit of "
            f"{MAX_CELLS} cells."
        )


def _resize(sheet: Sheet, rows: int, cols: int) -> None:
    if rows < 1 or cols < 1:
        raise _Invalid("A sheet must have at least one row and one column.")
    sheet.grid.truncate(rows, cols)
    sheet.merges = [m for m in sheet.merges if m.end_row <= rows and m.end_col <= cols]
    sheet.properties["gridProperties"]["rowCount"] = rows
    sheet.properties["gridProperties"]["columnCount"] = cols


def _unique_title(book: Spreadsheet, title: str, ignoring: Sheet | None = None) -> None:
    other = book.sheet_by_title(title)
    if other is not None and other is not ignoring and other.title.casefold() == title.casefold():
        raise _Invalid(
            f'A sheet with the name "{title}" already exists. Please enter another name.'
        )


# -- sheets -----------------------------------------------------------------------------------


def _add_sheet(book: Spreadsheet, request: dict[str, Any]) -> dict[str, Any]:
    props = copy.deepcopy(request.get("properties") or {})
    sheet_id = props.get("sheetId")
    if sheet_id is None:
        sheet_id = book.new_sheet_id()
    elif book.sheet_by_id(int(sheet_id)) is not None:
        raise _Invalid(f"Sheet with id {sheet_id} already exists.")
    title = props.get("title")
    if not title:
        n = len(book.sheets) + 1
        while book.sheet_by_title(f"Sheet{n}") is not None:
            n += 1
        title = f"Sheet{n}"
    _unique_title(book, str(title))
    grid = props.get("gridProperties") or {}
    rows = int(grid.get("rowCount") or DEFAULT_ROWS)
    cols = int(grid.get("columnCount") or DEFAULT_COLUMNS)
    index = props.get("index")
    merged = {**props, **new_sheet_properties(int(sheet_id), str(title), 0, rows, cols)}
    merged["gridProperties"] = {**grid, "rowCount": rows, "columnCount": cols}
    _check_cells(book, None, rows, cols)
    sheet = Sheet(_prune(merged))
    position = len(book.sheets) if index is None else max(0, min(int(index), len(book.sheets)))
    book.sheets.insert(position, sheet)
    book.reindex()
    return {"addSheet": {"properties": copy.deepcopy(sheet.properties)}}


def _delete_sheet(book: Spreadsheet, request: dict[str, Any]) -> dict[str, Any]:
    sheet = book.sheet_by_id(int(request.get("sheetId") or 0))
    if sheet is None:
        raise _Invalid(f"No sheet with id: {request.get('sheetId') or 0}")
    if len(book.sheets) == 1:
        raise _Invalid("You can't remove all the sheets in a document.")
    book.sheets.remove(sheet)
    book.named_ranges = [n for n in book.named_ranges if n.sheet_id != sheet.sheet_id]
    book.reindex()
    return {}


def _duplicate_sheet(book: Spreadsheet, request: dict[str, Any]) -> dict[str, Any]:
    source = _sheet(book, request.get("sourceSheetId"))
    new_id = request.get("newSheetId")
    if new_id is None:
        new_id = book.new_sheet_id()
    title = str(request.get("newSheetName") or f"Copy of {source.title}")
    _unique_title(book, title)
    _check_cells(book, None, source.row_count, source.column_count)
    props = copy.deepcopy(source.properties)
    props.update({"sheetId": int(new_id), "title": title})
    sheet = Sheet(props, source.grid.copy(), list(source.merges))
    index = request.get("insertSheetIndex")
    position = len(book.sheets) if index is None else max(0, min(int(index), len(book.sheets)))
    book.sheets.insert(position, sheet)
    book.reindex()
    return {"duplicateSheet": {"properties": copy.deepcopy(sheet.properties)}}


def _update_sheet_properties(book: Spreadsheet, request: dict[str, Any]) -> dict[str, Any]:
    given = request.get("properties") or {}
    if not request.get("fields"):
        raise _Invalid("At least one field must be specified.")
    sheet = _sheet(book, given.get("sheetId"))
    mask = fieldmask.parse(str(request["fields"]))
    updated = copy.deepcopy(sheet.properties)
    fieldmask.merge(updated, given, {k: v for k, v in mask.items() if k != "index"})
    updated["sheetId"] = sheet.sheet_id
    updated["sheetType"] = sheet.properties.get("sheetType", "GRID")
    grid = updated.setdefault("gridProperties", {})
    grid.setdefault("rowCount", sheet.row_count)
    grid.setdefault("columnCount", sheet.column_count)
    if updated.get("title") != sheet.title:
        if not updated.get("title"):
            raise _Invalid("A sheet must have a title.")
        _unique_title(book, str(updated["title"]), ignoring=sheet)
    if updated.get("hidden") and all(s.properties.get("hidden") or s is sheet for s in book.sheets):
        raise _Invalid("You can't hide all the sheets in a document.")
    rows, cols = int(grid["rowCount"]), int(grid["columnCount"])
    if (rows, cols) != (sheet.row_count, sheet.column_count):
        _check_cells(book, sheet, rows, cols)
        _resize(sheet, rows, cols)
    updated["index"] = sheet.properties["index"]
    sheet.properties = _prune(updated)
    if "index" in mask or "*" in mask:
        _move_sheet(book, sheet, int(given.get("index") or 0))
    return {}


def _move_sheet(book: Spreadsheet, sheet: Sheet, index: int) -> None:
    """Indexes count positions before the move, as the API documents."""
    old = book.sheets.index(sheet)
    book.sheets.remove(sheet)
    target = index if index <= old else index - 1
    book.sheets.insert(max(0, min(target, len(book.sheets))), sheet)
    book.reindex()


def _update_spreadsheet_properties(book: Spreadsheet, request: dict[str, Any]) -> dict[str, Any]:
    if not request.get("fields"):
        raise _Invalid("At least one field must be specified.")
    mask = fieldmask.parse(str(request["fields"]))
    updated = copy.deepcopy(book.properties)
    fieldmask.merge(updated, request.get("properties") or {}, mask)
    if not updated.get("title"):
        raise _Invalid("A spreadsheet must have a title.")
    book.properties = updated
    return {}


# -- dimensions -------------------------------------------------------------------------------


def _shift_insert(start: int, end: int, at: int, count: int) -> tuple[int, int]:
    if start >= at:
        return start + count, end + count
    if end > at:
        return start, end + count
    return start, end


def _shift_delete(start: int, end: int, lo: int, hi: int) -> tuple[int, int]:
    def at(i: int) -> int:
        return i if i < lo else (lo if i < hi else i - (hi - lo))

    return at(start), at(end)


def _remap(
    book: Spreadsheet, sheet: Sheet, rows: bool, shift: Callable[[int, int], tuple[int, int]]
) -> None:
    merges = []
    for m in sheet.merges:
        if rows:
            s, e = shift(m.start_row, m.end_row)
            rect = Rect(s, e, m.start_col, m.end_col)
        else:
            s, e = shift(m.start_col, m.end_col)
            rect = Rect(m.start_row, m.end_row, s, e)
        if rect.rows > 0 and rect.cols > 0 and rect.rows * rect.cols > 1:
            merges.append(rect)
    sheet.merges = merges
    for named in book.named_ranges:
        if named.sheet_id != sheet.sheet_id:
            continue
        b = named.bounds
        if rows:
            s, e = shift(b.start_row, b.end_row if b.end_row is not None else 10**9)
            named.bounds = Bounds(s, None if b.end_row is None else e, b.start_col, b.end_col)
        else:
            s, e = shift(b.start_col, b.end_col if b.end_col is not None else 10**9)
            named.bounds = Bounds(b.start_row, b.end_row, s, None if b.end_col is None else e)


def _dimension(book: Spreadsheet, spec: object) -> tuple[Sheet, bool, int, int | None]:
    if not isinstance(spec, dict):
        raise _Invalid("range is required")
    sheet = _sheet(book, spec.get("sheetId"))
    dimension = spec.get("dimension")
    if dimension not in ("ROWS", "COLUMNS"):
        raise _Invalid("dimension must be ROWS or COLUMNS")
    end = spec.get("endIndex")
    return (
        sheet,
        dimension == "ROWS",
        int(spec.get("startIndex") or 0),
        None if end is None else int(end),
    )


def _insert_dimension(book: Spreadsheet, request: dict[str, Any]) -> dict[str, Any]:
    sheet, rows, start, end = _dimension(book, request.get("range"))
    size = sheet.row_count if rows else sheet.column_count
    if end is None or end <= start or start > size:
        raise _Invalid(f"Invalid dimension range: {start} to {end} for a sheet of {size}.")
    count = end - start
    if rows:
        _check_cells(book, sheet, sheet.row_count + count, sheet.column_count)
        sheet.grid.insert_rows(start, count)
        sheet.properties["gridProperties"]["rowCount"] += count
    else:
        _check_cells(book, sheet, sheet.row_count, sheet.column_count + count)
        sheet.grid.insert_cols(start, count)
        sheet.properties["gridProperties"]["columnCount"] += count
    _remap(book, sheet, rows, lambda s, e: _shift_insert(s, e, start, count))
    return {}


def _delete_dimension(book: Spreadsheet, request: dict[str, Any]) -> dict[str, Any]:
    sheet, rows, start, end = _dimension(book, request.get("range"))
    size = sheet.row_count if rows else sheet.column_count
    end = size if end is None else end
    if end <= start or end > size:
        raise _Invalid(f"Invalid dimension range: {start} to {end} for a sheet of {size}.")
    if start == 0 and end == size:
        what = "rows" if rows else "columns"
        raise _Invalid(f"You can't delete all the {what} on the sheet.")
    if rows:
        sheet.grid.delete_rows(start, end)
        sheet.properties["gridProperties"]["rowCount"] -= end - start
    else:
        sheet.grid.delete_cols(start, end)
        sheet.properties["gridProperties"]["columnCount"] -= end - start
    _remap(book, sheet, rows, lambda s, e: _shift_delete(s, e, start, end))
    return {}


def _append_dimension(book: Spreadsheet, request: dict[str, Any]) -> dict[str, Any]:
    sheet = _sheet(book, request.get("sheetId"))
    length = int(request.get("length") or 0)
    if length <= 0:
        raise _Invalid("length must be positive")
    if request.get("dimension") == "ROWS":
        _check_cells(book, sheet, sheet.row_count + length, sheet.column_count)
        sheet.properties["gridProperties"]["rowCount"] += length
    elif request.get("dimension") == "COLUMNS":
        _check_cells(book, sheet, sheet.row_count, sheet.column_count + length)
        sheet.properties["gridProperties"]["columnCount"] += length
    else:
        raise _Invalid("dimension must be ROWS or COLUMNS")
    return {}


# -- merges and named ranges ------------------------------------------------------------------


def _intersects(a: Rect, b: Rect) -> bool:
    return (
        a.start_row < b.end_row
        and b.start_row < a.end_row
        and a.start_col < b.end_col
        and b.start_col < a.end_col
    )


def _merge_cells(book: Spreadsheet, request: dict[str, Any]) -> dict[str, Any]:
    sheet, rect = _grid_range(book, request.get("range"))
    kind = request.get("mergeType") or "MERGE_ALL"
    if kind == "MERGE_ALL":
        parts = [rect]
    elif kind == "MERGE_COLUMNS":
        parts = [
            Rect(rect.start_row, rect.end_row, c, c + 1)
            for c in range(rect.start_col, rect.end_col)
        ]
    elif kind == "MERGE_ROWS":
        parts = [
            Rect(r, r + 1, rect.start_col, rect.end_col)
            for r in range(rect.start_row, rect.end_row)
        ]
    else:
        raise _Invalid(f"Unknown merge type: {kind}")
    parts = [p for p in parts if p.rows * p.cols > 1]
    if not parts:
        raise _Invalid("You must select more than one cell to merge.")
    sheet.merges = [m for m in sheet.merges if not _intersects(m, rect)]
    for part in parts:
        # Merging keeps only the top-left value of each merged region, as in Sheets.
        for r in range(part.start_row, part.end_row):
            for c in range(part.start_col, part.end_col):
                if (r, c) != (part.start_row, part.start_col):
                    sheet.grid.set(r, c, None)
        sheet.merges.append(part)
    return {}


def _unmerge_cells(book: Spreadsheet, request: dict[str, Any]) -> dict[str, Any]:
    sheet, rect = _grid_range(book, request.get("range"))
    sheet.merges = [m for m in sheet.merges if not _intersects(m, rect)]
    return {}


def _named_range_fields(
    book: Spreadsheet, spec: dict[str, Any], ignoring: NamedRange | None
) -> tuple[str, int, Bounds]:
    name = str(spec.get("name") or "")
    if (
        not _NAMED_RANGE_NAME.match(name)
        or looks_like_cells(name)
        or name.upper() in ("TRUE", "FALSE")
    ):
        raise _Invalid(f"Named range name '{name}' is invalid.")
    existing = book.named_range(name)
    if existing is not None and existing is not ignoring:
        raise _Invalid(f"A named range with name {name} already exists.")
    grid_range = spec.get("range") or {}
    sheet, _ = _grid_range(book, grid_range)
    bounds = Bounds(
        int(grid_range.get("startRowIndex") or 0),
        None if grid_range.get("endRowIndex") is None else int(grid_range["endRowIndex"]),
        int(grid_range.get("startColumnIndex") or 0),
        None if grid_range.get("endColumnIndex") is None else int(grid_range["endColumnIndex"]),
    )
    return name, sheet.sheet_id, bounds


def _add_named_range(book: Spreadsheet, request: dict[str, Any]) -> dict[str, Any]:
    spec = request.get("namedRange") or {}
    name, sheet_id, bounds = _named_range_fields(book, spec, None)
    named_id = str(spec.get("namedRangeId") or secrets.randbelow(9 * 10**9) + 10**9)
    if any(n.named_range_id == named_id for n in book.named_ranges):
        raise _Invalid(f"A named range with id {named_id} already exists.")
    named = NamedRange(named_id, name, sheet_id, bounds)
    book.named_ranges.append(named)
    return {"addNamedRange": {"namedRange": named.to_json()}}


def _find_named(book: Spreadsheet, named_id: object) -> NamedRange:
    named = next((n for n in book.named_ranges if n.named_range_id == str(named_id)), None)
    if named is None:
        raise _Invalid(f"No named range with id: {named_id}")
    return named


def _update_named_range(book: Spreadsheet, request: dict[str, Any]) -> dict[str, Any]:
    spec = request.get("namedRange") or {}
    named = _find_named(book, spec.get("namedRangeId"))
    if not request.get("fields"):
        raise _Invalid("At least one field must be specified.")
    current = named.to_json()
    fieldmask.merge(current, spec, fieldmask.parse(str(request["fields"])))
    named.name, named.sheet_id, named.bounds = _named_range_fields(book, current, named)
    return {}


def _delete_named_range(book: Spreadsheet, request: dict[str, Any]) -> dict[str, Any]:
    book.named_ranges.remove(_find_named(book, request.get("namedRangeId")))
    return {}


# -- moving values ----------------------------------------------------------------------------


def _as_value(book: Spreadsheet, sheet: Sheet, r: int, c: int, cell: Cell | None) -> Cell | None:
    """A cell with its formula replaced by the value it shows (for PASTE_VALUES)."""
    if cell is None or cell.kind != "formula":
        return cell
    value = book.effective(sheet, r, c, set())
    if value is None or value == "":
        return None
    if isinstance(value, FormulaError):
        return Cell("text", value.code)
    if isinstance(value, bool):
        return Cell("bool", value)
    if isinstance(value, float):
        return Cell("number", value)
    return Cell("text", value)


def _write_block(sheet: Sheet, top: int, left: int, block: list[list[Cell | None]]) -> None:
    for r, row in enumerate(block):
        for c, cell in enumerate(row):
            if top + r < sheet.row_count and left + c < sheet.column_count:
                sheet.grid.set(top + r, left + c, cell)


def _copy_paste(book: Spreadsheet, request: dict[str, Any]) -> dict[str, Any]:
    src_sheet, src = _grid_range(book, request.get("source"))
    dst_sheet, dst = _grid_range(book, request.get("destination"))
    paste = request.get("pasteType") or "PASTE_NORMAL"
    if paste not in ("PASTE_NORMAL", "PASTE_VALUES", "PASTE_FORMULA"):
        return {}  # formats, borders, validation: the emulator keeps no formatting
    block = src_sheet.grid.block(src)
    if paste == "PASTE_VALUES":
        block = [
            [
                _as_value(book, src_sheet, src.start_row + r, src.start_col + c, cell)
                for c, cell in enumerate(row)
            ]
            for r, row in enumerate(block)
        ]
    if request.get("pasteOrientation") == "TRANSPOSE":
        block = [list(col) for col in zip(*block, strict=True)]
    height, width = len(block), len(block[0])
    tile_rows = dst.rows // height if dst.rows % height == 0 else 1
    tile_cols = dst.cols // width if dst.cols % width == 0 else 1
    for i in range(tile_rows):
        for j in range(tile_cols):
            _write_block(dst_sheet, dst.start_row + i * height, dst.start_col + j * width, block)
    return {}


def _cut_paste(book: Spreadsheet, request: dict[str, Any]) -> dict[str, Any]:
    src_sheet, src = _grid_range(book, request.get("source"))
    target = request.get("destination") or {}
    dst_sheet = _sheet(book, target.get("sheetId"))
    top, left = int(target.get("rowIndex") or 0), int(target.get("columnIndex") or 0)
    if top + src.rows > dst_sheet.row_count or left + src.cols > dst_sheet.column_count:
        raise exceeds_grid(dst_sheet, f"R{top + src.rows}C{left + src.cols}")
    block = src_sheet.grid.block(src)
    src_sheet.grid.clear(src)
    _write_block(dst_sheet, top, left, block)
    return {}


def _sort_key(value: object) -> tuple[int, Any]:
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, float):
        return (0, value)
    if isinstance(value, FormulaError):
        return (3, value.code)
    return (1, str(value).casefold())


def _sort_range(book: Spreadsheet, request: dict[str, Any]) -> dict[str, Any]:
    sheet, rect = _grid_range(book, request.get("range"))
    specs = [
        (int(spec.get("dimensionIndex") or 0), spec.get("sortOrder") == "DESCENDING")
        for spec in request.get("sortSpecs") or [{}]
    ]
    rows = sheet.grid.block(rect)
    keyed = []
    for i, row in enumerate(rows):
        keys = []
        for column, _ in specs:
            value = book.effective(sheet, rect.start_row + i, column, set())
            keys.append(None if value is None or value == "" else _sort_key(value))
        keyed.append((keys, row))

    def compare(a: tuple[list[Any], Any], b: tuple[list[Any], Any]) -> int:
        for (ka, kb), (_, descending) in zip(zip(a[0], b[0], strict=True), specs, strict=True):
            if ka == kb:
                continue
            if ka is None or kb is None:  # blanks sort last in both directions
                return 1 if ka is None else -1
            order = -1 if ka < kb else 1
            return -order if descending else order
        return 0

    keyed.sort(key=functools.cmp_to_key(compare))
    sheet.grid.clear(rect)
    _write_block(sheet, rect.start_row, rect.start_col, [row for _, row in keyed])
    return {}


_HANDLERS: dict[str, Callable[[Spreadsheet, dict[str, Any]], dict[str, Any]]] = {
    "addSheet": _add_sheet,
    "deleteSheet": _delete_sheet,
    "duplicateSheet": _duplicate_sheet,
    "updateSheetProperties": _update_sheet_properties,
    "updateSpreadsheetProperties": _update_spreadsheet_properties,
    "insertDimension": _insert_dimension,
    "deleteDimension": _delete_dimension,
    "appendDimension": _append_dimension,
    "mergeCells": _merge_cells,
    "unmergeCells": _unmerge_cells,
    "addNamedRange": _add_named_range,
    "updateNamedRange": _update_named_range,
    "deleteNamedRange": _delete_named_range,
    "copyPaste": _copy_paste,
    "cutPaste": _cut_paste,
    "sortRange": _sort_range,
}


def _snapshot(book: Spreadsheet) -> Callable[[], None]:
    properties = copy.deepcopy(book.properties)
    sheets = [(s, copy.deepcopy(s.properties), s.grid.copy(), list(s.merges)) for s in book.sheets]
    named = [NamedRange(n.named_range_id, n.name, n.sheet_id, n.bounds) for n in book.named_ranges]

    def restore() -> None:
        book.properties = properties
        book.sheets = []
        for sheet, props, grid, merges in sheets:
            sheet.properties, sheet.grid, sheet.merges = props, grid, merges
            book.sheets.append(sheet)
        book.named_ranges = named

    return restore


def batch_update(book: Spreadsheet, body: object) -> dict[str, Any]:
    """Apply every request in order, or none of them."""
    if not isinstance(body, dict):
        raise errors.invalid_argument("Invalid JSON payload received. Expected an object.")
    requests = body.get("requests")
    if not isinstance(requests, list) or not requests:
        raise errors.invalid_argument("Must specify at least one request.")
    restore = _snapshot(book)
    try:
        replies = [_apply_request(book, i, request) for i, request in enumerate(requests)]
    except errors.ApiError:
        restore()
        raise
    book.touch()
    out: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id, "replies": replies}
    if body.get("includeSpreadsheetInResponse"):
        out["updatedSpreadsheet"] = book.to_json()
    return out


def _apply_request(book: Spreadsheet, i: int, request: object) -> dict[str, Any]:
    """One request of a batch; any error it raises is Google's 400 naming `requests[i]`."""
    if not isinstance(request, dict) or len(request) != 1:
        raise errors.invalid_argument(
            f"Invalid requests[{i}]: exactly one kind of request is required."
        )
    ((kind, payload),) = request.items()
    handler = _HANDLERS.get(kind)
    if handler is None:
        raise errors.invalid_argument(
            f"Invalid requests[{i}]: the Sheets API emulator does not implement "
            f'"{kind}" (it keeps values and the grid, not formatting).'
        )
    try:
        return handler(book, payload if isinstance(payload, dict) else {})
    except _Invalid as exc:
        raise errors.invalid_argument(f"Invalid requests[{i}].{kind}: {exc}") from exc
    except errors.ApiError as exc:
        raise errors.invalid_argument(f"Invalid requests[{i}].{kind}: {exc.message}") from exc
    except fieldmask.FieldMaskError as exc:
        raise errors.invalid_argument(
            f"Invalid requests[{i}].{kind}: Invalid field mask: {exc}"
        ) from exc
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        # A field of the wrong JSON type (a sheetId of "abc", say) is the caller's error.
        raise errors.invalid_argument(
            f"Invalid requests[{i}].{kind}: malformed request ({exc!r})"
        ) from exc
