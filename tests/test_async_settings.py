"""The async lane's settings: on only with a public URL, and never without its secret."""

from __future__ import annotations

import pytest

from pronto_sheets.errors import SettingsError
from pronto_sheets.settings import Settings

URL = "https://europe-west1-demo.cloudfunctions.net/pronto/"
SECRET = "b3f1c0ffee0123456789abcdef"


def test_without_a_public_url_fills_stay_on_the_sync_lane() -> None:
    """No PRONTO_PUBLIC_URL: no async lane, whatever else is set."""
    assert Settings.from_env({"PRONTO_WEBHOOK_SECRET": SECRET}).async_lane is None


def test_a_public_url_and_a_secret_give_the_webhook_address() -> None:
    """The webhook Pronto is given is the public URL, /webhooks/pronto/, and the secret."""
    lane = Settings.from_env(
        {
            "PRONTO_PUBLIC_URL": URL,
            "PRONTO_WEBHOOK_SECRET": SECRET,
            "PRONTO_ASYNC_POLL_AFTER_S": "30",
        }
    ).async_lane
    assert lane is not None
    assert lane.webhook_url == f"{URL.rstrip('/')}/webhooks/pronto/{SECRET}"
    assert lane.poll_after_s == 30.0
    assert SECRET not in repr(lane)


def test_a_public_url_without_a_secret_stops_the_start_naming_the_variable() -> None:
    """The function refuses to start rather than take webhooks nobody can authenticate."""
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"PRONTO_PUBLIC_URL": URL})
    assert "PRONTO_WEBHOOK_SECRET" in raised.value.message
    assert "unset PRONTO_PUBLIC_URL" in raised.value.message


@pytest.mark.parametrize("secret", ["short", "has a space in it 0123", "slash/in/it/0123456789"])
def test_a_secret_that_cannot_sit_in_a_url_path_is_refused(secret: str) -> None:
    """A secret too short to guess-proof, or not URL-path-safe, is refused by name."""
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"PRONTO_PUBLIC_URL": URL, "PRONTO_WEBHOOK_SECRET": secret})
    assert raised.value.message.startswith("PRONTO_WEBHOOK_SECRET must be")


def test_a_public_url_that_is_not_an_address_is_refused() -> None:
    """A value that is not an http(s) URL names PRONTO_PUBLIC_URL."""
    with pytest.raises(SettingsError, match="PRONTO_PUBLIC_URL must be"):
        Settings.from_env({"PRONTO_PUBLIC_URL": "my-function", "PRONTO_WEBHOOK_SECRET": SECRET})
