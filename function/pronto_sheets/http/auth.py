"""Who may call the function, checked on every request.

Two kinds of caller:
- a shared secret (`Authorization: Bearer <token>`), compared in constant time against
  each of PRONTO_SHEETS_TOKENS (several, so a token can be rotated without downtime).
  Formulas use this: Apps Script custom functions cannot get an identity token.
- a Google ID token (sidebar and triggers via ScriptApp.getIdentityToken, Cloud
  Scheduler via OIDC), verified with google-auth: signature against Google's cached
  certificates, expiry, issuer, audience in GOOGLE_ALLOWED_AUDIENCES, and the email in
  GOOGLE_ALLOWED_EMAILS or its hosted domain in GOOGLE_ALLOWED_DOMAINS.
With neither configured every call is refused: the function is never open by default.
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from google.auth import exceptions as google_exceptions
from google.auth import jwt as google_jwt

from pronto_sheets.errors import CallerNotAllowed, Unauthenticated
from pronto_sheets.settings import Settings

GOOGLE_ISSUERS = ("accounts.google.com", "https://accounts.google.com")
_JWT_SHAPE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
_MAX_AGE = re.compile(r"max-age=(\d+)")


@dataclass(frozen=True)
class Caller:
    kind: Literal["token", "google"]
    email: str | None = None


class GoogleCertificates:
    """Google's token-signing certificates, fetched once and kept as long as Google says."""

    def __init__(
        self, url: str, http: httpx.AsyncClient, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._url = url
        self._http = http
        self._clock = clock
        self._certs: dict[str, str] = {}
        self._expires = 0.0

    async def get(self) -> dict[str, str]:
        if self._certs and self._clock() < self._expires:
            return self._certs
        try:
            response = await self._http.get(self._url, timeout=10.0)
            response.raise_for_status()
            certs = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            if self._certs:
                return self._certs  # a stale certificate beats refusing everyone
            raise Unauthenticated(
                "Could not check the Google sign-in right now. Try again in a minute."
            ) from exc
        match = _MAX_AGE.search(response.headers.get("Cache-Control", ""))
        self._certs = {str(k): str(v) for k, v in certs.items()}
        self._expires = self._clock() + (int(match.group(1)) if match else 3600)
        return self._certs


class Authenticator:
    """Decides whether an `Authorization` header belongs to an allowed caller."""

    def __init__(self, settings: Settings, certificates: GoogleCertificates) -> None:
        self._tokens = tuple(token.encode() for token in settings.sheets_tokens)
        self._audiences = settings.google_allowed_audiences
        self._emails = settings.google_allowed_emails
        self._domains = settings.google_allowed_domains
        self._certificates = certificates

    async def authenticate(self, authorization: str | None) -> Caller:
        if not self._tokens and not self._audiences:
            raise Unauthenticated(
                "This function has no callers configured, so it refuses every call. "
                "Set PRONTO_SHEETS_TOKENS (a shared token) or GOOGLE_ALLOWED_AUDIENCES with "
                "GOOGLE_ALLOWED_EMAILS or GOOGLE_ALLOWED_DOMAINS where it runs.",
                code="auth_not_configured",
            )
        scheme, _, credential = (authorization or "").strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise Unauthenticated(
                "No access token was sent. Paste the function's token in Pronto ▸ Settings."
            )
        if self._matches_shared_token(credential):
            return Caller("token")
        if self._audiences and _JWT_SHAPE.match(credential):
            return await self._google_caller(credential)
        raise Unauthenticated(
            "The access token is not valid. Copy the current token into Pronto ▸ Settings."
        )

    def _matches_shared_token(self, credential: str) -> bool:
        given = credential.encode()
        # Compare against every token, always, so timing reveals neither which nor whether.
        matched = False
        for token in self._tokens:
            matched |= hmac.compare_digest(given, token)
        return matched

    async def _google_caller(self, token: str) -> Caller:
        certs = await self._certificates.get()
        try:
            claims: dict[str, Any] = google_jwt.decode(  # type: ignore[no-untyped-call]
                token, certs=certs, audience=list(self._audiences), clock_skew_in_seconds=10
            )
        except (google_exceptions.GoogleAuthError, ValueError) as exc:
            raise Unauthenticated(
                "The Google sign-in token was not accepted (expired or meant for another "
                "service). Reload the sheet and try again."
            ) from exc
        if claims.get("iss") not in GOOGLE_ISSUERS:
            raise Unauthenticated("The sign-in token was not issued by Google.")
        email = str(claims.get("email", "")).lower()
        verified = claims.get("email_verified") in (True, "true")
        domain = str(claims.get("hd", "")).lower()
        if verified and email and email in self._emails:
            return Caller("google", email)
        if verified and domain and domain in self._domains:
            return Caller("google", email)
        if not self._emails and not self._domains:
            raise CallerNotAllowed(
                "Google sign-in is not enabled for any account yet. Ask your admin to set "
                "GOOGLE_ALLOWED_EMAILS or GOOGLE_ALLOWED_DOMAINS on the function."
            )
        raise CallerNotAllowed(
            f"The Google account {email or '(no email)'} is not allowed to use this function. "
            "Ask your admin to add it to GOOGLE_ALLOWED_EMAILS or its domain to "
            "GOOGLE_ALLOWED_DOMAINS."
        )
