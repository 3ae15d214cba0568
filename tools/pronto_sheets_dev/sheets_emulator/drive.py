"""The slice of Drive that gspread uses on spreadsheets: files create/get/list/delete/copy,
export as CSV or TSV, comments (always none), and the v2 media upload behind `import_csv`.

Drive only ever sees spreadsheets here; a spreadsheet marked not shared is invisible, as
Drive hides files one cannot open (404, not 403).
"""

from __future__ import annotations

import copy
import csv
import io
import re
from collections.abc import Mapping
from typing import Any

from . import errors, fieldmask
from .a1 import Rect
from .cells import parse_user_entered
from .store import (
    DEFAULT_COLUMNS,
    DEFAULT_ROWS,
    SPREADSHEET_MIME,
    Sheet,
    Spreadsheet,
    Store,
    new_sheet_properties,
    rfc3339,
)

Params = Mapping[str, list[str]]

_CLAUSE = re.compile(
    r"""^\s*(?:
      mimeType\s*=\s*(?P<q1>["'])(?P<mime>.*?)(?P=q1)
    | name\s*=\s*(?P<q2>["'])(?P<name>.*?)(?P=q2)
    | name\s+contains\s+(?P<q3>["'])(?P<contains>.*?)(?P=q3)
    | (?P<q4>["'])(?P<parent1>.*?)(?P=q4)\s+in\s+parents
    | parents\s+in\s+(?P<q5>["'])(?P<parent2>.*?)(?P=q5)
    | trashed\s*=\s*(?P<trashed>true|false)
    )\s*$""",
    re.VERBOSE | re.IGNORECASE,
)
_EXPORTS = {"text/csv": ",", "text/tab-separated-values": "\t"}


def _param(params: Params, name: str) -> str | None:
    values = params.get(name)
    return values[-1] if values else None


def _file_json(book: Spreadsheet) -> dict[str, Any]:
    return {
        "kind": "drive#file",
        "id": book.spreadsheet_id,
        "name": book.title,
        "mimeType": SPREADSHEET_MIME,
        "parents": ["root"],
        "trashed": False,
        "createdTime": rfc3339(book.created),
        "modifiedTime": rfc3339(book.modified),
    }


def _shape(resource: dict[str, Any], params: Params, default: tuple[str, ...]) -> dict[str, Any]:
    fields = _param(params, "fields")
    if fields:
        try:
            return fieldmask.select(resource, fieldmask.parse(fields))  # type: ignore[no-any-return]
        except fieldmask.FieldMaskError as exc:
            raise errors.ApiError(
                400, "Invalid field selection " + fields, drive_reason="invalidParameter"
            ) from exc
    return {key: resource[key] for key in default if key in resource}


def _visible(store: Store, file_id: str) -> Spreadsheet:
    book = store.find(file_id)
    if book is None or not book.shared:
        raise errors.drive_not_found(file_id)
    return book


def create(store: Store, params: Params, body: object) -> dict[str, Any]:
    spec = body if isinstance(body, dict) else {}
    mime = spec.get("mimeType") or SPREADSHEET_MIME
    if mime != SPREADSHEET_MIME:
        raise errors.ApiError(
            400,
            f"The Sheets API emulator stores only Google Sheets files, not {mime}.",
            drive_reason="badRequest",
        )
    book = store.create(str(spec.get("name") or "Untitled spreadsheet"))
    return _shape(_file_json(book), params, ("kind", "id", "name", "mimeType"))


def get(store: Store, file_id: str, params: Params) -> dict[str, Any]:
    return _shape(_file_json(_visible(store, file_id)), params, ("kind", "id", "name", "mimeType"))


def delete(store: Store, file_id: str) -> None:
    _visible(store, file_id)
    store.delete(file_id)


def copy_file(store: Store, file_id: str, params: Params, body: object) -> dict[str, Any]:
    source = _visible(store, file_id)
    spec = body if isinstance(body, dict) else {}
    clone = store.create(str(spec.get("name") or f"Copy of {source.title}"))
    clone.properties = {**copy.deepcopy(source.properties), "title": clone.title}
    clone.sheets = [
        Sheet(copy.deepcopy(s.properties), s.grid.copy(), list(s.merges)) for s in source.sheets
    ]
    clone.named_ranges = copy.deepcopy(source.named_ranges)
    return _shape(_file_json(clone), params, ("kind", "id", "name", "mimeType"))


