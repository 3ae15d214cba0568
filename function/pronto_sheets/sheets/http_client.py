"""`RetryingHTTPClient`: gspread's HTTP client with retries that honour Retry-After
(429, 5xx and transport errors, never other 4xx), request counters, and Google's errors
translated into `SheetsError`s at this boundary (`google_errors.py`)."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import gspread
import requests
import stamina
from google.auth.credentials import Credentials
from gspread.http_client import FileType, HTTPClient, ParamsType

from pronto_sheets.retry_after import parse_retry_after
from pronto_sheets.sheets.credentials import service_account_email
from pronto_sheets.sheets.google_errors import api_status, translate_error

REQUEST_TIMEOUT_SECONDS = 60.0
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
        status = api_status(exc)
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
