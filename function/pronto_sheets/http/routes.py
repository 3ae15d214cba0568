"""The HTTP routes of the function: POST /enrich, POST /fill, GET /healthz.

One `Service` per instance (per event loop) owns the enricher — gate, cache, budget,
Pronto client — so every request this instance serves shares Pronto's limits. Errors
(`ProntoSheetsError`, errors.py) become `{"error": {"code", "message"}}` here and only
here, with the HTTP status `http_status` gives; anything unexpected is logged and
answered as a plain 500 without a stack trace or a secret.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from pronto_sheets.enrich.async_lane import AsyncLane
from pronto_sheets.enrich.contacts import Contact, EnrichmentTypes
from pronto_sheets.enrich.engine import Enricher
from pronto_sheets.enrich.gate import Priority
from pronto_sheets.errors import (
    AuthError,
    CallerNotAllowed,
    ContactError,
    MalformedRequest,
    MethodNotAllowed,
    ProntoSheetsError,
    RequestTooLarge,
    SheetFillError,
    SheetsError,
    SpreadsheetNotFound,
    SpreadsheetPermissionDenied,
    StoreError,
    UnknownRoute,
    WorksheetNotFound,
)
from pronto_sheets.http.auth import Authenticator, Caller, GoogleCertificates
from pronto_sheets.http.forget_route import handle_forget
from pronto_sheets.http.webhook_route import WEBHOOK_ROUTE, handle_webhook, is_webhook_path
from pronto_sheets.logs import begin_request, emit, install, log_unexpected
from pronto_sheets.settings import Settings

MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_CONTACTS = 1000
MAX_TIMEOUT_S = 3600.0

# Who the request being served came from (each request runs in its own task, so its own
# context): the audit line of /forget names them.
_caller: contextvars.ContextVar[Caller | None] = contextvars.ContextVar("caller", default=None)

# The one place errors meet HTTP statuses: the most specific class listed wins.
HTTP_STATUS: tuple[tuple[type[ProntoSheetsError], int], ...] = (
    (UnknownRoute, 404),
    (MethodNotAllowed, 405),
    (RequestTooLarge, 413),
    (MalformedRequest, 400),
    (CallerNotAllowed, 403),
    (AuthError, 401),
    (SpreadsheetPermissionDenied, 403),
    (SpreadsheetNotFound, 404),
    (WorksheetNotFound, 404),
    (SheetsError, 502),  # Google failed after retries: never the caller's input
    (SheetFillError, 502),
    (StoreError, 503),  # /forget: the store is down, nothing was deleted; try again
)


def http_status(exc: ProntoSheetsError) -> int:
    """The status of the HTTP contract for an error (500 for one no route should raise)."""
    for kind, status in HTTP_STATUS:
        if isinstance(exc, kind):
            return status
    return 500


# A handler answers with the JSON body and the counts its log line carries.
Answer = tuple[dict[str, Any], dict[str, int]]
Handler = Callable[["Service", dict[str, Any]], Awaitable[Answer]]


@dataclass
class RequestLog:
    """The one JSON log line per request: no names, emails, tokens or keys."""

    route: str
    method: str
    caller: str = "none"
    status: int = 200
    counts: dict[str, int] = field(default_factory=dict)

    def emit(self, started: float) -> None:
        emit(
            "ERROR" if self.status >= 500 else "INFO",
            f"{self.method} {self.route} {self.status}",
            route=self.route,
            caller=self.caller,
            status=self.status,
            duration_ms=round((time.monotonic() - started) * 1000, 1),
            **self.counts,
        )


async def read_json_body(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, refusing oversize bodies before reading them whole."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise RequestTooLarge(_too_large_message())
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise RequestTooLarge(_too_large_message())
        chunks.append(chunk)
    try:
        body = json.loads(b"".join(chunks) or b"null")
        # A lone surrogate ("\ud800") parses, but can be neither hashed nor sent back.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError):
        raise MalformedRequest(
            "The request body is not valid JSON. Send an object like "
            '{"contacts": [{"firstname": "Ada", "lastname": "Lovelace", "domain": "acme.io"}]}.',
            code="malformed_json",
        ) from None
    if not isinstance(body, dict):
        raise MalformedRequest(
            'The request body must be a JSON object, like {"contacts": [...]}.',
            code="malformed_json",
        )
    return body


def _too_large_message() -> str:
    return (
        f"The request is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB. "
        f"Send at most {MAX_CONTACTS} contacts per call."
    )


@dataclass(frozen=True)
class EnrichRequest:
    contacts: list[Contact]
    types: EnrichmentTypes
    priority: Priority
    timeout_s: float | None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> EnrichRequest:
        raw_contacts = body.get("contacts")
        if not isinstance(raw_contacts, list):
            raise MalformedRequest(
                'Send the people to enrich as "contacts": a list of objects with '
                '"firstname", "lastname" and a "domain", "company_name" or "linkedin_url".',
                code="invalid_contacts",
            )
        if len(raw_contacts) > MAX_CONTACTS:
            raise RequestTooLarge(
                f"{len(raw_contacts)} contacts is too many for one call: send at most "
                f"{MAX_CONTACTS} per call and split the rest into further calls.",
                code="too_many_contacts",
            )
        contacts: list[Contact] = []
        for index, raw in enumerate(raw_contacts):
            if not isinstance(raw, dict):
                raise MalformedRequest(
                    f"Contact #{index + 1} is not an object; send each contact as "
                    '{"firstname": ..., "lastname": ..., "domain": ...}.',
                    code="invalid_contacts",
                )
            try:
                contacts.append(Contact.from_mapping(raw))
            except ContactError as exc:
                raise ContactError(f"Contact #{index + 1}: {exc.message}") from None
        types = EnrichmentTypes.parse(body.get("enrichment_type"))
        try:
            priority = Priority.parse(body.get("priority"))
        except ValueError as exc:
            raise MalformedRequest(str(exc), code="invalid_field") from None
        timeout_s = body.get("timeout_s")
        if timeout_s is not None and (
            isinstance(timeout_s, bool)
            or not isinstance(timeout_s, int | float)
            or not 0 < timeout_s <= MAX_TIMEOUT_S
        ):
            raise MalformedRequest(
                f"timeout_s must be a number of seconds between 0 and {MAX_TIMEOUT_S:g}.",
                code="invalid_field",
            )
        return cls(contacts, types, priority, float(timeout_s) if timeout_s else None)


class Service:
    """The function's state for one instance; built lazily inside its event loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._http = httpx.AsyncClient(timeout=10.0)
        self.enricher = Enricher.from_settings(settings)
        # Fills go through Pronto's async endpoints when the function has a public URL.
        self.lane = AsyncLane.beside(self.enricher, settings)
        self.authenticator = Authenticator(
            settings, GoogleCertificates(settings.google_certs_url, self._http)
        )
        self.started = time.time()
        self._project = os.environ.get("GOOGLE_CLOUD_PROJECT")  # for trace ids in log lines
        install()  # the package's `logging` records: JSON, without values (logs.py)

    async def aclose(self) -> None:
        if self.lane is not None:
            await self.lane.aclose()
        await self.enricher.aclose()
        await self._http.aclose()

    async def handle(self, request: Request) -> Response:
        started = time.monotonic()
        path = "/" + request.url.path.strip("/")
        route = path if path in ROUTES else "(unknown)"
        if is_webhook_path(path):
            route = WEBHOOK_ROUTE  # the secret in the path never reaches a log
        log = RequestLog(route=route, method=request.method)
        begin_request(route, request.headers.get("x-cloud-trace-context"), self._project)
        if self.lane is not None:
            self.lane.start_poller()  # lost webhooks are recovered while the instance serves
        try:
            response = await self._dispatch(request, path, log)
        except ProntoSheetsError as exc:
            headers = {"Allow": exc.allow} if isinstance(exc, MethodNotAllowed) else None
            response = JSONResponse(exc.to_json(), status_code=http_status(exc), headers=headers)
        except Exception as exc:
            log_unexpected(exc, "unexpected error serving a request")
            response = JSONResponse(
                {
                    "error": {
                        "code": "internal",
                        "message": "Something went wrong on our side. Try again in a minute.",
                    }
                },
                status_code=500,
            )
        log.status = response.status_code
        log.emit(started)
        return response

    async def _dispatch(self, request: Request, path: str, log: RequestLog) -> Response:
        if is_webhook_path(path):
            return await handle_webhook(self.lane, path, request)
        route = ROUTES.get(path)
        if route is None:
            raise UnknownRoute(
                f"There is nothing at {path}. Use POST /enrich, POST /fill or GET /healthz."
            )
        method, handler, needs_auth = route
        if request.method != method and not (request.method == "HEAD" and method == "GET"):
            allow = "GET, HEAD" if method == "GET" else method
            raise MethodNotAllowed(f"{path} only accepts {method} requests.", allow=allow)
        caller: Caller | None = None
        if needs_auth:
            caller = await self.authenticator.authenticate(request.headers.get("authorization"))
            log.caller = caller.kind
            _caller.set(caller)
        body = await read_json_body(request) if method == "POST" else {}
        payload, counts = await handler(self, body)
        log.counts.update(counts)
        return JSONResponse(payload)


