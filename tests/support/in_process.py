"""The function in this process: functions-framework's ASGI app called through httpx.

`functions_framework.aio.create_asgi_app(target="pronto", source="function/main.py")`
loads the entry point exactly as `functions-framework --source function/main.py` does,
and `httpx.ASGITransport` calls it without a socket (as functions-framework's own tests
do), so coverage of the routes and auth is measured in the test process.

Settings are read from the environment when the entry module is imported: each app is
built after the environment is set, from a fresh import, and one app serves one test
(its `Service` lives in that test's event loop and is closed with it).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from functions_framework.aio import create_asgi_app

from pronto_sheets.http import routes
from tests.support.servers import FUNCTION_DIR

ENTRY_MODULE = "pronto_sheets.http.entry"
BASE_URL = "http://function.test"

# Every variable Settings.from_env reads starts with one of these (or is the one below).
_SETTINGS_PREFIXES = ("PRONTO_", "GOOGLE_")
_SETTINGS_NAMES = ("SHEETS_API_BASE_URL",)


def clear_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove every variable the function reads, so only what a test sets applies."""
    for name in list(os.environ):
        if name.startswith(_SETTINGS_PREFIXES) or name in _SETTINGS_NAMES:
            monkeypatch.delenv(name)


def build_app(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> object:
    """The ASGI app of function/main.py, target `pronto`, with `env` as its only settings."""
    clear_settings(monkeypatch)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # The entry module reads the settings at import: import it afresh for this app.
    monkeypatch.delitem(sys.modules, ENTRY_MODULE, raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))  # create_asgi_app appends function/
    return create_asgi_app(target="pronto", source=str(FUNCTION_DIR / "main.py"))


@asynccontextmanager
async def serving(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], *, token: str | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client calling the in-process function; `token` becomes its Bearer header."""
    app = build_app(monkeypatch, env)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url=BASE_URL, headers=headers, timeout=60
        ) as client:
            yield client
    finally:
        service = routes._services.pop(asyncio.get_running_loop(), None)
        if service is not None:
            await service.aclose()
