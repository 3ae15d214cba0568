"""Contacts for tests, and what the simulated Pronto answers for each of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pronto_sheets.enrich.contacts import Contact
from pronto_sheets_dev.simulator import simulated_outcome


def people(count: int, tag: str, *, start: int = 0) -> list[dict[str, Any]]:
    """`count` distinct, valid contacts whose names carry `tag` (unique per test)."""
    return [
        {
            "firstname": f"Ada{i}",
            "lastname": f"Lovelace-{tag}",
            "company_name": f"Engines {i % 7}",
            "domain": f"engines{i % 11}.example.com",
        }
        for i in range(start, start + count)
    ]


@dataclass(frozen=True)
class Expected:
    status: str
    email: str | None
    phone: str | None


def expected(raw: dict[str, Any], types: tuple[str, ...] = ("email",)) -> Expected:
    """The row the function must return for `raw`, from the simulator's own rules."""
    contact = Contact.from_mapping(raw)
    outcome = simulated_outcome(
        contact.firstname,
        contact.lastname,
        domain=contact.domain or None,
        company_name=contact.company_name or None,
        linkedin_url=contact.linkedin_url or None,
    )
    email = outcome.email if "email" in types else None
    phone = outcome.phones[0] if "phone" in types and outcome.phones else None
    status = "success" if email or phone else "not_found"
    return Expected(status, email, phone)


def observed(row: dict[str, Any]) -> Expected:
    phones = row.get("phones") or []
    return Expected(row["status"], row.get("email"), phones[0]["number"] if phones else None)
