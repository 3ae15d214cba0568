"""Cloud Functions entry point: target `pronto` (HTTP, served by functions-framework).

Thin on purpose: the routes, auth and enrichment live in the `pronto_sheets` package.
"""

from __future__ import annotations

import functions_framework.aio
from starlette.requests import Request
from starlette.responses import Response

from pronto_sheets.routes import service_for_this_loop
from pronto_sheets.settings import Settings

# Read at start so a malformed variable stops the deploy with its name, not the first call.
SETTINGS = Settings.from_env()


@functions_framework.aio.http
async def pronto(request: Request) -> Response:
    """POST /enrich, POST /fill, GET /healthz: see README and openapi.yaml."""
    return await service_for_this_loop(lambda: SETTINGS).handle(request)
