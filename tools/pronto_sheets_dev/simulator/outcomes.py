"""What the simulated Pronto finds for a contact: a pure, stable function of its identity.

The identity is the lower-cased, stripped first name, last name and the best anchor
(domain, else company name, else LinkedIn URL). Its SHA-256 decides, independently:
an email is found for about 70% of identities, a phone for about 40%, a personal email
for about 35% (from a second hash of the identity, so the first one's answers are those
the simulator always gave). Tests call `simulated_outcome` to know the exact answer the
server will give for any contact.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

EMAIL_FOUND_RATE = 0.70
PHONE_FOUND_RATE = 0.40
PERSONAL_EMAIL_FOUND_RATE = 0.35
# Most found emails are "valid"; the rest "catch-all" (Pronto's docs name both).
VALID_EMAIL_RATE = 0.80
# Personal emails: "valid" or "catch-all", two of the values Pronto's docs give for
# personal_email_status (valid, invalid, catch-all, N/A).
VALID_PERSONAL_EMAIL_RATE = 0.85
# Personal addresses live at reserved names (RFC 2606), never at a real mailbox provider.
PERSONAL_EMAIL_PROVIDERS: tuple[str, ...] = ("gmail.example", "outlook.example", "yahoo.example")

PhoneShape = Literal["object", "string"]

_NAME_DROP = re.compile(r"[^a-z0-9.-]+")
_SLUG_SEPARATORS = re.compile(r"[^a-z0-9]+")
_DOTS = re.compile(r"\.{2,}")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")


@dataclass(frozen=True)
class SimulatedOutcome:
    """What the simulator finds for one identity, whatever was asked.

    `email`/`email_status` are None when no email is found; `phones` is empty when no
    phone is found; `personal_email`/`personal_email_status` are None when no personal
    email is found. `phone_shape` says how phones are written in answers: as objects
    `{"number", "type": "mobile"}` or as plain strings (Pronto versions differ).
    """

    email: str | None
    email_status: str | None
    phones: tuple[str, ...]
    phone_shape: PhoneShape = "object"
    personal_email: str | None = None
    personal_email_status: str | None = None


def _norm(value: str | None) -> str:
    return (value or "").strip().lower()


def identity_key(
    firstname: str | None,
    lastname: str | None,
    domain: str | None = None,
    company_name: str | None = None,
    linkedin_url: str | None = None,
) -> str:
    """`"first|last|anchor"`, lower-cased and stripped; the key of `by_contact` in stats."""
    anchor = _norm(domain) or _norm(company_name) or _norm(linkedin_url)
    return f"{_norm(firstname)}|{_norm(lastname)}|{anchor}"


def _ascii(value: str | None) -> str:
    """Lower-cased ASCII with accents folded away ("Éloïse" → "eloise")."""
    decomposed = unicodedata.normalize("NFKD", (value or "").strip().lower())
    return decomposed.encode("ascii", "ignore").decode("ascii")


def _name_part(value: str | None) -> str:
    part = _DOTS.sub(".", _NAME_DROP.sub("", _ascii(value)))
    return part.strip(".-")


def _email_domain(domain: str | None, company_name: str | None) -> str:
    host = _SCHEME.sub("", _ascii(domain)).split("/", 1)[0].removeprefix("www.")
    host = _DOTS.sub(".", _NAME_DROP.sub("", host)).strip(".-")
    if host:
        return host
    slug = _SLUG_SEPARATORS.sub("-", _ascii(company_name)).strip("-")
    return f"{slug}.com" if slug else "example.com"


def simulated_email(
    firstname: str | None,
    lastname: str | None,
    domain: str | None = None,
    company_name: str | None = None,
) -> str:
    """The address the simulator gives when it finds one: `first.last@domain`, ASCII only.

    The domain is the given one, else the company's slug + ".com", else "example.com".
    """
    local = ".".join(part for part in (_name_part(firstname), _name_part(lastname)) if part)
    return f"{local or 'contact'}@{_email_domain(domain, company_name)}"


def simulated_personal_email(firstname: str | None, lastname: str | None, number: int) -> str:
    """A personal address when one is found: `first.last<NN>@<provider>.example`, ASCII only."""
    local = ".".join(part for part in (_name_part(firstname), _name_part(lastname)) if part)
    provider = PERSONAL_EMAIL_PROVIDERS[number % len(PERSONAL_EMAIL_PROVIDERS)]
    return f"{local or 'contact'}{number % 100:02d}@{provider}"


def _fraction(chunk: bytes) -> float:
    return int.from_bytes(chunk, "big") / float(1 << (8 * len(chunk)))


def simulated_outcome(
    firstname: str | None,
    lastname: str | None,
    domain: str | None = None,
    company_name: str | None = None,
    linkedin_url: str | None = None,
) -> SimulatedOutcome:
    """The answer the simulator gives for this contact, the same on every call and run."""
    key = identity_key(firstname, lastname, domain, company_name, linkedin_url)
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    email: str | None = None
    email_status: str | None = None
    if _fraction(digest[0:8]) < EMAIL_FOUND_RATE:
        email = simulated_email(firstname, lastname, domain, company_name)
        email_status = "valid" if _fraction(digest[16:20]) < VALID_EMAIL_RATE else "catch-all"
    phones: tuple[str, ...] = ()
    if _fraction(digest[8:16]) < PHONE_FOUND_RATE:
        phones = (f"+336{int.from_bytes(digest[20:28], 'big') % 10**8:08d}",)
    shape: PhoneShape = "object" if digest[28] % 2 == 0 else "string"
    personal = hashlib.sha256(b"personal_email|" + key.encode("utf-8")).digest()
    personal_email: str | None = None
    personal_email_status: str | None = None
    if _fraction(personal[0:8]) < PERSONAL_EMAIL_FOUND_RATE:
        personal_email = simulated_personal_email(
            firstname, lastname, int.from_bytes(personal[8:12], "big")
        )
        personal_email_status = (
            "valid" if _fraction(personal[12:16]) < VALID_PERSONAL_EMAIL_RATE else "catch-all"
        )
    return SimulatedOutcome(
        email, email_status, phones, shape, personal_email, personal_email_status
    )
