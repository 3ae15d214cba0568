"""The gspread client the sheet filler uses, and the threads its blocking calls run on.

`open_gspread_client` builds a `SheetsClient` for Google (credentials.py) or for the local
emulator (emulator_session.py); its HTTP client (http_client.py) retries, counts requests
and raises `SheetsError`s (google_errors.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

import gspread
import requests
from google.auth.credentials import Credentials

from pronto_sheets.sheets.credentials import key_file_account, load_credentials
from pronto_sheets.sheets.emulator_session import EmulatorSession
from pronto_sheets.sheets.http_client import (
    DEFAULT_RETRY_POLICY,
    RequestCounters,
    RetryingHTTPClient,
    RetryPolicy,
)

# gspread blocks (requests), and its retries sleep up to minutes: it gets threads of its
# own, so it never starves the loop's default executor (which resolves Pronto's DNS).
SHEETS_THREADS = 4
_P = ParamSpec("_P")
_T = TypeVar("_T")


@functools.cache
def sheets_executor() -> ThreadPoolExecutor:
    """The bounded pool every blocking Sheets call runs on (built on first use)."""
    return ThreadPoolExecutor(max_workers=SHEETS_THREADS, thread_name_prefix="sheets")


async def run_blocking(fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run a blocking gspread call on the Sheets executor, off the event loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(sheets_executor(), functools.partial(fn, *args, **kwargs))


class SheetsClient(gspread.Client):
    """gspread.Client with our HTTP client, its counters and the account it acts as."""

    def __init__(
        self,
        auth: Credentials | None,
        session: requests.Session | None = None,
        *,
        retry: RetryPolicy = DEFAULT_RETRY_POLICY,
        clock: Callable[[], dt.datetime] | None = None,
        account_hint: str | None = None,
    ) -> None:
        # gspread.Client.__init__ is exactly `self.http_client = http_client(auth, session)`;
        # ours also takes a policy and a clock, so it is built here instead.
        self.http_client: RetryingHTTPClient = RetryingHTTPClient(
            auth, session, policy=retry, clock=clock, account_hint=account_hint
        )
        self.credentials = auth

    @property
    def counters(self) -> RequestCounters:
        """Requests sent through this client so far (reads, writes, Drive, retries)."""
        return self.http_client.counters

    @property
    def service_account_email(self) -> str | None:
        """The email to share spreadsheets with, when the credentials (or the key file
        named in the settings) say it."""
        return self.http_client.account_email


def open_gspread_client(
    *,
    sheets_api_base_url: str | None,
    credentials_file: str | None = None,
    retry: RetryPolicy = DEFAULT_RETRY_POLICY,
    clock: Callable[[], dt.datetime] | None = None,
    key_file_hint: str | None = None,
) -> SheetsClient:
    """A gspread client for Google Sheets, or for the emulator at `sheets_api_base_url`.

    With a base URL no Google credentials are looked up at all; requests to Google's API
    hosts are rewritten to the emulator. Otherwise `credentials_file` (a service-account
    key) or Application Default Credentials are used, with the spreadsheets and
    drive.readonly scopes. Raises SheetsCredentialsError when none can be loaded.
    """
    hint = key_file_account(credentials_file or key_file_hint)
    if sheets_api_base_url:
        session = EmulatorSession(sheets_api_base_url)
        return SheetsClient(None, session, retry=retry, clock=clock, account_hint=hint)
    credentials = load_credentials(credentials_file)
    return SheetsClient(credentials, retry=retry, clock=clock, account_hint=hint)
