"""The HTTP app: Sheets API v4 and Drive on the paths Google serves them, plus the
`/_emulator/` control API (see `control.py`).

Requests are matched on the raw, still-encoded path so a range such as `'A/B'!A1` (sent
as `%27A%2FB%27%21A1`) stays one path segment. Each API request is counted, may be refused
by a forced fault or a quota, then answered with Google's JSON shapes and error bodies.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote_to_bytes

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import batch_update, control, drive, errors, fieldmask, metadata, values
from .quota import Kind, Traffic
from .store import Store

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 10 * 1024 * 1024  # Google's own limit on a request body
_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]

Params = Mapping[str, list[str]]
Answer = dict[str, Any] | tuple[bytes, str] | None
Handler = Callable[["Emulator", Params, bytes, str], Answer]


@dataclass
class Emulator:
    """The state one emulator process serves: spreadsheets and traffic accounting."""

    store: Store = field(default_factory=Store)
    traffic: Traffic = field(default_factory=Traffic)

    def reset(self) -> None:
        self.store.reset()
        self.traffic.reset()


@dataclass(frozen=True)
class _Matched:
    method: str
    kind: Kind
    spreadsheet_id: str | None
    handler: Handler


def _json(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise errors.invalid_argument(
            f"Invalid JSON payload received. Unexpected token at position {getattr(exc, 'pos', 0)}."
        ) from exc


def _split_verb(segment: str, verbs: tuple[str, ...]) -> tuple[str, str | None]:
    head, sep, verb = segment.rpartition(":")
    if sep and verb in verbs:
        return head, verb
    return segment, None


def _sheets_route(method: str, rest: list[str]) -> _Matched | None:
    """The Sheets API method a path under /v4/spreadsheets names, by the path's shape."""
    if not rest:
        if method == "POST":
            return _Matched(
                "spreadsheets.create",
                "write",
                None,
                lambda em, p, b, t: metadata.create(em.store, _json(b)),
            )
        return None
    sid, verb = _split_verb(rest[0], ("batchUpdate",))
    if len(rest) == 1:
        return _spreadsheet_route(method, sid, verb)
    if len(rest) == 2 and verb is None:
        return _values_batch_route(method, sid, rest[1])
    if len(rest) == 3 and verb is None and rest[1] == "values":
        return _values_range_route(method, sid, rest[2])
    if len(rest) == 3 and verb is None and rest[1] == "sheets" and method == "POST":
        sheet_id, copy_action = _split_verb(rest[2], ("copyTo",))
        if copy_action == "copyTo":
            return _Matched(
                "spreadsheets.sheets.copyTo",
                "write",
                sid,
                lambda em, p, b, t: metadata.copy_to(
                    em.store, em.store.get(sid), sheet_id, _json(b)
                ),
            )
    return None


def _spreadsheet_route(method: str, sid: str, verb: str | None) -> _Matched | None:
    """/v4/spreadsheets/{id} and its :batchUpdate."""
    if verb is None and method == "GET":
        return _Matched(
            "spreadsheets.get",
            "read",
            sid,
            lambda em, p, b, t: metadata.get(em.store.get(sid), p),
        )
    if verb == "batchUpdate" and method == "POST":
        return _Matched(
            "spreadsheets.batchUpdate",
            "write",
            sid,
            lambda em, p, b, t: batch_update.batch_update(em.store.get(sid), _json(b)),
        )
    return None


def _values_batch_route(method: str, sid: str, action: str) -> _Matched | None:
    """/v4/spreadsheets/{id}/values:batchGet, :batchUpdate and :batchClear."""
    if action == "values:batchGet" and method == "GET":
        return _Matched(
            "spreadsheets.values.batchGet",
            "read",
            sid,
            lambda em, p, b, t: values.batch_get(em.store.get(sid), p),
        )
    if action == "values:batchUpdate" and method == "POST":
        return _Matched(
            "spreadsheets.values.batchUpdate",
            "write",
            sid,
            lambda em, p, b, t: values.batch_update(em.store.get(sid), _json(b)),
        )
    if action == "values:batchClear" and method == "POST":
        return _Matched(
            "spreadsheets.values.batchClear",
            "write",
            sid,
            lambda em, p, b, t: values.batch_clear(em.store.get(sid), _json(b)),
        )
    return None


def _values_range_route(method: str, sid: str, range_text: str) -> _Matched | None:
    """/v4/spreadsheets/{id}/values/{range}, and its :append and :clear."""
    if method == "GET":
        return _Matched(
            "spreadsheets.values.get",
            "read",
            sid,
            lambda em, p, b, t: values.get(em.store.get(sid), range_text, p),
        )
    if method == "PUT":
        return _Matched(
            "spreadsheets.values.update",
            "write",
            sid,
            lambda em, p, b, t: values.update(em.store.get(sid), range_text, p, _json(b)),
        )
    if method != "POST":
        return None
    target, post_action = _split_verb(range_text, ("append", "clear"))
    if post_action == "append":
        return _Matched(
            "spreadsheets.values.append",
            "write",
            sid,
            lambda em, p, b, t: values.append(em.store.get(sid), target, p, _json(b)),
        )
    if post_action == "clear":
        return _Matched(
            "spreadsheets.values.clear",
            "write",
            sid,
            lambda em, p, b, t: values.clear(em.store.get(sid), target),
        )
    return None


