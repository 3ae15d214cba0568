"""`spreadsheets.values.*`: get, batchGet, update, batchUpdate, append, clear, batchClear.

Each function takes the spreadsheet, the query parameters and the parsed JSON body, and
returns the JSON answer or raises `ApiError` with Google's message. Shapes follow the real
API: trailing empty cells and rows are trimmed, interior empty rows come back as `[]`,
`values` is absent when nothing is there, counts of zero are left out, and a batch either
applies completely or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from . import errors
from .a1 import Rect, cell_name, column_letters, format_range
from .cells import (
    DATETIME_RENDER_OPTIONS,
    VALUE_RENDER_OPTIONS,
    Cell,
    CellInputError,
    DateTimeRender,
    JsonScalar,
    ValueRender,
    parse_raw,
    parse_user_entered,
)
from .store import Resolved, Spreadsheet, exceeds_grid

Major = Literal["ROWS", "COLUMNS"]
InputOption = Literal["RAW", "USER_ENTERED"]
Params = Mapping[str, list[str]]

_LIST_VALUE = "type.googleapis.com/google.protobuf.ListValue"
_T = TypeVar("_T", bound=str)


def _param(params: Params, name: str) -> str | None:
    values = params.get(name)
    return values[-1] if values else None


def _enum(value: object, allowed: tuple[_T, ...], default: _T, field: str, proto: str) -> _T:
    if value is None or value == "":
        return default
    for option in allowed:
        if value == option:
            return option
    raise errors.bad_field(field, f"type.googleapis.com/google.apps.sheets.v4.{proto}", value)


def _major(value: object, field: str = "major_dimension") -> Major:
    major: tuple[Major, ...] = ("ROWS", "COLUMNS")
    if value == "DIMENSION_UNSPECIFIED":
        return "ROWS"
    return _enum(value, major, "ROWS", field, "Dimension")


def _value_render(value: object, field: str = "value_render_option") -> ValueRender:
    return _enum(value, VALUE_RENDER_OPTIONS, "FORMATTED_VALUE", field, "ValueRenderOption")


def _datetime_render(value: object, field: str = "date_time_render_option") -> DateTimeRender:
    return _enum(value, DATETIME_RENDER_OPTIONS, "SERIAL_NUMBER", field, "DateTimeRenderOption")


def _input_option(value: object, *, in_body: bool) -> InputOption:
    if value in (None, "", "INPUT_VALUE_OPTION_UNSPECIFIED"):
        if in_body:
            raise errors.invalid_argument(
                "Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED"
            )
        raise errors.invalid_argument("'valueInputOption' is required but not specified")
    options: tuple[InputOption, ...] = ("RAW", "USER_ENTERED")
    return _enum(value, options, "RAW", "value_input_option", "ValueInputOption")


def _flag(value: object) -> bool:
    return str(value).lower() == "true" if value is not None else False


# -- reading ----------------------------------------------------------------------------------


def render_values(
    book: Spreadsheet,
    resolved: Resolved,
    value_render: ValueRender,
    datetime_render: DateTimeRender,
    major: Major,
) -> list[list[JsonScalar]]:
    """The rendered values of a range, trimmed the way the API trims them."""
    sheet, rect = resolved.sheet, resolved.rect
    rows: list[list[JsonScalar]] = []
    present: list[list[bool]] = []
    for r in range(rect.start_row, min(rect.end_row, sheet.grid.used_rows)):
        cells = sheet.grid.row_slice(r, rect.start_col, rect.end_col)
        rows.append(
            [
                ""
                if cell is None
                else book.render(sheet, r, rect.start_col + i, cell, value_render, datetime_render)
                for i, cell in enumerate(cells)
            ]
        )
        present.append([cell is not None for cell in cells])
    if major == "COLUMNS":
        width = max((len(row) for row in rows), default=0)
        rows = [[row[c] if c < len(row) else "" for row in rows] for c in range(width)]
        present = [[p[c] if c < len(p) else False for p in present] for c in range(width)]
    for row, flags in zip(rows, present, strict=True):
        while flags and not flags[-1]:
            flags.pop()
            row.pop()
    while rows and not rows[-1]:
        rows.pop()
    return rows


def value_range(
    book: Spreadsheet,
    resolved: Resolved,
    value_render: ValueRender,
    datetime_render: DateTimeRender,
    major: Major,
) -> dict[str, Any]:
    out: dict[str, Any] = {"range": resolved.a1, "majorDimension": major}
    values = render_values(book, resolved, value_render, datetime_render, major)
    if values:
        out["values"] = values
    return out


def get(book: Spreadsheet, range_text: str, params: Params) -> dict[str, Any]:
    return value_range(
        book,
        book.resolve(range_text),
        _value_render(_param(params, "valueRenderOption")),
        _datetime_render(_param(params, "dateTimeRenderOption")),
        _major(_param(params, "majorDimension")),
    )


def batch_get(book: Spreadsheet, params: Params) -> dict[str, Any]:
    value_render = _value_render(_param(params, "valueRenderOption"))
    datetime_render = _datetime_render(_param(params, "dateTimeRenderOption"))
    major = _major(_param(params, "majorDimension"))
    resolved = [book.resolve(text) for text in params.get("ranges", [])]
    out: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
    if resolved:
        out["valueRanges"] = [
            value_range(book, r, value_render, datetime_render, major) for r in resolved
        ]
    return out


# -- writing ----------------------------------------------------------------------------------


@dataclass
class _Write:
    """One validated write: where, what, and how the response describes it."""

    resolved: Resolved
    cells: list[list[Cell | Literal["skip"] | None]]
    rect: Rect

    def counts(self) -> tuple[int, int, int]:
        rows, cols, total = set(), set(), 0
        for r, row in enumerate(self.cells):
            for c, cell in enumerate(row):
                if cell != "skip":
                    rows.add(r)
                    cols.add(c)
                    total += 1
        return len(rows), len(cols), total


def read_value_range(body: object, field: str) -> dict[str, Any]:
    """Check a ValueRange body (`range`, `majorDimension`, `values`) as Google's parser does."""
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise errors.invalid_argument("Invalid JSON payload received. Expected an object.")
    for key in body:
        if key not in ("range", "majorDimension", "values"):
            raise errors.unknown_field(key)
    values = body.get("values")
    if values is not None:
        if not isinstance(values, list):
            raise errors.bad_field(f"{field}values", _LIST_VALUE, values)
        for i, row in enumerate(values):
            if not isinstance(row, list):
                raise errors.bad_field(f"{field}values[{i}]", _LIST_VALUE, row)
    return body


