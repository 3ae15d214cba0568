"""Google ID tokens signed by a key of our own, and a local server for its certificates.

Google's certificate endpoint cannot be reached from the tests, so a real HTTP server on
127.0.0.1 serves our signing key in Google's format (kid → PEM), and tokens are signed
with google-auth exactly as Google signs them (RS256, `kid` header). The function is
pointed at it with GOOGLE_CERTS_URL.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import crypt, jwt

# What ScriptApp.getIdentityToken() carries as `aud`: the script's OAuth client id.
AUDIENCE = "1234567890-script.apps.googleusercontent.com"


class SigningKey:
    """An RSA key that signs ID tokens as Google would, and what its certificate server saw."""

    def __init__(self, key_id: str = "k1") -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.key_id = key_id
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
        # The certificate server's behaviour and what it served.
        self.fetches = 0
        self.max_age_s: int | None = 3600  # None: no Cache-Control header
        self.failing = False

    def token(self, **claims: Any) -> str:
        """A signed ID token of a verified acme.io user; `claims` override (None drops one)."""
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
        payload = {k: v for k, v in payload.items() if v is not None}
        signer = crypt.RSASigner.from_string(self.private_pem, key_id=self.key_id)
        return jwt.encode(signer, payload).decode()


@contextmanager
def certificate_server(key: SigningKey) -> Iterator[str]:
    """Serve `key`'s certificate as Google does (JSON kid → PEM, Cache-Control); yield the URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            key.fetches += 1
            if key.failing:
                self.send_error(503)
                return
            body = json.dumps({key.key_id: key.public_pem}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if key.max_age_s is not None:
                self.send_header("Cache-Control", f"public, max-age={key.max_age_s}")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/oauth2/v1/certs"
    finally:
        server.shutdown()
        server.server_close()
