"""`EmulatorSession`: gspread's requests sent to a local Sheets emulator instead of Google
(tests and local runs set `SHEETS_API_BASE_URL`; then no credentials are looked up)."""

from __future__ import annotations

from typing import Any

import requests

# gspread builds absolute URLs on these two hosts (gspread/urls.py); the emulator serves both.
GOOGLE_API_ORIGINS = ("https://sheets.googleapis.com", "https://www.googleapis.com")


class EmulatorSession(requests.Session):
    """A requests.Session that sends Google API calls to the emulator instead."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def rewrite(self, url: str) -> str:
        for origin in GOOGLE_API_ORIGINS:
            if url.startswith(origin + "/"):
                return self.base_url + url[len(origin) :]
        return url

    def request(  # type: ignore[override]
        self, method: str, url: str, *args: Any, **kwargs: Any
    ) -> requests.Response:
        return super().request(method, self.rewrite(url), *args, **kwargs)
