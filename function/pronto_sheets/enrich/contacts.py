"""Contacts as people type them, and the normalised form that decides "same person".

Two rows are the same contact when their folded names and company, bare domain and
canonical LinkedIn URL agree: `" zoé  LOVELACE "` at `https://www.Acme.io/about` is the
same person as `"Zoe Lovelace"` at `acme.io` (the folding rules are the vocabulary's
"identity", shared with Apps Script: apps_script/Contacts.js does the same steps). That
identity keys deduplication, single-flight and the answer cache, so a recalculation or a
duplicate row never pays twice.

Every step here is written so JavaScript can take it exactly (no IDNA, no urllib): the
parity test runs both on the same 200 rows.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pronto_sheets.errors import ContactError
from pronto_sheets.vocabulary import EnrichmentType, fold_text, squeeze_spaces, vocabulary

ENRICHMENT_TYPES: tuple[EnrichmentType, ...] = vocabulary().type_names
_NEEDS_LINKEDIN = frozenset(t.name for t in vocabulary().types if t.needs_linkedin)

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_PORT = re.compile(r":[0-9]*$")
# A host label: letters or digits of any script, inner hyphens; JavaScript spells it
# [\p{L}\p{N}] with the u flag, Python [^\W_] (word characters without the underscore).
_LABEL = r"[^\W_](?:[^\W_-]|-){0,62}"
_DOMAIN_OK = re.compile(rf"^(?:{_LABEL}\.)+{_LABEL}$")
_LABEL_EDGES = re.compile(r"(^|\.)-|-(\.|$)")
_URL = re.compile(r"^([a-z][a-z0-9+.-]*)://([^/?#]*)([^?#]*)", re.IGNORECASE)
_HAS_ALNUM = re.compile(r"[^\W_]")
# The identity text's JSON, as JavaScript's JSON.stringify writes it (no spaces, UTF-8).
_IDENTITY_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def clean_text(value: object) -> str:
    """Trim and collapse inner white space; numbers from a sheet become text.

    Unicode NFC first, so an "é" typed as e + accent equals the composed "é".
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        raise ContactError("A contact field is true/false; send names, company and domain as text.")
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        raise ContactError("A contact field is not text; send names, company and domain as text.")
    return squeeze_spaces(value if value.isascii() else unicodedata.normalize("NFC", value))


def normalize_domain(value: str) -> str:
    """The bare host of a website as people paste it: `https://www.Acme.io:443/about` → `acme.io`.

    Returns "" when nothing host-like is left, so a junk domain counts as missing rather
    than being sent to Pronto. Steps (Apps Script takes the same): lower case; an email
    address keeps its domain; drop the scheme, the path, query and fragment, a user and a
    port; drop a leading "www." and trailing dots; keep it only if it is two or more
    labels of letters, digits and inner hyphens.
    """
    text = clean_text(value).lower()
    if not text:
        return ""
    if "@" in text and "://" not in text:
        text = text.rsplit("@", 1)[1]  # someone pasted an email address: keep its domain
    text = _SCHEME.sub("", text)
    host = re.split(r"[/?#]", text, maxsplit=1)[0]
    host = host.rsplit("@", 1)[-1]
    host = _PORT.sub("", host).rstrip(".")
    for prefix in vocabulary().identity["domain_drop_prefixes"]:
        if host.startswith(prefix):
            host = host[len(prefix) :]
    if not _DOMAIN_OK.match(host) or _LABEL_EDGES.search(host):
        return ""
    return host


def normalize_linkedin(value: str) -> str:
    """A LinkedIn profile URL in one canonical spelling, or "" when it is not one.

    `linkedin.com/in/Ada-L?trk=x` → `https://www.linkedin.com/in/ada-l/`.
    """
    rules = vocabulary().identity
    text = clean_text(value)
    if not text:
        return ""
    match = _URL.match(text if "://" in text else "https://" + text)
    if not match:
        return ""
    host = _PORT.sub("", match.group(2).rsplit("@", 1)[-1].lower()).rstrip(".")
    suffix = rules["linkedin_host_suffix"]
    if host != suffix and not host.endswith("." + suffix):
        return ""
    path = match.group(3).rstrip("/").lower()
    if not any(path.startswith(prefix) for prefix in rules["linkedin_path_prefixes"]):
        return ""  # a company page, a search, a post: not a person's profile
    return str(rules["linkedin_canonical"]).replace("{path}", path)


_TYPED_FIELDS = ("firstname", "lastname", "company_name", "domain", "linkedin_url")


def _normalise(
    firstname: object, lastname: object, company_name: object, domain: object, linkedin: object
) -> tuple[str, str, str, str, str]:
    """A contact's fields as typed, normalised (see `Contact.from_mapping`)."""
    typed_domain = clean_text(domain)
    bare_domain = normalize_domain(typed_domain)
    company = clean_text(company_name)
    if (
        not bare_domain
        and not company
        and "/" not in typed_domain
        and _HAS_ALNUM.search(typed_domain)
    ):
        company = typed_domain
    return (
        clean_text(firstname),
        clean_text(lastname),
        company,
        bare_domain,
        normalize_linkedin(clean_text(linkedin)),
    )


