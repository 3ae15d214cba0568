"""POST /forget: erase what the function keeps about one person (GDPR art. 17).

The body names the person in any of these ways, alone or together:

- `contact`: `{"firstname", "lastname", "domain" or "company_name"}`, or
  `{"linkedin_url"}` (with or without the names);
- `email`: an email address Pronto found for them (work or personal);
- `phone`: a phone number Pronto found for them.

Every stored answer about that person, of every type, is deleted from the durable store
and from this instance's memory; the answer says how many (`{"deleted": n}`). One audit
line records that it happened: when, who asked (the shared token, or the Google identity's
email) and how many, and nothing of the person.
"""

from __future__ import annotations

from typing import Any

from pronto_sheets.enrich.contacts import Contact
from pronto_sheets.enrich.engine import Enricher
from pronto_sheets.errors import ContactError, MalformedRequest, StoreError
from pronto_sheets.http.auth import Caller
from pronto_sheets.logs import audit

_HOW = (
    'Name the person to forget with "contact" ({"firstname", "lastname", "domain"} or '
    '{"linkedin_url"}), "email" or "phone", e.g. {"email": "ada@acme.io"}.'
)


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > 320:
        raise MalformedRequest(f'"{name}" must be a string. {_HOW}', code="invalid_field")
    return value.strip()


def _contact(body: dict[str, Any]) -> Contact | None:
    raw = body.get("contact")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise MalformedRequest(f'"contact" must be an object. {_HOW}', code="invalid_contacts")
    try:
        contact = Contact.from_mapping(raw)
    except ContactError as exc:
        raise ContactError(f"contact: {exc.message}") from None
    named = contact.firstname and contact.lastname and (contact.domain or contact.company_name)
    if not (named or contact.linkedin_url):
        raise ContactError(
            "This contact does not say who to forget: give the first and last name with the "
            'domain or company name, or the LinkedIn URL. E.g. {"contact": {"firstname": '
            '"Ada", "lastname": "Lovelace", "domain": "acme.io"}}.'
        )
    return contact


async def handle_forget(
    body: dict[str, Any], *, enricher: Enricher, caller: Caller | None
) -> tuple[dict[str, Any], dict[str, int]]:
    """Parse, forget, audit; the answer body and the counts of the request's log line."""
    contact = _contact(body)
    email, phone = _text(body, "email"), _text(body, "phone")
    if contact is None and not email and not phone:
        raise MalformedRequest(f"Nothing to forget was named. {_HOW}", code="invalid_field")
    try:
        deleted = await enricher.forget(
            [contact] if contact else [], [email] if email else [], [phone] if phone else []
        )
    except StoreError:
        raise StoreError(
            "The store that keeps answers cannot be reached, so nothing was deleted from it. "
            "Try again in a few minutes; the answers still expire on their own."
        ) from None
    who = "shared token" if caller is None or caller.kind == "token" else "google identity"
    audit(
        f"forget: {deleted} stored answers deleted",
        event="forget",
        caller=who,
        caller_email=caller.email if caller is not None and caller.kind == "google" else None,
        deleted=deleted,
        named_by=[k for k, v in (("contact", contact), ("email", email), ("phone", phone)) if v],
    )
    return {"deleted": deleted}, {"deleted": deleted}
