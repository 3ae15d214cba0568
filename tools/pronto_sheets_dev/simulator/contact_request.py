"""One contact's enrichment request, as Pronto's pages define its body, and what it costs.

`parse_enrich_request` reads the sync body (and `contact_from` one contact of a bulk body):
firstname, lastname, `enrichment_type`, optional domain, company_name, linkedin_url and
`custom` (https://docs.prontohq.com/api-reference/endpoints/contacts/sync_single_enrich).
Only the schema is checked here; Pronto's rules that answer 422 (LinkedIn, consent) are
the service's. `cost` is the credits an answer costs: the price of each type asked and found.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .config import Rules, SimulatorConfig
from .outcomes import SimulatedOutcome, identity_key

ENRICHMENT_TYPES: tuple[str, ...] = ("email", "phone", "personal_email")
LEGACY_ENRICHMENT_TYPES: tuple[str, ...] = ("email", "phone")
# The types that need a LinkedIn URL under the current rules.
LINKEDIN_TYPES: tuple[str, ...] = ("phone", "personal_email")
NO_CREDITS_MESSAGE = "Insufficient credits: the daily credit limit is reached"
# The out-of-credits sentence of the 200 form, whose body otherwise looks like "not found".
NO_CREDITS_200_MESSAGE = "Insufficient credits to perform this enrichment"
LINKEDIN_REQUIRED_MESSAGE = (
    "linkedin_url is required when enrichment_type includes phone or personal_email"
)
# Pronto's own words (its current pages), to the character.
CONSENT_MESSAGE = (
    "You can't use the personal email enrichment feature without consenting with our terms of use"
)
TYPES_MESSAGE = (
    "enrichment_type is required: a list of 1 to 3 distinct values among "
    '"email", "phone" and "personal_email".'
)
LEGACY_TYPES_MESSAGE = (
    'enrichment_type is required: a list of 1 or 2 values among "email" and "phone".'
)


@dataclass(frozen=True)
class EnrichRequest:
    """A validated enrichment request body; `types` are the distinct types asked, in order."""

    firstname: str
    lastname: str
    domain: str | None
    company_name: str | None
    linkedin_url: str | None
    types: tuple[str, ...]
    custom: Any

    @property
    def wants_email(self) -> bool:
        return "email" in self.types

    @property
    def wants_phone(self) -> bool:
        return "phone" in self.types

    @property
    def wants_personal_email(self) -> bool:
        return "personal_email" in self.types

    @property
    def has_linkedin(self) -> bool:
        return bool((self.linkedin_url or "").strip())

    @property
    def identity(self) -> str:
        """The contact's `identity_key`: the key of every per-contact count in the stats."""
        return identity_key(
            self.firstname, self.lastname, self.domain, self.company_name, self.linkedin_url
        )


class BadRequest(ValueError):
    """The body cannot be enriched; the message is what Pronto's 400 answer says."""


def json_object(body: bytes) -> dict[str, Any]:
    """`body` as a JSON object, or `BadRequest`."""
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("The request body must be valid JSON.") from exc
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    return data


def parse_types(kinds: object, rules: Rules = "current") -> tuple[str, ...]:
    """`enrichment_type` validated under `rules`, or `BadRequest`."""
    known = ENRICHMENT_TYPES if rules == "current" else LEGACY_ENRICHMENT_TYPES
    if (
        not isinstance(kinds, list)
        or not 1 <= len(kinds) <= len(known)
        or any(not isinstance(kind, str) or kind not in known for kind in kinds)
        or len(set(kinds)) != len(kinds)
    ):
        raise BadRequest(TYPES_MESSAGE if rules == "current" else LEGACY_TYPES_MESSAGE)
    return tuple(kinds)


def contact_from(data: Mapping[str, Any], types: tuple[str, ...], where: str = "") -> EnrichRequest:
    """One contact's fields validated (names required, strings, `custom` an object)."""
    names = {name: data.get(name) for name in ("firstname", "lastname")}
    missing = [
        name for name, value in names.items() if not isinstance(value, str) or not value.strip()
    ]
    if missing:
        raise BadRequest(
            f"{where}{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} required."
        )
    optional: dict[str, str | None] = {}
    for name in ("domain", "company_name", "linkedin_url"):
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            raise BadRequest(f"{where}{name} must be a string.")
        optional[name] = value
    custom = data.get("custom")
    if custom is not None and not isinstance(custom, dict):
        raise BadRequest(f"{where}custom must be an object.")
    return EnrichRequest(
        firstname=names["firstname"],  # type: ignore[arg-type]
        lastname=names["lastname"],  # type: ignore[arg-type]
        domain=optional["domain"],
        company_name=optional["company_name"],
        linkedin_url=optional["linkedin_url"],
        types=types,
        custom=custom,
    )


def parse_enrich_request(body: bytes, rules: Rules = "current") -> EnrichRequest:
    """The request `body` validated as Pronto's schema says under `rules`, or `BadRequest`."""
    data = json_object(body)
    types = parse_types(data.get("enrichment_type"), rules)
    return contact_from(data, types)


def found_types(request: EnrichRequest, outcome: SimulatedOutcome) -> tuple[str, ...]:
    """The types asked in `request` that `outcome` has an answer for."""
    found = {
        "email": outcome.email is not None,
        "phone": bool(outcome.phones),
        "personal_email": outcome.personal_email is not None,
    }
    return tuple(kind for kind in request.types if found[kind])


def price(config: SimulatorConfig, kinds: tuple[str, ...]) -> int:
    """Credits for answers of these types (a type not found costs nothing: do not pass it)."""
    prices = {
        "email": config.credits_per_email,
        "phone": config.credits_per_phone,
        "personal_email": config.credits_per_personal_email,
    }
    return sum(prices[kind] for kind in kinds)
