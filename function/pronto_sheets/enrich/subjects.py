"""Who an answer is about, as hashes: how a person is found to be forgotten (POST /forget).

A stored answer is keyed by the contact's identity, a hash of all five fields as a row
gave them, so "forget Ada Lovelace of acme.io" cannot find a row that also had her
LinkedIn URL. Each answer is therefore indexed under every way of naming the person it is
about, each a `subject` hash:

- `name+domain`: folded first and last name, and the domain;
- `name+company`: folded first and last name, and the folded company name;
- `linkedin`: the LinkedIn URL (normalised as contacts.py does);
- `email`: each email Pronto found (work or personal), lowercased;
- `phone`: each phone number Pronto found, its digits only.

Only the hashes are stored (protocol.py), and they expire with the answers. A request to
forget names the person in any of these ways and matches the same hashes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping

from pronto_sheets.enrich.contacts import Contact
from pronto_sheets.results import TypeResult
from pronto_sheets.vocabulary import fold_text

# Bump when a normalisation below changes: older hashes then no longer match anything.
_VERSION = "subject-v1"


def subject_hash(kind: str, text: str) -> str:
    """The hash one way of naming a person is indexed under."""
    return hashlib.sha256(f"{_VERSION}:{kind}:{text}".encode()).hexdigest()[:32]


def email_subject(email: str) -> str | None:
    """The subject of an email address, None when it is not one."""
    text = email.strip().lower()
    return subject_hash("email", text) if "@" in text else None


def phone_subject(phone: str) -> str | None:
    """The subject of a phone number (digits only: "+33 6 12…" and "0033612…" differ, as
    Pronto's E.164 answers do not), None when it has too few digits to be one."""
    digits = re.sub(r"\D", "", phone)
    return subject_hash("phone", digits) if len(digits) >= 6 else None


def contact_subjects(contact: Contact) -> set[str]:
    """The subjects a contact's own fields name (without what Pronto found)."""
    found: set[str] = set()
    first, last = fold_text(contact.firstname), fold_text(contact.lastname)
    if first and last:
        if contact.domain:
            found.add(subject_hash("name+domain", f"{first}\x1f{last}\x1f{contact.domain}"))
        company = fold_text(contact.company_name)
        if company:
            found.add(subject_hash("name+company", f"{first}\x1f{last}\x1f{company}"))
    if contact.linkedin_url:
        found.add(subject_hash("linkedin", contact.linkedin_url))
    return found


def answer_subjects(answers: Iterable[TypeResult]) -> set[str]:
    """The subjects of the emails and phones found in these answers."""
    found: set[str] = set()
    for answer in answers:
        if answer.value:
            subject = email_subject(answer.value)
            if subject:
                found.add(subject)
        for phone in answer.phones:
            subject = phone_subject(phone.number)
            if subject:
                found.add(subject)
    return found


def subjects_of(contact: Contact, answers: Mapping[str, TypeResult]) -> set[str]:
    """Every subject one lookup's answers are indexed under."""
    return contact_subjects(contact) | answer_subjects(answers.values())
