"""Contacts as people type them, and the normalised form that decides "same person".

Two rows are the same contact when their normalised names, company, domain and
LinkedIn URL agree: `" ada  LOVELACE "` at `https://www.Acme.io/about` is the same
person as `"Ada Lovelace"` at `acme.io`. That identity keys deduplication, single-flight
and the cache, so a recalculation or a duplicate row never pays twice.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

EnrichmentType = Literal["email", "phone"]
ENRICHMENT_TYPES: tuple[EnrichmentType, ...] = ("email", "phone")

_SPACES = re.compile(r"\s+")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN_OK = re.compile(rf"^{_LABEL}(?:\.{_LABEL})+$")


class ContactError(ValueError):
    """A request field has the wrong shape; the message says which and how to fix it."""


def clean_text(value: object) -> str:
    """Trim and collapse inner white space; non-strings (numbers from a sheet) become text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        raise ContactError("a contact field is true/false; it should be text.")
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        raise ContactError("a contact field is not text; send names, company and domain as text.")
    return _SPACES.sub(" ", unicodedata.normalize("NFC", value)).strip()


def normalize_domain(value: str) -> str:
    """The bare host of a website as people paste it: `https://www.Acme.io:443/about` → `acme.io`.

    Returns "" when nothing host-like is left, so a junk domain counts as missing
    rather than being sent to Pronto.
    """
    text = clean_text(value).lower()
    if not text:
        return ""
    if "@" in text and "://" not in text:
        text = text.rsplit("@", 1)[1]  # someone pasted an email address: keep its domain
    try:
        host = (urlsplit(text if "://" in text else "//" + text).hostname or "").strip(".")
    except ValueError:  # "[" reads as a broken IPv6 address: not a host
        return ""
    if host.startswith("www."):
        host = host[4:]
    try:
        host = host.encode("idna").decode("ascii") if host and not host.isascii() else host
    except UnicodeError:
        return ""
    return host if _DOMAIN_OK.match(host) else ""


def normalize_linkedin(value: str) -> str:
    """A LinkedIn profile URL in one canonical spelling, or "" when it is not one."""
    text = clean_text(value)
    if not text:
        return ""
    try:
        parts = urlsplit(text if "://" in text else "https://" + text)
        host = (parts.hostname or "").lower()
    except ValueError:  # "[" reads as a broken IPv6 address: not a profile URL
        return ""
    if not host.endswith("linkedin.com"):
        return ""
    path = parts.path.rstrip("/")
    if not path.startswith("/in/") and not path.startswith("/pub/"):
        return ""
    return f"https://www.linkedin.com{path.lower()}/"


def _identity_text(value: str) -> str:
    """Case- and spacing-insensitive text for comparing names (accents are kept: Zoé ≠ Zoe)."""
    return value.casefold()


@dataclass(frozen=True)
class Contact:
    """One person to enrich, already trimmed and normalised. `custom` rides along untouched."""

    firstname: str = ""
    lastname: str = ""
    company_name: str = ""
    domain: str = ""
    linkedin_url: str = ""
    custom: Any = field(default=None, compare=False, hash=False)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> Contact:
        """Build from a request's contact object; unknown keys are ignored.

        A "domain" that is no host ("Acme SAS" typed in a website column) is taken as the
        company name when there is none, rather than making the row invalid.
        """
        typed_domain = clean_text(raw.get("domain"))
        domain = normalize_domain(typed_domain)
        company = clean_text(raw.get("company_name"))
        if (
            not domain
            and not company
            and "/" not in typed_domain
            and any(ch.isalnum() for ch in typed_domain)
        ):
            company = typed_domain
        return cls(
            firstname=clean_text(raw.get("firstname")),
            lastname=clean_text(raw.get("lastname")),
            company_name=company,
            domain=domain,
            linkedin_url=normalize_linkedin(clean_text(raw.get("linkedin_url"))),
            custom=raw.get("custom"),
        )

    def invalid_reason(self) -> str | None:
        """Why Pronto cannot look this person up, in words for the sheet; None when it can."""
        missing = [
            label
            for label, value in (("first name", self.firstname), ("last name", self.lastname))
            if not value
        ]
        if missing:
            return f"Add the {' and '.join(missing)} to this row."
        if not (self.domain or self.company_name or self.linkedin_url):
            return "Add a company name, a company website or a LinkedIn URL to this row."
        return None

    def identity(self, types: EnrichmentTypes) -> str:
        """A stable key for "same person, same question": dedupe, single-flight, cache."""
        payload = [
            _identity_text(self.firstname),
            _identity_text(self.lastname),
            _identity_text(self.company_name),
            self.domain,
            self.linkedin_url,
            list(types.names),
        ]
        digest = hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()
        return digest[:32]

    def pronto_body(self, types: EnrichmentTypes) -> dict[str, Any]:
        """The request body for Pronto: only non-empty fields, never our `custom`."""
        body: dict[str, Any] = {"enrichment_type": list(types.names)}
        for name in ("firstname", "lastname", "company_name", "domain", "linkedin_url"):
            value = getattr(self, name)
            if value:
                body[name] = value
        return body


@dataclass(frozen=True)
class EnrichmentTypes:
    """Which data points are asked for, in Pronto's order ("email" before "phone")."""

    names: tuple[EnrichmentType, ...] = ("email",)

    @classmethod
    def parse(cls, raw: object) -> EnrichmentTypes:
        """Accept `["email"]`, `["phone"]`, both, or a comma-separated string; default email."""
        if raw is None:
            return cls()
        items: Iterable[object]
        if isinstance(raw, str):
            items = [part.strip() for part in raw.split(",") if part.strip()]
        elif isinstance(raw, list):
            items = raw
        else:
            raise ContactError(
                'enrichment_type must be a list such as ["email"] or ["email", "phone"].'
            )
        wanted: set[str] = set()
        for item in items:
            name = item.strip().lower() if isinstance(item, str) else item
            if name not in ENRICHMENT_TYPES:
                raise ContactError(
                    f'enrichment_type can only contain "email" and "phone", not {item!r}.'
                )
            wanted.add(str(name))
        if not wanted:
            raise ContactError('enrichment_type is empty; use ["email"], ["phone"] or both.')
        return cls(tuple(t for t in ENRICHMENT_TYPES if t in wanted))

    @property
    def wants_email(self) -> bool:
        return "email" in self.names

    @property
    def wants_phone(self) -> bool:
        return "phone" in self.names