async def _healthz(service: Service, _body: dict[str, Any]) -> Answer:
    settings = service.settings
    store = await service.enricher.store.check()
    return {
        "ok": True,
        # "degraded": answers from memory and Pronto only, spending held to the fallback.
        "store": store.kind,
        "store_status": store.status,
        "store_message": store.message,
        "pronto_key_configured": bool(settings.pronto_api_key),
        "callers_configured": settings.auth_configured,
        # The sidebar's estimate uses the same prices as the budget.
        **{f"credits_per_{name}": price for name, price in settings.credits_per_type.items()},
        "enrichment_types": list(settings.credits_per_type),
        # Fills use Pronto's async endpoints (docs/async-lane.md).
        "async_lane": service.lane is not None,
    }, {}


async def _enrich(service: Service, body: dict[str, Any]) -> Answer:
    parsed = EnrichRequest.parse(body)
    outcome = await service.enricher.enrich(
        parsed.contacts, parsed.types, priority=parsed.priority, timeout_s=parsed.timeout_s
    )
    stats = outcome.stats.to_json()
    payload = {
        "results": [result.to_json() for result in outcome.results],
        "stats": stats,
        "notices": [notice.to_json() for notice in outcome.notices],
    }
    logged = ("contacts", "unique", "cache_hits", "upstream_calls", "pending")
    return payload, {key: stats[key] for key in logged}


async def _fill(service: Service, body: dict[str, Any]) -> Answer:
    from pronto_sheets.http.fill_route import (
        handle_fill,  # gspread is only loaded when a sheet is filled
    )

    summary = await handle_fill(
        body, enricher=service.enricher, settings=service.settings, lane=service.lane
    )
    return summary, {"rows": int(summary.get("rows", 0))}


async def _forget(service: Service, body: dict[str, Any]) -> Answer:
    return await handle_forget(body, enricher=service.enricher, caller=_caller.get())


ROUTES: dict[str, tuple[str, Handler, bool]] = {
    "/enrich": ("POST", _enrich, True),
    "/fill": ("POST", _fill, True),
    "/forget": ("POST", _forget, True),
    "/healthz": ("GET", _healthz, False),
}

_services: dict[asyncio.AbstractEventLoop, Service] = {}


def service_for_this_loop(settings_factory: Callable[[], Settings] = Settings.from_env) -> Service:
    """The instance's `Service`, created on first use inside the serving event loop."""
    loop = asyncio.get_running_loop()
    service = _services.get(loop)
    if service is None:
        service = _services[loop] = Service(settings_factory())
    return service
