"""Contacts: how rows people type become one identity, and what makes a row unusable."""

from __future__ import annotations

import pytest

from pronto_sheets.enrich.contacts import Contact, ContactError, EnrichmentTypes, normalize_domain


@pytest.mark.parametrize(
    ("typed", "domain"),
    [
        ("https://www.Acme.io/about", "acme.io"),
        ("acme.io", "acme.io"),
        ("ACME.IO:8443", "acme.io"),
        ("http://acme.io?utm=x", "acme.io"),
        ("  www.acme.io/  ", "acme.io"),
        ("ada@acme.io", "acme.io"),
        ("sub.acme.co.uk", "sub.acme.co.uk"),
        ("münchen.de", "münchen.de"),  # kept as typed: Apps Script has no IDNA
        ("not a domain", ""),
        ("localhost", ""),
        ("", ""),
    ],
)
def test_domain_is_normalised(typed: str, domain: str) -> None:
    """Scheme, www., port, path and case go; junk becomes empty rather than being sent."""
    assert normalize_domain(typed) == domain


def test_same_person_written_differently_is_one_identity() -> None:
    """Case, accents, spacing and URL-vs-bare-domain do not make a new contact (Zoé = Zoe:
    one decision, shared with Apps Script); another last name does."""
    a = Contact.from_mapping({"firstname": "Zoé", "lastname": "Lovelace", "domain": "acme.io"})
    b = Contact.from_mapping(
        {"firstname": " ZOE ", "lastname": "lovelace", "domain": "https://www.Acme.io/team"}
    )
    assert a.identity() == b.identity()
    assert a.identity_text() == 'v2:["zoe","lovelace","","acme.io",""]'
    other = Contact.from_mapping({"firstname": "Zoé", "lastname": "Byron", "domain": "acme.io"})
    assert other.identity() != a.identity()


def test_phone_and_personal_email_can_only_be_asked_with_a_linkedin_url() -> None:
    """Pronto refuses phone and personal email without linkedin_url; email never needs it."""
    bare = Contact.from_mapping({"firstname": "Ada", "lastname": "L", "domain": "acme.io"})
    linked = Contact.from_mapping(
        {"firstname": "Ada", "lastname": "L", "linkedin_url": "linkedin.com/in/ada-l"}
    )
    assert [bare.can_ask(t) for t in ("email", "phone", "personal_email")] == [
        True,
        False,
        False,
    ]
    assert all(linked.can_ask(t) for t in ("email", "phone", "personal_email"))


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("linkedin.com/in/Ada-L?trk=x", "https://www.linkedin.com/in/ada-l/"),
        ("https://fr.linkedin.com/in/ada-l/", "https://www.linkedin.com/in/ada-l/"),
        ("https://www.linkedin.com/company/acme", ""),
        ("http://evillinkedin.com/in/x", ""),
        ("https://linkedin.com/in/", ""),
    ],
)
def test_linkedin_urls_are_canonical(typed: str, canonical: str) -> None:
    """One spelling per profile; a company page or a look-alike host is not a profile."""
    contact = Contact.from_mapping({"firstname": "A", "lastname": "B", "linkedin_url": typed})
    assert contact.linkedin_url == canonical


def test_pronto_body_sends_only_what_is_known() -> None:
    """Empty fields are left out, names are trimmed, and `custom` stays with us."""
    contact = Contact.from_mapping(
        {
            "firstname": "  Zoé ",
            "lastname": "Martin",
            "company_name": "",
            "domain": "WWW.ACME.IO",
            "custom": {"crm": 7},
        }
    )
    assert contact.pronto_body(EnrichmentTypes.parse(["phone", "email"])) == {
        "enrichment_type": ["email", "phone"],
        "firstname": "Zoé",
        "lastname": "Martin",
        "domain": "acme.io",
    }


def test_a_company_typed_as_website_is_the_company() -> None:
    """ "Acme SAS" in the website column is used as the company name, not dropped."""
    contact = Contact.from_mapping({"firstname": "Ada", "lastname": "L", "domain": "Acme SAS"})
    assert (contact.company_name, contact.domain) == ("Acme SAS", "")
    assert contact.invalid_reason() is None
    both = Contact.from_mapping(
        {"firstname": "Ada", "lastname": "L", "domain": "Acme SAS", "company_name": "Acme"}
    )
    assert (both.company_name, both.domain) == ("Acme", "")


def test_linkedin_alone_is_enough() -> None:
    """A LinkedIn profile URL stands in for a company; other URLs do not."""
    ok = Contact.from_mapping(
        {"firstname": "Ola", "lastname": "Nordmann", "linkedin_url": "linkedin.com/in/ola-n"}
    )
    assert ok.invalid_reason() is None
    assert ok.linkedin_url == "https://www.linkedin.com/in/ola-n/"
    bad = Contact.from_mapping(
        {"firstname": "Ola", "lastname": "Nordmann", "linkedin_url": "https://x.com/ola"}
    )
    assert bad.invalid_reason() == (
        "Add a company name, a company website or a LinkedIn URL to this row."
    )


def test_numbers_from_a_sheet_are_text_and_wrong_types_are_named() -> None:
    """A number in a cell is accepted as text; an object in a name field is a clear error."""
    assert (
        Contact.from_mapping({"firstname": 42, "lastname": "X", "domain": "a.io"}).firstname == "42"
    )
    with pytest.raises(ContactError, match="not text"):
        Contact.from_mapping({"firstname": {"a": 1}})


def test_enrichment_types_are_checked() -> None:
    """Only email and phone exist; order and case do not matter; empty is refused."""
    assert EnrichmentTypes.parse(None).names == ("email",)
    assert EnrichmentTypes.parse("Phone, email").names == ("email", "phone")
    with pytest.raises(ContactError, match="empty"):
        EnrichmentTypes.parse([])
    with pytest.raises(ContactError, match=r"not 'fax'"):
        EnrichmentTypes.parse(["fax"])
