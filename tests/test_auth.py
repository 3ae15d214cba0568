"""Who may call: shared tokens and Google ID tokens, in process and served.

Google ID tokens are signed by a key of ours and verified with google-auth against its
certificates, served as Google serves them by a local server (tests/support/
google_tokens.py). The in-process tests (functions-framework's ASGI app through
httpx.ASGITransport) go through every rule; the served ones check that the function
started by functions-framework applies them too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.google_tokens import AUDIENCE, SigningKey, certificate_server
from tests.support.in_process import serving
from tests.support.stack import Function, Simulator, run_function


@pytest.fixture(scope="module")
def keys() -> SigningKey:
    return SigningKey()


@pytest.fixture(scope="module")
def certs_url(keys: SigningKey) -> Iterator[str]:
    with certificate_server(keys) as url:
        yield url


@pytest.fixture(scope="module")
def google_function(
    certs_url: str, simulator: Simulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Function]:
    env = {
        "PRONTO_SHEETS_TOKENS": "",
        "GOOGLE_ALLOWED_AUDIENCES": f"https://fn.example/run,{AUDIENCE}",
        "GOOGLE_ALLOWED_DOMAINS": "acme.io",
        "GOOGLE_ALLOWED_EMAILS": "scheduler@proj.iam.gserviceaccount.com",
        "GOOGLE_CERTS_URL": certs_url,
    }
    with run_function(tmp_path_factory.mktemp("google"), simulator.url, env) as fn:
        yield fn


def _call(fn: Function, token: str) -> httpx.Response:
    return httpx.post(
        f"{fn.url}/enrich", json={"contacts": []}, headers={"Authorization": f"Bearer {token}"}
    )


def test_valid_tokens_are_accepted_and_certificates_cached(
    google_function: Function, keys: SigningKey
) -> None:
    """A domain user's token and the scheduler's token pass; certificates are fetched once."""
    user = _call(google_function, keys.token())
    scheduler = _call(
        google_function,
        keys.token(
            email="scheduler@proj.iam.gserviceaccount.com", hd=None, aud="https://fn.example/run"
        ),
    )
    assert (user.status_code, scheduler.status_code) == (200, 200)
    assert keys.fetches == 1


@pytest.mark.parametrize(
    ("claims", "status", "words"),
    [
        ({"aud": "someone-else"}, 401, "meant for another service"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, 401, "expired"),
        ({"iss": "https://evil.example"}, 401, "not issued by Google"),
        ({"email": "intruder@other.io", "hd": "other.io"}, 403, "intruder@other.io is not allowed"),
        ({"email_verified": False}, 403, "is not allowed"),
    ],
)
def test_bad_tokens_are_refused_with_a_reason(
    google_function: Function, keys: SigningKey, claims: dict[str, Any], status: int, words: str
) -> None:
    """Wrong audience, expiry, issuer or identity: refused, and the message says why."""
    answer = _call(google_function, keys.token(**claims))
    assert answer.status_code == status
    assert words in answer.json()["error"]["message"]


def test_forged_signature_is_refused(google_function: Function, keys: SigningKey) -> None:
    """A token signed by another key does not pass, whatever it claims."""
    other = SigningKey()
    answer = _call(google_function, other.token())
    assert answer.status_code == 401


def test_shared_tokens_are_not_accepted_when_only_google_is_configured(
    google_function: Function, tmp_path: Path
) -> None:
    """With PRONTO_SHEETS_TOKENS empty, a random bearer string is refused."""
    answer = _call(google_function, "guess-123")
    assert answer.status_code == 401
    assert "not valid" in answer.json()["error"]["message"]


# In process: every rule of pronto_sheets/http/auth.py, through the routes.

GOOGLE_ENV = {
    "PRONTO_API_KEY": "unused",
    "PRONTO_BASE_URL": "http://127.0.0.1:9",  # never called: every request has no contacts
    "PRONTO_SHEETS_TOKENS": "",
    "GOOGLE_ALLOWED_AUDIENCES": f"https://fn.example/run,{AUDIENCE}",
    "GOOGLE_ALLOWED_DOMAINS": "acme.io",
    "GOOGLE_ALLOWED_EMAILS": "Scheduler@proj.iam.gserviceaccount.com",
}
SCHEDULER = {"email": "scheduler@proj.iam.gserviceaccount.com", "hd": None}


@pytest.fixture(scope="module")
def local_key() -> Iterator[tuple[SigningKey, str]]:
    """A signing key and its certificate server, for the in-process tests."""
    key = SigningKey()
    with certificate_server(key) as url:
        yield key, url


@pytest.fixture
def key(local_key: tuple[SigningKey, str]) -> SigningKey:
    """The in-process tests' key, its server reset: serving, cached an hour, nothing fetched."""
    signing_key, _ = local_key
    signing_key.fetches, signing_key.failing, signing_key.max_age_s = 0, False, 3600
    return signing_key