def _matrix(values: list[list[Any]], major: Major) -> list[list[Any]]:
    """Input values as rows, whatever their major dimension; missing cells are null."""
    if major == "ROWS":
        return values
    height = max((len(col) for col in values), default=0)
    return [[col[r] if r < len(col) else None for col in values] for r in range(height)]


def _parse_cells(
    matrix: list[list[Any]], option: InputOption
) -> list[list[Cell | Literal["skip"] | None]]:
    """Each input value parsed as `option` says; null means "leave that cell as it is"."""
    parse: Callable[[object], Cell | None] = parse_raw if option == "RAW" else parse_user_entered
    cells: list[list[Cell | Literal["skip"] | None]] = []
    for r, row in enumerate(matrix):
        parsed: list[Cell | Literal["skip"] | None] = []
        for c, value in enumerate(row):
            if value is None:
                parsed.append("skip")
                continue
            try:
                parsed.append(parse(value))
            except CellInputError as exc:
                raise errors.invalid_argument(f"Invalid values[{r}][{c}]: {exc}") from exc
        cells.append(parsed)
    return cells


def _check_within(range_text: str, rect: Rect, height: int, width: int) -> None:
    """Google's 400 for values that overflow the range they were written to."""
    if width > rect.cols:
        raise errors.invalid_argument(
            f"Requested writing within range [{range_text}], but tried writing to column "
            f"[{column_letters(rect.start_col + width - 1)}]"
        )
    if height > rect.rows:
        raise errors.invalid_argument(
            f"Requested writing within range [{range_text}], but tried writing to row "
            f"[{rect.start_row + height}]"
        )


