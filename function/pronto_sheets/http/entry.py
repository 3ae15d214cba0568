"""The function served by functions-framework: target `pronto` (HTTP).

`function/main.py` re-exports it for Cloud Functions; `pronto-sheets serve` and the demo
pass this file as `--source`, so an installed copy serves exactly what is deployed.
"""

from __future__ import annotations

import functions_framework.aio
from starlette.requests import Request
from starlette.responses import Response

from pronto_sheets.http.routes import service_for_this_loop
from pronto_sheets.settings import Settings

# Read at start so a malformed variable stops the deploy with its name, not the first call.
SETTINGS = Settings.from_env()


@functions_framework.aio.http
async def pronto(request: Request) -> Response:
    """POST /enrich, POST /fill, GET /healthz: see README and openapi.yaml."""
    return await service_for_this_loop(lambda: SETTINGS).handle(request)