@pytest.fixture
def google_env(local_key: tuple[SigningKey, str]) -> dict[str, str]:
    return {**GOOGLE_ENV, "GOOGLE_CERTS_URL": local_key[1]}


async def _enrich_as(http: httpx.AsyncClient, authorization: str | None) -> httpx.Response:
    headers = {} if authorization is None else {"Authorization": authorization}
    return await http.post("/enrich", json={"contacts": []}, headers=headers)


async def test_google_callers_pass_by_domain_or_by_email(
    key: SigningKey,
    google_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A verified acme.io user and the listed scheduler pass; certificates are fetched once."""
    async with serving(monkeypatch, google_env) as http:
        user = await _enrich_as(http, f"Bearer {key.token()}")
        scheduler = await _enrich_as(
            http, f"Bearer {key.token(**SCHEDULER, aud='https://fn.example/run')}"
        )
        as_text = await _enrich_as(http, f"Bearer {key.token(email_verified='true')}")
    assert [r.status_code for r in (user, scheduler, as_text)] == [200, 200, 200]
    assert key.fetches == 1
    callers = [line["caller"] for line in map(json.loads, capsys.readouterr().out.splitlines())]
    assert callers == ["google", "google", "google"]


@pytest.mark.parametrize(
    ("claims", "status", "words"),
    [
        ({"aud": "someone-else"}, 401, "meant for another service"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, 401, "expired"),
        ({"iat": int(time.time()) + 3600, "exp": int(time.time()) + 7200}, 401, "expired"),
        ({"iss": "https://evil.example"}, 401, "The sign-in token was not issued by Google."),
        ({"email": "intruder@other.io", "hd": "other.io"}, 403,
         "The Google account intruder@other.io is not allowed to use this function."),
        ({"email": "ops@acme.io.evil.io", "hd": None}, 403, "ops@acme.io.evil.io is not allowed"),
        ({"email": "ops@evilacme.io", "hd": "evilacme.io"}, 403, "ops@evilacme.io is not allowed"),
        ({"email_verified": False}, 403, "ops@acme.io is not allowed"),
        ({"email": None, "hd": "other.io"}, 403, "The Google account (no email) is not allowed"),
        ({**SCHEDULER, "email_verified": None}, 403, "is not allowed"),
    ],
    ids=["audience", "expired", "not-yet-valid", "issuer", "other-domain", "lookalike-email",
         "lookalike-domain", "unverified", "no-email", "scheduler-unverified"],
)  # fmt: skip
async def test_google_tokens_refused_with_the_reason(
    key: SigningKey,
    google_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    claims: dict[str, Any],
    status: int,
    words: str,
) -> None:
    """Audience, time, issuer and identity are each checked, and the message says which."""
    async with serving(monkeypatch, google_env) as http:
        answer = await _enrich_as(http, f"Bearer {key.token(**claims)}")
    assert answer.status_code == status
    error = answer.json()["error"]
    assert error["code"] == ("unauthenticated" if status == 401 else "forbidden")
    assert words in error["message"]


async def test_a_token_signed_by_another_key_is_refused(
    key: SigningKey, google_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Signed by an unknown key (same kid, or an unknown kid): refused, whatever it claims."""
    async with serving(monkeypatch, google_env) as http:
        same_kid = await _enrich_as(http, f"Bearer {SigningKey().token()}")
        other_kid = await _enrich_as(http, f"Bearer {SigningKey('k2').token()}")
        tampered = key.token().split(".")
        tampered[1] = key.token(email="boss@acme.io").split(".")[1]
        spliced = await _enrich_as(http, f"Bearer {'.'.join(tampered)}")
    for answer in (same_kid, other_kid, spliced):
        assert answer.status_code == 401
        assert "was not accepted" in answer.json()["error"]["message"]


async def test_certificates_unreachable_refuse_then_recover(
    key: SigningKey, google_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With Google's certificates unreachable and none cached: 401, try again; then it passes."""
    key.failing = True
    async with serving(monkeypatch, google_env) as http:
        down = await _enrich_as(http, f"Bearer {key.token()}")
        key.failing = False
        up = await _enrich_as(http, f"Bearer {key.token()}")
    assert down.status_code == 401
    assert down.json()["error"]["message"] == (
        "Could not check the Google sign-in right now. Try again in a minute."
    )
    assert up.status_code == 200
    assert key.fetches == 2


async def test_expired_certificates_are_refetched_and_kept_if_google_fails(
    key: SigningKey, google_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """max-age=0 means fetch again next time; if that fails, the stale certificates serve."""
    key.max_age_s = 0
    async with serving(monkeypatch, google_env) as http:
        first = await _enrich_as(http, f"Bearer {key.token()}")
        second = await _enrich_as(http, f"Bearer {key.token()}")
        key.failing = True
        stale = await _enrich_as(http, f"Bearer {key.token()}")
    assert [r.status_code for r in (first, second, stale)] == [200, 200, 200]
    assert key.fetches == 3


async def test_certificates_without_cache_control_are_kept_an_hour(
    key: SigningKey, google_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No Cache-Control from Google: the certificates are still reused, not fetched per call."""
    key.max_age_s = None
    async with serving(monkeypatch, google_env) as http:
        for _ in range(3):
            assert (await _enrich_as(http, f"Bearer {key.token()}")).status_code == 200
    assert key.fetches == 1


async def test_google_sign_in_without_allowed_accounts_is_refused_saying_so(
    key: SigningKey, google_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An audience but no allowed emails or domains: a valid token gets 403 naming the fix."""
    env = {**google_env, "GOOGLE_ALLOWED_DOMAINS": "", "GOOGLE_ALLOWED_EMAILS": ""}
    async with serving(monkeypatch, env) as http:
        answer = await _enrich_as(http, f"Bearer {key.token()}")
    assert answer.status_code == 403
    assert answer.json()["error"]["message"].startswith(
        "Google sign-in is not enabled for any account yet."
    )


@pytest.mark.parametrize(
    ("authorization", "status", "words"),
    [
        ("Bearer tok-A", 200, None),
        ("bearer tok-B", 200, None),
        ("  Bearer    tok-A  ", 200, None),
        (None, 401, "No access token was sent"),
        ("Bearer", 401, "No access token was sent"),
        ("Bearer    ", 401, "No access token was sent"),
        ("Token tok-A", 401, "No access token was sent"),
        ("tok-A", 401, "No access token was sent"),
        ("Bearer tok-", 401, "The access token is not valid"),
        ("Bearer tok-AB", 401, "The access token is not valid"),
        ("Bearer TOK-A", 401, "The access token is not valid"),
        ("Bearer a.b.c", 401, "The access token is not valid"),  # JWT-shaped, Google not set up
    ],
)
async def test_shared_tokens_match_exactly(
    monkeypatch: pytest.MonkeyPatch, authorization: str | None, status: int, words: str | None
) -> None:
    """Either configured token passes, in any case of "Bearer"; anything else is refused."""
    env = {**GOOGLE_ENV, "PRONTO_SHEETS_TOKENS": " tok-A , tok-B ", "GOOGLE_ALLOWED_AUDIENCES": ""}
    async with serving(monkeypatch, env) as http:
        answer = await _enrich_as(http, authorization)
    assert answer.status_code == status, answer.text
    if words:
        assert answer.json()["error"]["code"] == "unauthenticated"
        assert words in answer.json()["error"]["message"]


async def test_tokens_and_google_together_each_work(
    key: SigningKey, google_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both configured: the shared token passes without a certificate fetch, Google tokens too."""
    async with serving(monkeypatch, {**google_env, "PRONTO_SHEETS_TOKENS": "tok-A"}) as http:
        by_token = await _enrich_as(http, "Bearer tok-A")
        fetched_for_token = key.fetches
        by_google = await _enrich_as(http, f"Bearer {key.token()}")
        neither = await _enrich_as(http, "Bearer not-a-jwt")
    assert (by_token.status_code, by_google.status_code, neither.status_code) == (200, 200, 401)
    assert fetched_for_token == 0
