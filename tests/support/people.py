"""Contacts for tests, and what the simulated Pronto answers for each of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pronto_sheets.enrich.contacts import Contact
from pronto_sheets_dev.simulator import simulated_outcome

NEEDS_LINKEDIN = ("phone", "personal_email")


def people(count: int, tag: str, *, start: int = 0, linkedin: bool = False) -> list[dict[str, Any]]:
    """`count` distinct, valid contacts whose names carry `tag` (unique per test); with
    `linkedin`, each has a LinkedIn URL (phones and personal emails need one)."""
    rows = []
    for i in range(start, start + count):
        row = {
            "firstname": f"Ada{i}",
            "lastname": f"Lovelace-{tag}",
            "company_name": f"Engines {i % 7}",
            "domain": f"engines{i % 11}.example.com",
        }
        if linkedin:
            row["linkedin_url"] = f"https://www.linkedin.com/in/ada{i}-{tag.lower()}/"
        rows.append(row)
    return rows


@dataclass(frozen=True)
class Expected:
    status: str
    email: str | None
    phone: str | None
    personal_email: str | None = None


def expected(raw: dict[str, Any], types: tuple[str, ...] = ("email",)) -> Expected:
    """The row the function must return for `raw`, from the simulator's own rules and
    Pronto's: phone and personal email are only asked with a LinkedIn URL."""
    contact = Contact.from_mapping(raw)
    outcome = simulated_outcome(
        contact.firstname,
        contact.lastname,
        domain=contact.domain or None,
        company_name=contact.company_name or None,
        linkedin_url=contact.linkedin_url or None,
    )
    asked = [t for t in types if t not in NEEDS_LINKEDIN or contact.linkedin_url]
    email = outcome.email if "email" in asked else None
    phone = outcome.phones[0] if "phone" in asked and outcome.phones else None
    personal = outcome.personal_email if "personal_email" in asked else None
    status = "success" if email or phone or personal else "not_found" if asked else "invalid"
    return Expected(status, email, phone, personal)


def observed(row: dict[str, Any]) -> Expected:
    phones = row.get("phones") or []
    return Expected(
        row["status"],
        row.get("email"),
        phones[0]["number"] if phones else None,
        row.get("personal_email"),
    )
