"""Which Google account the Sheets client acts as: a service-account key file, or
Application Default Credentials (on Google Cloud, the account the function runs as)."""

from __future__ import annotations

import json
from pathlib import Path

import google.auth
import google.auth.exceptions
from google.auth.credentials import Credentials
from google.oauth2 import service_account

from pronto_sheets.errors import SheetsCredentialsError

SCOPES = (
    "https://www.googleapis.com/auth/spreadsheets",
    "https://www.googleapis.com/auth/drive.readonly",
)


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
