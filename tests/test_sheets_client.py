"""The gspread client factory: retries that honour Retry-After, no retries for 403/404,
errors a person can act on, request counters, and how credentials are found.

Waits are recorded through stamina's own retry hooks (what stamina really slept), never
by timing the test; Retry-After dates are measured from an injected clock.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import stamina.instrumentation
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pronto_sheets.errors import (
    SheetsCredentialsError,
    SheetsQuotaExhausted,
    SheetsUnavailable,
    SpreadsheetNotFound,
    SpreadsheetPermissionDenied,
)
from pronto_sheets.sheets.client import SheetsClient, open_gspread_client
from pronto_sheets.sheets.credentials import load_credentials, service_account_email
from pronto_sheets.sheets.emulator_session import EmulatorSession
from pronto_sheets.sheets.http_client import RequestCounts, RetryPolicy, retry_after_seconds
from tests.support.servers import free_port

if TYPE_CHECKING:
    from tests.sheets_fixtures import SheetsEmulator

# The emulator fixtures (one served process per session), whether or not conftest imports them.

SERVICE_ACCOUNT = "filler@pronto-test.iam.gserviceaccount.com"
# Production's shape with millisecond waits and no jitter, so waits are exact.
FAST_RETRY = RetryPolicy(
    attempts=4, timeout=10.0, wait_initial=0.01, wait_max=0.05, wait_jitter=0.0
)
NOW = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


@pytest.fixture
def waits() -> Iterator[list[float]]:
    """Every wait stamina performs during the test, in seconds, in order."""
    recorded: list[float] = []
    previous = stamina.instrumentation.get_on_retry_hooks()
    stamina.instrumentation.set_on_retry_hooks([lambda details: recorded.append(details.wait_for)])
    try:
        yield recorded
    finally:
        stamina.instrumentation.set_on_retry_hooks(previous)


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    """A service-account key file with a freshly made private key (never sent anywhere)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path = tmp_path / "service_account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "pronto-test",
                "private_key_id": "0" * 40,
                "private_key": pem,
                "client_email": SERVICE_ACCOUNT,
                "client_id": "1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    return path


def _client(emulator: SheetsEmulator, policy: RetryPolicy = FAST_RETRY) -> SheetsClient:
    return open_gspread_client(
        sheets_api_base_url=emulator.base_url, retry=policy, clock=lambda: NOW
    )


def test_retries_honour_retry_after_in_seconds(
    sheets_emulator: SheetsEmulator, waits: list[float]
) -> None:
    """Two 429s saying `Retry-After: 1` are waited out, a second each, then the read succeeds."""
    book = sheets_emulator.create_spreadsheet({"Sheet1": [["Ada"]]})
    client = _client(sheets_emulator)
    sheet = client.open_by_key(book)
    sheets_emulator.force_faults(2, 429, retry_after="1")
    assert sheet.values_get("A1")["values"] == [["Ada"]]
    assert waits == [1.0, 1.0]
    assert sheets_emulator.counters()["by_status"] == {"200": 2, "429": 2}
    assert client.counters.snapshot() == RequestCounts(reads=4, writes=0, drive=0, retries=2)


def test_retry_after_as_a_date_is_measured_from_the_clock(
    sheets_emulator: SheetsEmulator, waits: list[float]
) -> None:
    """`Retry-After: <HTTP date>` one second after the clock's now means a one-second wait."""
    book = sheets_emulator.create_spreadsheet({"Sheet1": [["Ada"]]})
    sheet = _client(sheets_emulator).open_by_key(book)
    later = email.utils.format_datetime(NOW + dt.timedelta(seconds=1), usegmt=True)
    sheets_emulator.force_faults(1, 503, retry_after=later, kinds=("write",))
    sheet.values_update("A2", params={"valueInputOption": "RAW"}, body={"values": [["Bob"]]})
    assert waits == [1.0]
    assert sheets_emulator.cells(book)["rows"] == [["Ada"], ["Bob"]]