_normalised = lru_cache(maxsize=65_536)(_normalise)


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
        typed = tuple(raw.get(name) for name in _TYPED_FIELDS)
        if all(value is None or isinstance(value, str) for value in typed):
            fields = _normalised(*typed)  # remembered: a recalculation sends the same rows
        else:
            fields = _normalise(*typed)
        return cls(*fields, custom=raw.get("custom"))

    def invalid_reason(self) -> str | None:
        """Why Pronto cannot look this person up, in words for the sheet; None when it can."""
        if (
            self.firstname
            and self.lastname
            and (self.domain or self.company_name or self.linkedin_url)
        ):
            return None  # the common case, asked of every row of every request
        messages = vocabulary().messages
        missing = [
            messages[key]
            for key, value in (
                ("missing_name_first", self.firstname),
                ("missing_name_last", self.lastname),
            )
            if not value
        ]
        if missing:
            joined = str(messages["missing_name_joiner"]).join(missing)
            return str(messages["missing_names"]).replace("{fields}", joined)
        if not (self.domain or self.company_name or self.linkedin_url):
            return str(messages["missing_anchor"])
        return None

    def can_ask(self, type_name: str) -> bool:
        """Whether Pronto may be asked this type for this contact (phone and personal
        email need a LinkedIn URL: Pronto refuses them without one)."""
        return bool(self.linkedin_url) or type_name not in _NEEDS_LINKEDIN

    def identity_text(self) -> str:
        """The folded fields that decide "same person", as one string (also built by
        Apps Script for the parity test): `v2:["zoe","lovelace","","acme.io",""]`."""
        fields = [
            fold_text(self.firstname),
            fold_text(self.lastname),
            fold_text(self.company_name),
            self.domain,
            self.linkedin_url,
        ]
        return f"v{vocabulary().identity['version']}:{_IDENTITY_JSON.encode(fields)}"

    def identity(self) -> str:
        """A stable key for "same person": dedupe, single-flight, the cache (with a type).

        Computed once per contact (kept beside the frozen fields, without
        cached_property's lock): a 100,000-row sheet hashes each row once, not once per
        use; and once per process for the same fields (a recalculation sends the same
        rows)."""
        cached: str | None = self.__dict__.get("_identity")
        if cached is None:
            cached = _identity_of(
                self.firstname, self.lastname, self.company_name, self.domain, self.linkedin_url
            )
            self.__dict__["_identity"] = cached
        return cached

    def pronto_body(self, types: EnrichmentTypes) -> dict[str, Any]:
        """The request body for Pronto: only non-empty fields, never our `custom`."""
        body: dict[str, Any] = {"enrichment_type": list(types.names)}
        for name in ("firstname", "lastname", "company_name", "domain", "linkedin_url"):
            value = getattr(self, name)
            if value:
                body[name] = value
        return body


@lru_cache(maxsize=65_536)
def _identity_of(
    firstname: str, lastname: str, company_name: str, domain: str, linkedin_url: str
) -> str:
    text = Contact(firstname, lastname, company_name, domain, linkedin_url).identity_text()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class EnrichmentTypes:
    """Which data points are asked for, in Pronto's order (email, phone, personal email)."""

    names: tuple[EnrichmentType, ...] = ("email",)

    @classmethod
    def of(cls, names: Iterable[str]) -> EnrichmentTypes:
        """These types, in the canonical order (duplicates dropped)."""
        wanted = set(names)
        return cls(tuple(t for t in ENRICHMENT_TYPES if t in wanted))

    @classmethod
    def parse(cls, raw: object) -> EnrichmentTypes:
        """Accept `["email"]`, any combination, or a comma-separated string; default email."""
        if raw is None:
            return cls()
        items: Iterable[object]
        if isinstance(raw, str):
            items = [part.strip() for part in raw.split(",") if part.strip()]
        elif isinstance(raw, list):
            items = raw
        else:
            raise ContactError(
                'enrichment_type must be a list such as ["email"] or ["email", "phone"].',
                code="invalid_field",
            )
        allowed = ", ".join(f'"{name}"' for name in ENRICHMENT_TYPES)
        wanted: set[str] = set()
        for item in items:
            name = item.strip().lower() if isinstance(item, str) else item
            if name not in ENRICHMENT_TYPES:
                raise ContactError(
                    f"enrichment_type can only contain {allowed}, not {item!r}.",
                    code="invalid_field",
                )
            wanted.add(str(name))
        if not wanted:
            raise ContactError(
                f"enrichment_type is empty; ask for at least one of {allowed}.",
                code="invalid_field",
            )
        return cls.of(wanted)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __iter__(self) -> Iterator[EnrichmentType]:
        return iter(self.names)

    def __bool__(self) -> bool:
        return bool(self.names)

    def without(self, names: Iterable[str]) -> EnrichmentTypes:
        drop = set(names)
        return EnrichmentTypes(tuple(t for t in self.names if t not in drop))

    @property
    def key(self) -> str:
        return "+".join(self.names)
