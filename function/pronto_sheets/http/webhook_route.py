"""POST /webhooks/pronto/{secret}: Pronto's async results, taken once and only from Pronto.

Pronto documents no webhook signature and no retry policy
(https://docs.prontohq.com/api-reference/endpoints/enrichments/single), so the route
authenticates the delivery itself, in three steps, and changes nothing unless all pass:
- the path carries this deployment's secret (`PRONTO_WEBHOOK_SECRET`; compared in
  constant time): otherwise 404 `unknown_webhook`, as for any path that does not exist;
- the body names an `enrichment_id` this deployment submitted: otherwise 404
  `unknown_enrichment`;
- its `custom` is the correlation token made for that submission's contact: otherwise
  409 `correlation_mismatch`.
A genuine duplicate or late delivery (an id already settled, with its own token) gets
`200 {"ok": true, "duplicate": true}` and changes nothing: a 4xx would only make the
sender retry it.
A valid result is stored before the 2xx is sent (then the submission is settled and the
credits charged), so an acknowledged answer is never lost. A body that is not JSON, or
not a result, is a 400; nothing a caller sends makes a 5xx. A store that cannot keep the
answer is a 503 `store_unavailable`: Pronto may send it again, and the poller asks for it.
"""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import JSONResponse

from pronto_sheets.enrich.async_lane import AsyncLane, WebhookRefused
from pronto_sheets.errors import MalformedRequest, RequestTooLarge, StoreError

WEBHOOK_PREFIX = "/webhooks/pronto/"
# What the request log shows instead of the path: the secret never reaches a log.
WEBHOOK_ROUTE = "/webhooks/pronto/{secret}"


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def is_webhook_path(path: str) -> bool:
    return path.startswith(WEBHOOK_PREFIX)


async def handle_webhook(lane: AsyncLane | None, path: str, request: Request) -> JSONResponse:
    """Answer one delivery (see the module docstring)."""
    from pronto_sheets.http.routes import read_json_body  # the one body reader

    secret = path.removeprefix(WEBHOOK_PREFIX)
    if lane is None or not hmac.compare_digest(
        secret.encode(), lane.config.webhook_secret.encode()
    ):
        return _error(
            404,
            "unknown_webhook",
            "There is no webhook at this address. Pronto's results are taken only at the "
            "address this deployment gave Pronto with each submission.",
        )
    if request.method != "POST":
        response = _error(405, "method_not_allowed", "This webhook only accepts POST requests.")
        response.headers["Allow"] = "POST"
        return response
    try:
        body = await read_json_body(request)
    except RequestTooLarge as exc:
        return _error(413, exc.code, exc.message)
    except MalformedRequest:
        return _error(
            400,
            "malformed_webhook",
            "The body must be one of Pronto's results as a JSON object, with its "
            '"enrichment_id", "status" and "custom". Nothing was changed.',
        )
    try:
        taken = await lane.accept_webhook(body)
    except WebhookRefused as refused:
        return _error(refused.status, refused.code, refused.message)
    except StoreError:
        return _error(
            503,
            "store_unavailable",
            "The result could not be stored just now, so it was not taken; send it again "
            "later (the function also asks Pronto for it).",
        )
    # A duplicate (already settled, right token) is acknowledged too, so the sender
    # stops retrying it; "duplicate" says that nothing changed.
    return JSONResponse({"ok": True, "duplicate": not taken})
