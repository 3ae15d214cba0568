"""`spreadsheets.get`, `spreadsheets.create` and `spreadsheets.sheets.copyTo`.

`includeGridData=true` (or `ranges=`) adds `sheets[].data[]` with each cell's
userEnteredValue, effectiveValue and formattedValue; formats are not kept, so none are
returned.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from . import errors
from .cells import Cell, Effective, FormulaError, format_number, json_number
from .store import Resolved, Sheet, Spreadsheet, Store, new_sheet_properties

Params = Mapping[str, list[str]]


def _extended(value: Effective | str | float | bool, formula: str | None = None) -> dict[str, Any]:
    if formula is not None:
        return {"formulaValue": formula}
    if isinstance(value, FormulaError):
        return {"errorValue": {"type": "ERROR", "message": value.code}}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, float):
        return {"numberValue": json_number(value)}
    return {"stringValue": "" if value is None else value}


def _cell_data(
    book: Spreadsheet, sheet: Sheet, row: int, col: int, cell: Cell | None
) -> dict[str, Any]:
    if cell is None:
        return {}
    effective = book.effective(sheet, row, col, set())
    formatted = book.render(sheet, row, col, cell, "FORMATTED_VALUE", "FORMATTED_STRING")
    formula = str(cell.value) if cell.kind == "formula" else None
    return {
        "userEnteredValue": _extended(cell.value, formula),
        "effectiveValue": _extended(effective),
        "formattedValue": formatted
        if isinstance(formatted, str)
        else format_number(float(formatted), None),
    }


def _grid_data(book: Spreadsheet, resolved: Resolved) -> dict[str, Any]:
    sheet, rect = resolved.sheet, resolved.rect
    rows = []
    for r in range(rect.start_row, min(rect.end_row, sheet.grid.used_rows)):
        cells = sheet.grid.row_slice(r, rect.start_col, rect.end_col)
        rows.append(
            {
                "values": [
                    _cell_data(book, sheet, r, rect.start_col + i, c) for i, c in enumerate(cells)
                ]
            }
        )
    while rows and not rows[-1]["values"]:
        rows.pop()
    out: dict[str, Any] = {}
    if rect.start_row:
        out["startRow"] = rect.start_row
    if rect.start_col:
        out["startColumn"] = rect.start_col
    out["rowData"] = rows
    return out


def get(book: Spreadsheet, params: Params) -> dict[str, Any]:
    """The spreadsheet's metadata; grid data for `ranges` or all sheets when asked."""
    out = book.to_json()
    ranges = params.get("ranges") or []
    include = (params.get("includeGridData") or ["false"])[-1].lower() == "true"
    if not ranges and not include:
        return out
    wanted: dict[int, list[Resolved]] = {}
    for text in ranges:
        resolved = book.resolve(text)
        wanted.setdefault(resolved.sheet.sheet_id, []).append(resolved)
    if not ranges:
        wanted = {s.sheet_id: [Resolved(s, s.whole())] for s in book.sheets}
    sheets = []
    for sheet_json, sheet in zip(out["sheets"], book.sheets, strict=True):
        if sheet.sheet_id not in wanted:
            continue
        if include or ranges:
            sheet_json["data"] = [_grid_data(book, r) for r in wanted[sheet.sheet_id]]
        sheets.append(sheet_json)
    out["sheets"] = sheets
    return out


def create(store: Store, body: object) -> dict[str, Any]:
    """A new spreadsheet from a Spreadsheet body (title and sheet properties are used)."""
    spec = body if isinstance(body, dict) else {}
    properties = spec.get("properties") or {}
    sheets = [s.get("properties") or {} for s in spec.get("sheets") or [] if isinstance(s, dict)]
    book = store.create(
        str(properties.get("title") or "Untitled spreadsheet"), sheets=sheets or None
    )
    for key in ("locale", "timeZone", "autoRecalc"):
        if properties.get(key):
            book.properties[key] = properties[key]
    return book.to_json()


def copy_to(store: Store, book: Spreadsheet, sheet_id: str, body: object) -> dict[str, Any]:
    """Copy one sheet into another spreadsheet (title `Copy of X`, at the end)."""
    try:
        source = book.sheet_by_id(int(sheet_id))
    except ValueError:
        source = None
    if source is None:
        raise errors.not_found()
    destination_id = body.get("destinationSpreadsheetId") if isinstance(body, dict) else None
    if not destination_id:
        raise errors.invalid_argument("destinationSpreadsheetId is required.")
    target = store.get(str(destination_id))
    title = f"Copy of {source.title}"
    n = 2
    while target.sheet_by_title(title) is not None:
        title = f"Copy of {source.title} {n}"
        n += 1
    props = new_sheet_properties(
        target.new_sheet_id(), title, len(target.sheets), source.row_count, source.column_count
    )
    extra = {k: v for k, v in copy.deepcopy(source.properties).items() if k not in props}
    sheet = Sheet({**props, **extra}, source.grid.copy(), list(source.merges))
    target.sheets.append(sheet)
    target.touch()
    return copy.deepcopy(sheet.properties)
