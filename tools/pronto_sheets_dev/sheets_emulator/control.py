"""The `/_emulator/` control API that tests use to set up, inspect and disturb the emulator.

    GET    /_emulator/healthz                  {"status": "ok"}
    POST   /_emulator/reset                    forget spreadsheets, counters, quotas, faults
    POST   /_emulator/spreadsheets             create one from rows (see `create_spreadsheet`)
    GET    /_emulator/spreadsheets/{id}        summary: title, shared, sheets and their sizes
    DELETE /_emulator/spreadsheets/{id}
    GET    /_emulator/spreadsheets/{id}/cells  one sheet's cells (?sheet=Title, default first)
    POST   /_emulator/spreadsheets/{id}/sharing
                                               {"shared": false}: Sheets 403, Drive 404
    GET    /_emulator/quota                    {"reads_per_minute", "writes_per_minute",
    POST   /_emulator/quota                     "retry_after"}; null = unlimited
    GET    /_emulator/faults                   the queued faults
    POST   /_emulator/faults                   {"count": 2, "status": 429, "retry_after": "1",
                                                "kinds": ["read", "write"]}
    DELETE /_emulator/faults
    GET    /_emulator/counters                 {"reads", "writes", "drive", "total",
                                                "by_method", "by_status"}
    POST   /_emulator/counters/reset           zero the counters and the request log
    GET    /_emulator/requests                 {"requests": [{"seq", "time", "monotonic",
                                                "kind", "method", "http_method", "path",
                                                "status", "spreadsheet_id"}]}

Control requests are never counted, faulted or quota-limited.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .a1 import cell_name
from .cells import json_number, parse_raw, parse_user_entered
from .quota import KINDS, Fault, Kind
from .store import DEFAULT_COLUMNS, DEFAULT_ROWS, Sheet

if TYPE_CHECKING:
    from .app import Emulator


class _BadControl(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _emulator(request: Request) -> Emulator:
    return request.app.state.emulator  # type: ignore[no-any-return]


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _BadControl(400, f"The body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise _BadControl(400, "The body must be a JSON object.")
    return body


def _fail(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": status, "message": message}}, status_code=status)


def _endpoint(handler: Any) -> Any:
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)  # type: ignore[no-any-return]
        except _BadControl as exc:
            return _fail(exc.status, str(exc))

    return wrapped


def _optional_int(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _BadControl(400, f"{key} must be a whole number of at least 0, or null.")
    return value


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def reset(request: Request) -> Response:
    _emulator(request).reset()
    return JSONResponse({"status": "ok"})


async def create_spreadsheet(request: Request) -> Response:
    """Body: {"spreadsheetId"?, "title"?, "shared"?: true, "valueInputOption"?: "USER_ENTERED",
    "sheets": [{"title", "rows": [[...]], "rowCount"?, "columnCount"?}]}. An existing id is
    replaced. Rows are read as typed by a person (USER_ENTERED) unless RAW is asked."""
    body = await _body(request)
    emulator = _emulator(request)
    option = body.get("valueInputOption", "USER_ENTERED")
    if option not in ("RAW", "USER_ENTERED"):
        raise _BadControl(400, "valueInputOption must be RAW or USER_ENTERED.")
    parse = parse_raw if option == "RAW" else parse_user_entered
    specs = body.get("sheets") or [{"title": "Sheet1", "rows": []}]
    if not isinstance(specs, list) or not all(isinstance(s, dict) for s in specs):
        raise _BadControl(400, "sheets must be a list of objects.")
    sizes = []
    for spec in specs:
        rows = spec.get("rows") or []
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _BadControl(400, "rows must be a list of lists.")
        width = max((len(r) for r in rows), default=0)
        sizes.append(
            {
                "title": spec.get("title"),
                "gridProperties": {
                    "rowCount": spec.get("rowCount") or max(DEFAULT_ROWS, len(rows)),
                    "columnCount": spec.get("columnCount") or max(DEFAULT_COLUMNS, width),
                },
            }
        )
    spreadsheet_id = body.get("spreadsheetId")
    if spreadsheet_id is not None:
        emulator.store.delete(str(spreadsheet_id))
    book = emulator.store.create(
        str(body.get("title") or "Untitled spreadsheet"),
        spreadsheet_id=None if spreadsheet_id is None else str(spreadsheet_id),
        sheets=sizes,
    )
    book.shared = bool(body.get("shared", True))
    for sheet, spec in zip(book.sheets, specs, strict=True):
        for r, row in enumerate(spec.get("rows") or []):
            for c, value in enumerate(row):
                if value is None:
                    continue
                try:
                    sheet.grid.set(r, c, parse(value))
                except ValueError as exc:
                    raise _BadControl(
                        400, f"Cell {cell_name(r, c)} cannot hold {value!r}."
                    ) from exc
    return JSONResponse(_summary(emulator, book.spreadsheet_id), status_code=201)


def _summary(emulator: Emulator, spreadsheet_id: str) -> dict[str, Any]:
    book = emulator.store.find(spreadsheet_id)
    if book is None:
        raise _BadControl(404, f"No spreadsheet {spreadsheet_id} in the emulator.")
    return {
        "spreadsheetId": book.spreadsheet_id,
        "title": book.title,
        "shared": book.shared,
        "sheets": [
            {
                "sheetId": s.sheet_id,
                "title": s.title,
                "rowCount": s.row_count,
                "columnCount": s.column_count,
            }
            for s in book.sheets
        ],
    }


async def spreadsheet(request: Request) -> Response:
    emulator = _emulator(request)
    spreadsheet_id = request.path_params["spreadsheet_id"]
    if request.method == "DELETE":
        _summary(emulator, spreadsheet_id)
        emulator.store.delete(spreadsheet_id)
        return JSONResponse({"status": "deleted"})
    return JSONResponse(_summary(emulator, spreadsheet_id))


def _plain(value: str | float | bool) -> str | int | float | bool:
    return json_number(value) if isinstance(value, float) else value


async def cells(request: Request) -> Response:
    """The raw cells of one sheet: `rows` holds what each cell stores (formulas as their
    `=...` text, numbers as numbers), `formulas` names the cells that hold a formula, and
    `formatted` is what a person sees. Rows are trimmed like the API's values."""
    emulator = _emulator(request)
    book = emulator.store.find(request.path_params["spreadsheet_id"])
    if book is None:
        raise _BadControl(
            404, f"No spreadsheet {request.path_params['spreadsheet_id']} in the emulator."
        )
    title = request.query_params.get("sheet")
    sheet: Sheet | None = book.sheets[0] if title is None else book.sheet_by_title(title)
    if sheet is None:
        raise _BadControl(404, f"No sheet named {title!r} in spreadsheet {book.spreadsheet_id}.")
    rows: list[list[Any]] = []
    formatted: list[list[Any]] = []
    formulas: list[str] = []
    for r in range(sheet.grid.used_rows):
        stored = sheet.grid.row_slice(r, 0, sheet.column_count)
        rows.append(["" if c is None else _plain(c.value) for c in stored])
        formatted.append(
            [
                ""
                if c is None
                else book.render(sheet, r, i, c, "FORMATTED_VALUE", "FORMATTED_STRING")
                for i, c in enumerate(stored)
            ]
        )
        formulas.extend(
            cell_name(r, i) for i, c in enumerate(stored) if c is not None and c.kind == "formula"
        )
    return JSONResponse(
        {
            "spreadsheetId": book.spreadsheet_id,
            "sheet": sheet.title,
            "sheetId": sheet.sheet_id,
            "rowCount": sheet.row_count,
            "columnCount": sheet.column_count,
            "rows": rows,
            "formatted": formatted,
            "formulas": formulas,
        }
    )


