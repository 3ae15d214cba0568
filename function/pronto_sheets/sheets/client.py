"""The gspread client the sheet filler uses: Google credentials or the local emulator,
retries that honour Retry-After, request counters, and errors a person can act on.

The HTTP client translates gspread's APIError and requests' transport errors at this
boundary into `SheetsError`s (errors.py; the original stays as `__cause__`), so every call
made through the client, gspread's own included, raises those; `translate_error` and
`sheets_errors` do the same for the few errors gspread raises itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

import google.auth
import google.auth.exceptions
import gspread
import requests
import stamina
from google.auth.credentials import Credentials
from google.oauth2 import service_account
from gspread.http_client import FileType, HTTPClient, ParamsType

from pronto_sheets.errors import (
    SheetsCredentialsError,
    SheetsError,
    SheetsQuotaExhausted,
    SheetsUnavailable,
    SpreadsheetNotFound,
    SpreadsheetPermissionDenied,
)
from pronto_sheets.retry_after import parse_retry_after

SCOPES = (
    "https://www.googleapis.com/auth/spreadsheets",
    "https://www.googleapis.com/auth/drive.readonly",
)
# gspread builds absolute URLs on these two hosts (gspread/urls.py); the emulator serves both.
GOOGLE_API_ORIGINS = ("https://sheets.googleapis.com", "https://www.googleapis.com")
REQUEST_TIMEOUT_SECONDS = 60.0
# gspread blocks (requests), and its retries sleep up to minutes: it gets threads of its
# own, so it never starves the loop's default executor (which resolves Pronto's DNS).
SHEETS_THREADS = 4
_P = ParamSpec("_P")
_T = TypeVar("_T")
_SPREADSHEET_IN_URL = re.compile(r"/(?:v4/spreadsheets|drive/v[23]/files)/([A-Za-z0-9_-]+)")
_RETRIED_TRANSPORT_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to retry 429, 5xx and transport errors (never other 4xx).

    Waits grow from `wait_initial` by doubling up to `wait_max`, plus up to `wait_jitter`
    of random jitter; a Retry-After header replaces the computed wait unless it asks for
    more than `max_retry_after` seconds, in which case the error is raised at once.
    `attempts` and `timeout` (seconds since the first try) both bound the whole call.
    """

    attempts: int = 6
    timeout: float = 120.0
    wait_initial: float = 1.0
    wait_max: float = 32.0
    wait_jitter: float = 1.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be at least 1")
        if self.timeout <= 0 or self.wait_initial < 0 or self.wait_max < self.wait_initial:
            raise ValueError("RetryPolicy needs timeout > 0 and 0 <= wait_initial <= wait_max")


DEFAULT_RETRY_POLICY = RetryPolicy()


@dataclass(frozen=True)
class RequestCounts:
    """Requests sent so far (each retry counts: it is a request Google sees)."""

    reads: int
    writes: int
    drive: int
    retries: int


class RequestCounters:
    """Thread-safe tallies of Sheets reads and writes, Drive calls and retries."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reads = self._writes = self._drive = self._retries = 0

    def count(self, method: str, url: str) -> None:
        kind = request_kind(method, url)
        with self._lock:
            if kind == "read":
                self._reads += 1
            elif kind == "write":
                self._writes += 1
            else:
                self._drive += 1

    def count_retry(self) -> None:
        with self._lock:
            self._retries += 1

    def snapshot(self) -> RequestCounts:
        with self._lock:
            return RequestCounts(self._reads, self._writes, self._drive, self._retries)


def request_kind(method: str, url: str) -> str:
    """`read` or `write` as Google's Sheets quotas count them, or `drive`."""
    parts = urlsplit(url)
    if "/v4/spreadsheets" not in parts.path:
        return "drive"
    if method.upper() == "GET" or parts.path.endswith("ByDataFilter"):
        return "read"
    return "write"