def _matches(book: Spreadsheet, query: str) -> bool:
    if not query.strip():
        return True
    for clause in re.split(r"\s+and\s+", query.strip(), flags=re.IGNORECASE):
        match = _CLAUSE.match(clause)
        if match is None:
            raise errors.ApiError(400, "Invalid Value", drive_reason="invalid")
        groups = match.groupdict()
        if groups["mime"] is not None and groups["mime"] != SPREADSHEET_MIME:
            return False
        if groups["name"] is not None and groups["name"] != book.title:
            return False
        if groups["contains"] is not None and groups["contains"].lower() not in book.title.lower():
            return False
        if (groups["parent1"] or groups["parent2"]) not in (None, "root"):
            return False
        if groups["trashed"] is not None and groups["trashed"].lower() == "true":
            return False
    return True


def list_files(store: Store, params: Params) -> dict[str, Any]:
    query = _param(params, "q") or ""
    books = [b for b in store.spreadsheets.values() if b.shared and _matches(b, query)]
    size = max(1, min(int(_param(params, "pageSize") or 100), 1000))
    start = int(_param(params, "pageToken") or 0)
    page = books[start : start + size]
    resource: dict[str, Any] = {
        "kind": "drive#fileList",
        "incompleteSearch": False,
        "files": [_file_json(b) for b in page],
    }
    if start + size < len(books):
        resource["nextPageToken"] = str(start + size)
    if _param(params, "fields"):
        return _shape(resource, params, ())
    resource["files"] = [
        {k: f[k] for k in ("kind", "id", "name", "mimeType")} for f in resource["files"]
    ]
    return resource


def comments(store: Store, file_id: str, params: Params) -> dict[str, Any]:
    _visible(store, file_id)
    return _shape({"kind": "drive#commentList", "comments": []}, params, ("kind", "comments"))


def export(store: Store, file_id: str, params: Params) -> tuple[bytes, str]:
    """The first sheet as CSV or TSV: formatted values over the used rectangle."""
    book = _visible(store, file_id)
    mime = _param(params, "mimeType") or ""
    delimiter = _EXPORTS.get(mime)
    if delimiter is None:
        raise errors.ApiError(
            400,
            "The Sheets API emulator exports only text/csv and text/tab-separated-values, "
            f"not {mime or 'nothing'}.",
            drive_reason="badRequest",
        )
    sheet = book.sheets[0]
    rows, cols = sheet.grid.used_rows, sheet.grid.used_cols
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    for r in range(rows):
        cells = sheet.grid.block(Rect(r, r + 1, 0, cols))[0] if cols else []
        writer.writerow(
            [
                ""
                if cell is None
                else str(book.render(sheet, r, c, cell, "FORMATTED_VALUE", "FORMATTED_STRING"))
                for c, cell in enumerate(cells)
            ]
        )
    return out.getvalue().removesuffix("\r\n").encode("utf-8"), f"{mime}; charset=utf-8"


def import_csv(store: Store, file_id: str, data: bytes, content_type: str) -> dict[str, Any]:
    """Drive v2 `files.update` with `convert=true`: the CSV replaces the whole spreadsheet."""
    book = _visible(store, file_id)
    kind = content_type.split(";")[0].strip().lower()
    delimiter = _EXPORTS.get(kind)
    if delimiter is None:
        raise errors.ApiError(
            400,
            f"The Sheets API emulator imports only CSV or TSV uploads, not {kind or 'nothing'}.",
            drive_reason="badRequest",
        )
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=delimiter))
    height = max(DEFAULT_ROWS, len(rows))
    width = max(DEFAULT_COLUMNS, max((len(r) for r in rows), default=0))
    sheet = Sheet(new_sheet_properties(book.new_sheet_id(), book.title, 0, height, width))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.grid.set(r, c, parse_user_entered(value))
    book.sheets = [sheet]
    book.named_ranges = []
    book.touch()
    return {
        "kind": "drive#file",
        "id": book.spreadsheet_id,
        "title": book.title,
        "mimeType": SPREADSHEET_MIME,
        "createdDate": rfc3339(book.created),
        "modifiedDate": rfc3339(book.modified),
    }