def _plan_write(
    book: Spreadsheet,
    range_text: str,
    body: dict[str, Any],
    option: InputOption,
    *,
    anchor: tuple[int, int] | None = None,
    resolved: Resolved | None = None,
) -> _Write:
    """Validate a write fully before anything changes; raise Google's 400s."""
    resolved = resolved or book.resolve(range_text)
    if body.get("range") not in (None, ""):
        other = book.resolve(str(body["range"]))
        if (other.sheet is not resolved.sheet or other.rect != resolved.rect) and anchor is None:
            raise errors.invalid_argument(
                f"Requested writing within range [{range_text}], but the request body has "
                f"range [{body['range']}]. They must be the same."
            )
    matrix = _matrix(body.get("values") or [], _major(body.get("majorDimension")))
    cells = _parse_cells(matrix, option)
    sheet, rect = resolved.sheet, resolved.rect
    height, width = len(cells), max((len(row) for row in cells), default=0)
    start_row, start_col = anchor or (rect.start_row, rect.start_col)
    is_anchor = anchor is not None or (rect.rows == 1 and rect.cols == 1)
    if not is_anchor:
        _check_within(range_text, rect, height, width)
    if anchor is None and height and width:
        if start_row + height > sheet.row_count:
            raise exceeds_grid(sheet, cell_name(sheet.row_count, start_col))
        if start_col + width > sheet.column_count:
            raise exceeds_grid(sheet, cell_name(start_row, sheet.column_count))
    target = Rect(start_row, start_row + max(height, 1), start_col, start_col + max(width, 1))
    return _Write(resolved, cells, target)


def _apply(book: Spreadsheet, write: _Write) -> None:
    grid = write.resolved.sheet.grid
    for r, row in enumerate(write.cells):
        for c, cell in enumerate(row):
            if cell != "skip":
                grid.set(write.rect.start_row + r, write.rect.start_col + c, cell)
    book.touch()


def _update_response(
    book: Spreadsheet,
    write: _Write,
    include_values: bool,
    value_render: ValueRender,
    datetime_render: DateTimeRender,
) -> dict[str, Any]:
    rows, cols, total = write.counts()
    out: dict[str, Any] = {
        "spreadsheetId": book.spreadsheet_id,
        "updatedRange": format_range(write.resolved.sheet.title, write.rect),
    }
    if rows:
        out["updatedRows"] = rows
    if cols:
        out["updatedColumns"] = cols
    if total:
        out["updatedCells"] = total
    if include_values:
        out["updatedData"] = value_range(
            book, Resolved(write.resolved.sheet, write.rect), value_render, datetime_render, "ROWS"
        )
    return out


def _response_options(source: Mapping[str, Any]) -> tuple[bool, ValueRender, DateTimeRender]:
    return (
        _flag(source.get("includeValuesInResponse")),
        _value_render(source.get("responseValueRenderOption"), "response_value_render_option"),
        _datetime_render(
            source.get("responseDateTimeRenderOption"), "response_date_time_render_option"
        ),
    )


def _flat(params: Params) -> dict[str, str | None]:
    return {name: _param(params, name) for name in params}


def update(book: Spreadsheet, range_text: str, params: Params, body: object) -> dict[str, Any]:
    value_range_body = read_value_range(body, "data.")
    option = _input_option(_param(params, "valueInputOption"), in_body=False)
    write = _plan_write(book, range_text, value_range_body, option)
    _apply(book, write)
    return _update_response(book, write, *_response_options(_flat(params)))