def retry_after_seconds(value: str | None, *, now: dt.datetime) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or HTTP-date), None if absent
    or unreadable; a date in the past means 0."""
    return parse_retry_after(value, now=now)


def _status(exc: gspread.exceptions.APIError) -> int:
    # gspread sets code -1 when the body is not JSON (a proxy's HTML 502, say).
    return int(exc.response.status_code)


class RetryingHTTPClient(HTTPClient):
    """gspread's HTTPClient with stamina retries that honour Retry-After, and counters.

    gspread builds it as `http_client(auth, session)`; the keyword arguments have defaults.
    """

    def __init__(
        self,
        auth: Credentials | None,
        session: requests.Session | None = None,
        *,
        policy: RetryPolicy = DEFAULT_RETRY_POLICY,
        clock: Callable[[], dt.datetime] | None = None,
        account_hint: str | None = None,
    ) -> None:
        super().__init__(auth, session)  # type: ignore[arg-type]
        self.account_hint = account_hint
        self.credentials = auth
        self.policy = policy
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.counters = RequestCounters()
        self.timeout = REQUEST_TIMEOUT_SECONDS

    @property
    def account_email(self) -> str | None:
        """Who spreadsheets must be shared with: the credentials' account, else the hint."""
        return service_account_email(self.credentials) or self.account_hint

    def _retry_wait(self, exc: Exception) -> bool | float:
        """stamina's backoff hook: False = raise now, True = usual backoff, float = wait."""
        if isinstance(exc, _RETRIED_TRANSPORT_ERRORS):
            return True
        if not isinstance(exc, gspread.exceptions.APIError):
            return False
        status = _status(exc)
        if status != 429 and status < 500:
            return False
        wait = retry_after_seconds(exc.response.headers.get("Retry-After"), now=self.clock())
        if wait is not None and wait > self.policy.max_retry_after:
            return False
        return True if wait is None else wait

    def request(
        self,
        method: str,
        endpoint: str,
        params: ParamsType | None = None,
        data: bytes | None = None,
        json: Mapping[str, Any] | None = None,
        files: FileType = None,
        headers: MutableMapping[str, str] | None = None,
    ) -> requests.Response:
        """One API call, retried per the policy; raises SheetsError subclasses."""
        policy = self.policy
        try:
            for attempt in stamina.retry_context(
                on=self._retry_wait,
                attempts=policy.attempts,
                timeout=policy.timeout,
                wait_initial=policy.wait_initial,
                wait_max=policy.wait_max,
                wait_jitter=policy.wait_jitter,
            ):
                with attempt:
                    if attempt.num > 1:
                        self.counters.count_retry()
                    self.counters.count(method, endpoint)
                    return super().request(method, endpoint, params, data, json, files, headers)
        except (gspread.exceptions.APIError, requests.exceptions.RequestException) as exc:
            found = _SPREADSHEET_IN_URL.search(urlsplit(endpoint).path)
            raise translate_error(
                exc,
                spreadsheet_id=found.group(1) if found else None,
                account_email=self.account_email,
            ) from exc
        raise AssertionError("stamina.retry_context ended without an attempt")  # pragma: no cover


@functools.cache
def sheets_executor() -> ThreadPoolExecutor:
    """The bounded pool every blocking Sheets call runs on (built on first use)."""
    return ThreadPoolExecutor(max_workers=SHEETS_THREADS, thread_name_prefix="sheets")


async def run_blocking(fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run a blocking gspread call on the Sheets executor, off the event loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(sheets_executor(), functools.partial(fn, *args, **kwargs))


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


def load_credentials(credentials_file: str | None) -> Credentials:
    """A service-account key file when given, else Application Default Credentials."""
    if credentials_file:
        try:
            key: Credentials = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                credentials_file, scopes=list(SCOPES)
            )
            return key
        except (OSError, ValueError, KeyError) as exc:
            raise SheetsCredentialsError(
                f"Cannot read the service-account key file {credentials_file} ({exc}). "
                "Download a JSON key for the service account from the Google Cloud console "
                "(IAM > Service accounts > Keys) and pass its path."
            ) from exc
    try:
        credentials, _ = google.auth.default(scopes=list(SCOPES))
    except google.auth.exceptions.DefaultCredentialsError as exc:
        raise SheetsCredentialsError(
            "No Google credentials were found. On Google Cloud the service account the "
            "function runs as is used automatically; on a laptop pass --credentials with a "
            "service-account key file, or run `gcloud auth application-default login`."
        ) from exc
    found: Credentials = credentials
    return found


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