def test_5xx_without_retry_after_backs_off_exponentially(
    sheets_emulator: SheetsEmulator, waits: list[float]
) -> None:
    """Without Retry-After, waits double from the policy's first wait (no jitter here)."""
    book = sheets_emulator.create_spreadsheet({"Sheet1": [["Ada"]]})
    sheet = _client(sheets_emulator).open_by_key(book)
    sheets_emulator.force_faults(3, 500)
    assert sheet.values_get("A1")["values"] == [["Ada"]]
    assert waits == pytest.approx([0.01, 0.02, 0.04])


def test_a_missing_spreadsheet_is_not_retried_and_says_where_the_id_is(
    sheets_emulator: SheetsEmulator, waits: list[float]
) -> None:
    """404 fails at once with a SpreadsheetNotFound that explains where the id is."""
    client = _client(sheets_emulator)
    with pytest.raises(SpreadsheetNotFound) as missing:
        client.open_by_key("1NoSuchSpreadsheet0000000000000000000000000")
    assert missing.value.message == (
        "The spreadsheet was not found: check the id in its URL (the part between /d/ and "
        "/edit) and that it was not deleted."
    )
    assert (waits, sheets_emulator.counters()["total"]) == ([], 1)


def test_an_unshared_spreadsheet_is_not_retried_and_names_the_account(
    sheets_emulator: SheetsEmulator, key_file: Path, waits: list[float]
) -> None:
    """403 fails at once, asking to share the spreadsheet with the service account's email."""
    book = sheets_emulator.create_spreadsheet({"Sheet1": [["Ada"]]})
    sheets_emulator.set_shared(book, False)
    credentials = load_credentials(str(key_file))
    client = SheetsClient(credentials, EmulatorSession(sheets_emulator.base_url), retry=FAST_RETRY)
    with pytest.raises(SpreadsheetPermissionDenied) as denied:
        client.open_by_key(book)
    assert denied.value.message == (
        f"Share the spreadsheet with {SERVICE_ACCOUNT} as an editor (Share button, top "
        "right), then run the fill again."
    )
    assert denied.value.status == 403
    assert (waits, sheets_emulator.counters()["total"]) == ([], 1)


def test_429s_that_never_stop_end_in_a_plain_quota_error(
    sheets_emulator: SheetsEmulator, waits: list[float]
) -> None:
    """After the policy's attempts, persistent 429s raise SheetsQuotaExhausted saying to wait."""
    book = sheets_emulator.create_spreadsheet({"Sheet1": [["Ada"]]})
    sheet = _client(sheets_emulator).open_by_key(book)
    sheets_emulator.set_quota(reads_per_minute=0)
    with pytest.raises(SheetsQuotaExhausted) as exhausted:
        sheet.values_get("A1")
    assert str(exhausted.value).startswith(
        "Google Sheets is limiting how many requests this service may make per minute and "
        "kept refusing after several retries (Quota exceeded for quota metric 'Read requests'"
    )
    assert str(exhausted.value).endswith("Wait a minute, then run it again.")
    assert (len(waits), sheets_emulator.counters()["by_status"]["429"]) == (3, 4)


def test_a_retry_after_longer_than_the_cap_fails_at_once(
    sheets_emulator: SheetsEmulator, waits: list[float]
) -> None:
    """A 429 asking for an hour is not waited for: the quota error is raised immediately."""
    book = sheets_emulator.create_spreadsheet({"Sheet1": [["Ada"]]})
    sheet = _client(sheets_emulator).open_by_key(book)
    sheets_emulator.force_faults(1, 429, retry_after="3600")
    with pytest.raises(SheetsQuotaExhausted):
        sheet.values_get("A1")
    assert waits == []


def test_network_failures_are_retried_then_reported(waits: list[float]) -> None:
    """A server that cannot be reached is tried `attempts` times, then SheetsUnavailable."""
    client = open_gspread_client(
        sheets_api_base_url=f"http://127.0.0.1:{free_port()}", retry=FAST_RETRY
    )
    with pytest.raises(SheetsUnavailable) as unreachable:
        client.open_by_key("1AnySpreadsheetId000000000000000000000000000")
    assert str(unreachable.value).startswith("Could not reach Google Sheets (ConnectionError")
    assert len(waits) == FAST_RETRY.attempts - 1
    assert client.counters.snapshot().retries == FAST_RETRY.attempts - 1