def batch_update(book: Spreadsheet, body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise errors.invalid_argument("Invalid JSON payload received. Expected an object.")
    allowed = {
        "valueInputOption",
        "data",
        "includeValuesInResponse",
        "responseValueRenderOption",
        "responseDateTimeRenderOption",
    }
    for key in body:
        if key not in allowed:
            raise errors.unknown_field(key)
    option = _input_option(body.get("valueInputOption"), in_body=True)
    data = body.get("data") or []
    if not isinstance(data, list):
        raise errors.bad_field("data", "type.googleapis.com/google.apps.sheets.v4.ValueRange", data)
    writes = []
    for i, item in enumerate(data):
        value_range_body = read_value_range(item, f"data[{i}].")
        range_text = value_range_body.get("range")
        if not range_text:
            raise errors.invalid_argument(f"Invalid data[{i}]: No range specified.")
        writes.append(
            _plan_write(book, str(range_text), {**value_range_body, "range": None}, option)
        )
    for write in writes:
        _apply(book, write)
    options = _response_options(body)
    responses = [_update_response(book, w, *options) for w in writes]
    out: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
    totals = {
        "totalUpdatedRows": sum(r.get("updatedRows", 0) for r in responses),
        "totalUpdatedColumns": sum(r.get("updatedColumns", 0) for r in responses),
        "totalUpdatedCells": sum(r.get("updatedCells", 0) for r in responses),
        "totalUpdatedSheets": len(
            {
                w.resolved.sheet.sheet_id
                for w, r in zip(writes, responses, strict=True)
                if r.get("updatedCells")
            }
        ),
    }
    out.update({key: value for key, value in totals.items() if value})
    if responses:
        out["responses"] = responses
    return out


def _find_table(resolved: Resolved) -> Rect | None:
    """The "table" append writes after: the data block that starts at the first value in
    the range, extended right along its first row and down while rows hold values."""
    sheet, rect = resolved.sheet, resolved.rect
    grid = sheet.grid
    for r in range(rect.start_row, min(rect.end_row, grid.used_rows)):
        cells = grid.row_slice(r, rect.start_col, rect.end_col)
        first = next((i for i, cell in enumerate(cells) if cell is not None), None)
        if first is None:
            continue
        c0 = rect.start_col + first
        c1 = c0
        while c1 + 1 < sheet.column_count and grid.get(r, c1 + 1) is not None:
            c1 += 1
        r1 = r
        while r1 + 1 < sheet.row_count and any(
            cell is not None for cell in grid.row_slice(r1 + 1, c0, c1 + 1)
        ):
            r1 += 1
        return Rect(r, r1 + 1, c0, c1 + 1)
    return None


def append(book: Spreadsheet, range_text: str, params: Params, body: object) -> dict[str, Any]:
    value_range_body = read_value_range(body, "data.")
    option = _input_option(_param(params, "valueInputOption"), in_body=False)
    insert_options: tuple[Literal["OVERWRITE", "INSERT_ROWS"], ...] = ("OVERWRITE", "INSERT_ROWS")
    insert = _enum(
        _param(params, "insertDataOption"),
        insert_options,
        "OVERWRITE",
        "insert_data_option",
        "InsertDataOption",
    )
    resolved = book.resolve(range_text)
    table = _find_table(resolved)
    anchor = (
        (table.end_row, table.start_col)
        if table
        else (resolved.rect.start_row, resolved.rect.start_col)
    )
    write = _plan_write(
        book, range_text, value_range_body, option, anchor=anchor, resolved=resolved
    )
    sheet = resolved.sheet
    grid_props = sheet.properties["gridProperties"]
    height = write.rect.rows if write.cells else 0
    if insert == "INSERT_ROWS" and height:
        sheet.grid.insert_rows(write.rect.start_row, height)
        grid_props["rowCount"] = sheet.row_count + height
    # Appending past the edge grows the sheet, as the real API does.
    grid_props["rowCount"] = max(sheet.row_count, write.rect.end_row)
    grid_props["columnCount"] = max(sheet.column_count, write.rect.end_col)
    _apply(book, write)
    out: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
    if table is not None:
        out["tableRange"] = format_range(sheet.title, table)
    out["updates"] = _update_response(book, write, *_response_options(_flat(params)))
    return out


def clear(book: Spreadsheet, range_text: str) -> dict[str, Any]:
    resolved = book.resolve(range_text)
    resolved.sheet.grid.clear(resolved.rect)
    book.touch()
    return {"spreadsheetId": book.spreadsheet_id, "clearedRange": resolved.a1}


def batch_clear(book: Spreadsheet, body: object) -> dict[str, Any]:
    ranges = body.get("ranges") if isinstance(body, dict) else None
    if ranges is not None and not isinstance(ranges, list):
        raise errors.bad_field("ranges", _LIST_VALUE, ranges)
    resolved = [book.resolve(str(text)) for text in ranges or []]
    for item in resolved:
        item.sheet.grid.clear(item.rect)
    book.touch()
    out: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
    if resolved:
        out["clearedRanges"] = [item.a1 for item in resolved]
    return out