def _drive_route(method: str, rest: list[str]) -> _Matched | None:
    if not rest:
        if method == "GET":
            return _Matched(
                "drive.files.list", "drive", None, lambda em, p, b, t: drive.list_files(em.store, p)
            )
        if method == "POST":
            return _Matched(
                "drive.files.create",
                "drive",
                None,
                lambda em, p, b, t: drive.create(em.store, p, _json(b)),
            )
        return None
    fid = rest[0]
    if len(rest) == 1:
        if method == "GET":
            return _Matched(
                "drive.files.get", "drive", fid, lambda em, p, b, t: drive.get(em.store, fid, p)
            )
        if method == "DELETE":
            return _Matched(
                "drive.files.delete", "drive", fid, lambda em, p, b, t: drive.delete(em.store, fid)
            )
        return None
    if len(rest) == 2:
        action = rest[1]
        if action == "copy" and method == "POST":
            return _Matched(
                "drive.files.copy",
                "drive",
                fid,
                lambda em, p, b, t: drive.copy_file(em.store, fid, p, _json(b)),
            )
        if action == "export" and method == "GET":
            return _Matched(
                "drive.files.export",
                "drive",
                fid,
                lambda em, p, b, t: drive.export(em.store, fid, p),
            )
        if action == "comments" and method == "GET":
            return _Matched(
                "drive.comments.list",
                "drive",
                fid,
                lambda em, p, b, t: drive.comments(em.store, fid, p),
            )
    return None


def match(method: str, segments: list[str]) -> _Matched | None:
    """The API method a request path names, or None for paths Google does not serve."""
    if segments[:2] == ["v4", "spreadsheets"]:
        return _sheets_route(method, segments[2:])
    if segments[:3] == ["drive", "v3", "files"]:
        return _drive_route(method, segments[3:])
    if (
        segments[:4] == ["upload", "drive", "v2", "files"]
        and len(segments) == 5
        and method in ("PUT", "PATCH")
    ):
        fid = segments[4]
        return _Matched(
            "drive.files.update",
            "drive",
            fid,
            lambda em, p, b, t: drive.import_csv(em.store, fid, b, t),
        )
    return None


def error_response(exc: errors.ApiError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.code, headers=exc.headers)


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    too_big = errors.invalid_argument(
        f"Request payload size exceeds the limit: {MAX_BODY_BYTES} bytes."
    )
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_big
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


def _render(answer: Answer, params: Params, kind: Kind) -> Response:
    if answer is None:
        return Response(status_code=204)
    if isinstance(answer, tuple):
        content, media_type = answer
        return Response(content, media_type=media_type)
    fields = params.get("fields")
    if fields and kind != "drive":  # Drive handlers apply their own `fields` defaults
        try:
            answer = fieldmask.select(answer, fieldmask.parse(fields[-1]))
        except fieldmask.FieldMaskError as exc:
            raise errors.invalid_argument(f"Invalid field selection {fields[-1]}") from exc
    return JSONResponse(answer)


async def api(request: Request) -> Response:
    """Every Sheets and Drive request: match, count, admit, answer."""
    emulator: Emulator = request.app.state.emulator
    raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
    raw_segments = raw_path.split(b"?", 1)[0].strip(b"/").split(b"/")
    segments = [unquote_to_bytes(s).decode("utf-8", "replace") for s in raw_segments]
    path = "/" + "/".join(segments)
    matched = match(request.method, segments)
    if matched is None:
        return error_response(errors.ApiError(404, f"Method not found: {request.method} {path}"))
    params = parse_qs(request.url.query, keep_blank_values=True)
    try:
        emulator.traffic.admit(matched.kind)
        body = await _read_body(request)
        answer = matched.handler(emulator, params, body, request.headers.get("content-type", ""))
        response = _render(answer, params, matched.kind)
    except errors.ApiError as exc:
        response = error_response(exc)
    except Exception:  # an emulator bug: answer like Google's 500 and leave a traceback
        logger.exception("Sheets API emulator failed on %s %s", request.method, path)
        response = error_response(errors.ApiError(500, "Internal error encountered."))
    status = response.status_code
    emulator.traffic.record(
        kind=matched.kind,
        method=matched.method,
        http_method=request.method,
        path=path,
        status=status,
        spreadsheet_id=matched.spreadsheet_id,
    )
    return response


def create_app(emulator: Emulator | None = None) -> Starlette:
    """The ASGI app serving one emulator's state (a fresh one unless given)."""
    app = Starlette(
        routes=[
            *control.routes(),
            Route("/{path:path}", api, methods=_ALL_METHODS),
        ]
    )
    app.state.emulator = emulator or Emulator()
    return app
