"""Fixtures for the Sheets API emulator: one served process per test session, reset before
each test, and a small client for its `/_emulator/` control API.

Test modules load them with `pytest_plugins = ["tests.sheets_fixtures"]`. Fixtures:
`sheets_emulator_process` (session: the served process), `sheets_emulator` (per test: the
emulator emptied, as a `SheetsEmulator`) and `emulated_gspread` (a gspread client on it).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

import gspread
import httpx
import pytest

from pronto_sheets.sheets.client import open_gspread_client
from pronto_sheets.sheets.http_client import RetryPolicy
from tests.support.servers import FUNCTION_DIR, ServedProcess, free_port, serve_process

# Fast retries for tests: same shape as production, waits in milliseconds.
FAST_RETRY = RetryPolicy(
    attempts=4, timeout=10.0, wait_initial=0.01, wait_max=0.05, wait_jitter=0.0
)


class SheetsEmulator:
    """The emulator as tests see it: its base URL and its control API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=10.0)

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.request(method, path, json=body)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        """Forget every spreadsheet, counter, quota and queued fault."""
        self._call("POST", "/_emulator/reset")

    def create_spreadsheet(
        self,
        sheets: dict[str, list[list[Any]]] | None = None,
        *,
        spreadsheet_id: str | None = None,
        title: str = "Contacts",
        value_input: str = "USER_ENTERED",
        sizes: dict[str, tuple[int, int]] | None = None,
    ) -> str:
        """A spreadsheet whose sheets hold `rows` (sheet title -> rows); returns its id."""
        specs = []
        for name, rows in (sheets or {"Sheet1": []}).items():
            spec: dict[str, Any] = {"title": name, "rows": rows}
            if sizes and name in sizes:
                spec["rowCount"], spec["columnCount"] = sizes[name]
            specs.append(spec)
        body: dict[str, Any] = {"title": title, "sheets": specs, "valueInputOption": value_input}
        if spreadsheet_id is not None:
            body["spreadsheetId"] = spreadsheet_id
        return str(self._call("POST", "/_emulator/spreadsheets", body)["spreadsheetId"])

    def cells(self, spreadsheet_id: str, sheet: str | None = None) -> dict[str, Any]:
        """`{"rows", "formatted", "formulas", ...}` of one sheet, straight from the store."""
        params = {"sheet": sheet} if sheet is not None else None
        response = self.http.get(f"/_emulator/spreadsheets/{spreadsheet_id}/cells", params=params)
        response.raise_for_status()
        return dict(response.json())

    def set_shared(self, spreadsheet_id: str, shared: bool) -> None:
        self._call("POST", f"/_emulator/spreadsheets/{spreadsheet_id}/sharing", {"shared": shared})

    def set_quota(
        self, *, reads_per_minute: int | None = None, writes_per_minute: int | None = None
    ) -> None:
        self._call(
            "POST",
            "/_emulator/quota",
            {"reads_per_minute": reads_per_minute, "writes_per_minute": writes_per_minute},
        )

    def force_faults(
        self,
        count: int,
        status: int,
        *,
        retry_after: str | None = None,
        kinds: tuple[str, ...] = ("read", "write"),
    ) -> None:
        """Answer the next `count` requests of `kinds` with `status`."""
        body = {"count": count, "status": status, "retry_after": retry_after, "kinds": list(kinds)}
        self._call("POST", "/_emulator/faults", body)

    def counters(self) -> dict[str, Any]:
        return dict(self._call("GET", "/_emulator/counters"))

    def requests(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/_emulator/requests")["requests"])


@pytest.fixture(scope="session")
def sheets_emulator_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedProcess]:
    """The emulator served as its own process for the whole session."""
    port = free_port()
    path = os.pathsep.join(p for p in (str(FUNCTION_DIR), os.environ.get("PYTHONPATH")) if p)
    with serve_process(
        [sys.executable, "-m", "pronto_sheets_dev.sheets_emulator", "--port", str(port)],
        port=port,
        ready_path="/_emulator/healthz",
        env={"PYTHONPATH": path},
        log_dir=tmp_path_factory.mktemp("sheets-emulator"),
        name="sheets-emulator",
    ) as served:
        yield served


@pytest.fixture
def sheets_emulator(sheets_emulator_process: ServedProcess) -> Iterator[SheetsEmulator]:
    """The session's emulator, emptied for this test."""
    emulator = SheetsEmulator(sheets_emulator_process.base_url)
    emulator.reset()
    try:
        yield emulator
    finally:
        emulator.http.close()


@pytest.fixture
def emulated_gspread(sheets_emulator: SheetsEmulator) -> gspread.Client:
    """A real gspread client talking to the emulator, with millisecond retries."""
    return open_gspread_client(sheets_api_base_url=sheets_emulator.base_url, retry=FAST_RETRY)