def key_file_account(key_file: str | None) -> str | None:
    """The `client_email` of a service-account key file (read for nothing else)."""
    if not key_file:
        return None
    try:
        email = json.loads(Path(key_file).read_text(encoding="utf-8")).get("client_email")
    except (OSError, ValueError, AttributeError):
        return None
    return email if isinstance(email, str) and "@" in email else None


def service_account_email(credentials: object) -> str | None:
    """The email a spreadsheet must be shared with, when the credentials know it.

    Compute Engine (Cloud Functions) credentials report "default" until their first token
    refresh; any request to Google performs one, so after a failed call it is known.
    """
    value = getattr(credentials, "service_account_email", None)
    return value if isinstance(value, str) and "@" in value else None


def _google_message(exc: gspread.exceptions.APIError) -> str:
    message = exc.error.get("message") if isinstance(exc.error, Mapping) else None
    return str(message or exc.response.reason or "no details")


def translate_error(
    exc: BaseException, *, spreadsheet_id: str | None = None, account_email: str | None = None
) -> SheetsError:
    """The SheetsError a person can act on for a gspread, requests or permission error."""
    if isinstance(exc, SheetsError):
        return exc
    which = f"spreadsheet {spreadsheet_id}" if spreadsheet_id else "the spreadsheet"
    if isinstance(exc, PermissionError) and isinstance(exc.__cause__, gspread.exceptions.APIError):
        exc = exc.__cause__  # gspread's open_by_key turns a 403 into a bare PermissionError
    if isinstance(exc, gspread.exceptions.SpreadsheetNotFound):
        return _not_found(404)
    if isinstance(exc, gspread.exceptions.APIError):
        status = _status(exc)
        detail = _google_message(exc)
        if status == 404:
            return _not_found(status)
        if status == 403:
            who = account_email or "the service account this service runs as"
            return SpreadsheetPermissionDenied(
                f"Share the spreadsheet with {who} as an editor (Share button, top right), "
                "then run the fill again.",
                status=status,
            )
        if status == 429:
            return SheetsQuotaExhausted(
                "Google Sheets is limiting how many requests this service may make per minute "
                f"and kept refusing after several retries ({detail}). Wait a minute, then run "
                "it again.",
                status=status,
            )
        if status >= 500 or status == 408:
            return SheetsUnavailable(
                f"Google Sheets kept failing (HTTP {status}: {detail}). Try again in a few "
                "minutes.",
                status=status,
            )
        return SheetsError(
            f"Google Sheets refused the request for {which} (HTTP {status}: {detail}).",
            status=status,
        )
    if isinstance(exc, requests.exceptions.RequestException):
        return SheetsUnavailable(
            f"Could not reach Google Sheets ({type(exc).__name__}: {exc}). Check the network "
            "connection and try again in a few minutes."
        )
    return SheetsError(f"Google Sheets failed for {which}: {exc}")


def _not_found(status: int) -> SpreadsheetNotFound:
    return SpreadsheetNotFound(
        "The spreadsheet was not found: check the id in its URL (the part between /d/ and "
        "/edit) and that it was not deleted.",
        status=status,
    )


@contextmanager
def sheets_errors(
    *, spreadsheet_id: str | None = None, account_email: str | None = None
) -> Iterator[None]:
    """Translate gspread, requests and permission errors raised inside into SheetsError."""
    try:
        yield
    except (gspread.exceptions.GSpreadException, PermissionError, requests.RequestException) as exc:
        raise translate_error(
            exc, spreadsheet_id=spreadsheet_id, account_email=account_email
        ) from exc
