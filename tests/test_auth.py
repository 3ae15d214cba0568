"""Google ID tokens: verified with google-auth against certificates from a local server.

Google's certificate endpoint cannot be reached here, so a real HTTP server on
127.0.0.1 serves our own signing key in Google's format (kid → PEM), and tokens are
signed with google-auth exactly as Google signs them (RS256, kid header).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import crypt, jwt

from tests.support.stack import Function, Simulator, run_function

AUDIENCE = "1234567890-script.apps.googleusercontent.com"


class _Keys:
    def __init__(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        self.public_pem = (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        self.fetches = 0

    def token(self, **claims: Any) -> str:
        now = int(time.time())
        payload = {
            "iss": "https://accounts.google.com",
            "aud": AUDIENCE,
            "sub": "1",
            "iat": now,
            "exp": now + 600,
            "email": "ops@acme.io",
            "email_verified": True,
            "hd": "acme.io",
            **claims,
        }
        signer = crypt.RSASigner.from_string(self.private_pem, key_id="k1")
        return jwt.encode(signer, payload).decode()


@pytest.fixture(scope="module")
def keys() -> _Keys:
    return _Keys()


@pytest.fixture(scope="module")
def certs_url(keys: _Keys) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            keys.fetches += 1
            body = json.dumps({"k1": keys.public_pem}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "public, max-age=3600")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/oauth2/v1/certs"
    server.shutdown()


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
    google_function: Function, keys: _Keys
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
    google_function: Function, keys: _Keys, claims: dict[str, Any], status: int, words: str
) -> None:
    """Wrong audience, expiry, issuer or identity: refused, and the message says why."""
    answer = _call(google_function, keys.token(**claims))
    assert answer.status_code == status
    assert words in answer.json()["error"]["message"]


def test_forged_signature_is_refused(google_function: Function, keys: _Keys) -> None:
    """A token signed by another key does not pass, whatever it claims."""
    other = _Keys()
    answer = _call(google_function, other.token())
    assert answer.status_code == 401


def test_shared_tokens_are_not_accepted_when_only_google_is_configured(
    google_function: Function, tmp_path: Path
) -> None:
    """With PRONTO_SHEETS_TOKENS empty, a random bearer string is refused."""
    answer = _call(google_function, "guess-123")
    assert answer.status_code == 401
    assert "not valid" in answer.json()["error"]["message"]