def test_the_client_counts_sheets_reads_writes_and_drive_calls(
    sheets_emulator: SheetsEmulator,
) -> None:
    """Reads, writes and Drive calls are tallied on the client for the fill summary."""
    book = sheets_emulator.create_spreadsheet({"Sheet1": [["Ada"]]})
    client = _client(sheets_emulator)
    sheet = client.open_by_key(book)
    sheet.values_batch_get(["A1", "B1"])
    sheet.values_batch_update(
        {"valueInputOption": "RAW", "data": [{"range": "B1", "values": [["x"]]}]}
    )
    sheet.values_append("A1", params={"valueInputOption": "RAW"}, body={"values": [["Bob"]]})
    client.list_spreadsheet_files()
    assert client.counters.snapshot() == RequestCounts(reads=2, writes=2, drive=1, retries=0)


def test_an_emulator_url_needs_no_google_credentials(
    sheets_emulator: SheetsEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With SHEETS_API_BASE_URL set, no credentials are looked up even when none exist."""
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/key.json")
    book = sheets_emulator.create_spreadsheet({"Sheet1": [["Ada"]]}, title="Leads")
    client = open_gspread_client(sheets_api_base_url=sheets_emulator.base_url)
    assert client.open_by_key(book).title == "Leads"
    assert client.service_account_email is None


def test_missing_google_credentials_say_how_to_provide_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without an emulator and without credentials the error says how to give some."""
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/key.json")
    with pytest.raises(SheetsCredentialsError) as missing:
        open_gspread_client(sheets_api_base_url=None)
    assert str(missing.value) == (
        "No Google credentials were found. On Google Cloud the service account the function "
        "runs as is used automatically; on a laptop pass --credentials with a service-account "
        "key file, or run `gcloud auth application-default login`."
    )


def test_an_unreadable_key_file_is_named(tmp_path: Path) -> None:
    """A key file that is not a service-account key is named in the error."""
    bad = tmp_path / "key.json"
    bad.write_text("{}")
    with pytest.raises(SheetsCredentialsError) as unreadable:
        open_gspread_client(sheets_api_base_url=None, credentials_file=str(bad))
    assert str(unreadable.value).startswith(f"Cannot read the service-account key file {bad} (")


def test_a_key_file_gives_the_service_account_email(key_file: Path) -> None:
    """A service-account key yields the email people must share their spreadsheets with."""
    client = open_gspread_client(sheets_api_base_url=None, credentials_file=str(key_file))
    assert client.service_account_email == SERVICE_ACCOUNT
    assert service_account_email(load_credentials(str(key_file))) == SERVICE_ACCOUNT


def test_credentials_without_a_known_email_give_none() -> None:
    """Compute Engine credentials before their first refresh say "default": no email yet."""

    class BeforeRefresh:
        service_account_email = "default"

    assert service_account_email(BeforeRefresh()) is None
    assert service_account_email(None) is None


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        (" 0 ", 0.0),
        (email.utils.format_datetime(NOW + dt.timedelta(seconds=90), usegmt=True), 90.0),
        (email.utils.format_datetime(NOW - dt.timedelta(seconds=90), usegmt=True), 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(
    header: str | None, seconds: float | None
) -> None:
    """Retry-After is delta-seconds or an HTTP date (past dates mean now); junk is ignored."""
    assert retry_after_seconds(header, now=NOW) == seconds


def test_impossible_retry_policies_are_refused() -> None:
    """A policy with no attempts or inverted waits is a ValueError naming the field."""
    with pytest.raises(ValueError, match="attempts must be at least 1"):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError, match="wait_initial <= wait_max"):
        RetryPolicy(wait_initial=5.0, wait_max=1.0)