async def sharing(request: Request) -> Response:
    emulator = _emulator(request)
    spreadsheet_id = request.path_params["spreadsheet_id"]
    book = emulator.store.find(spreadsheet_id)
    if book is None:
        raise _BadControl(404, f"No spreadsheet {spreadsheet_id} in the emulator.")
    body = await _body(request)
    if not isinstance(body.get("shared"), bool):
        raise _BadControl(400, 'Send {"shared": true} or {"shared": false}.')
    book.shared = body["shared"]
    return JSONResponse(_summary(emulator, spreadsheet_id))


async def quota(request: Request) -> Response:
    traffic = _emulator(request).traffic
    if request.method == "GET":
        return JSONResponse(traffic.quota_json())
    body = await _body(request)
    retry_after = body.get("retry_after")
    return JSONResponse(
        traffic.set_quota(
            _optional_int(body, "reads_per_minute"),
            _optional_int(body, "writes_per_minute"),
            None if retry_after is None else str(retry_after),
        )
    )


async def faults(request: Request) -> Response:
    traffic = _emulator(request).traffic
    if request.method == "DELETE":
        traffic.faults.clear()
    elif request.method == "POST":
        body = await _body(request)
        count = _optional_int(body, "count") or 1
        status = body.get("status", 503)
        if not isinstance(status, int) or not 400 <= status <= 599:
            raise _BadControl(400, "status must be an HTTP error status such as 429 or 503.")
        kinds = body.get("kinds") or ["read", "write"]
        if not isinstance(kinds, list) or any(k not in KINDS for k in kinds):
            raise _BadControl(400, f"kinds must be a list drawn from {list(KINDS)}.")
        retry_after = body.get("retry_after")
        chosen: tuple[Kind, ...] = tuple(k for k in KINDS if k in kinds)
        traffic.faults.append(
            Fault(count, status, None if retry_after is None else str(retry_after), chosen)
        )
    return JSONResponse({"faults": [f.to_json() for f in traffic.faults]})


async def counters(request: Request) -> Response:
    traffic = _emulator(request).traffic
    if request.method == "POST":
        traffic.reset_counters()
    return JSONResponse(traffic.counters())


async def requests_log(request: Request) -> Response:
    return JSONResponse({"requests": _emulator(request).traffic.log})


def routes() -> list[BaseRoute]:
    return [
        Route("/_emulator/healthz", _endpoint(healthz), methods=["GET"]),
        Route("/_emulator/reset", _endpoint(reset), methods=["POST"]),
        Route("/_emulator/spreadsheets", _endpoint(create_spreadsheet), methods=["POST"]),
        Route(
            "/_emulator/spreadsheets/{spreadsheet_id}",
            _endpoint(spreadsheet),
            methods=["GET", "DELETE"],
        ),
        Route("/_emulator/spreadsheets/{spreadsheet_id}/cells", _endpoint(cells), methods=["GET"]),
        Route(
            "/_emulator/spreadsheets/{spreadsheet_id}/sharing", _endpoint(sharing), methods=["POST"]
        ),
        Route("/_emulator/quota", _endpoint(quota), methods=["GET", "POST"]),
        Route("/_emulator/faults", _endpoint(faults), methods=["GET", "POST", "DELETE"]),
        Route("/_emulator/counters", _endpoint(counters), methods=["GET"]),
        Route("/_emulator/counters/reset", _endpoint(counters), methods=["POST"]),
        Route("/_emulator/requests", _endpoint(requests_log), methods=["GET"]),
    ]
