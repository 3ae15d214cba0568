"""Write fixtures.json: the shared rows the parity test runs through Python and Apps Script.

Deterministic (seeded); run `python tests/data/parity/make_fixtures.py` after changing it.
At least 30 header rows and 200 contact rows: accents, URLs, full names, blanks, white
space of every kind, emails typed as websites, companies typed as websites, LinkedIn
spellings, numbers, and rows already filled (for the per-type done rule).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent

HEADER_SETS: list[dict[str, object]] = [
    {"rows": [["First name", "Last name", "Company", "Website", "LinkedIn"]]},
    {"rows": [["Prénom", "Nom", "Courriel", "Statut Pronto", "Domaine"]]},
    {"rows": [["PRENOM", "NOM", "Société", "Site web"]]},
    {"rows": [["Full name", "Company"]]},
    {"rows": [["Name", "Employer", "Profil"]]},
    {"rows": [["Nom complet", "Entreprise", "Profil LinkedIn", "Email", "Email status"]]},
    {"rows": [["Nombre", "Apellidos", "Empresa", "Sitio web", "Correo electrónico"]]},
    {"rows": [["Vorname", "Nachname", "Firma", "Webseite", "Telefonnummer", "Telefonstatus"]]},
    {"rows": [["Vollständiger Name", "Unternehmen", "LinkedIn-Profil"]]},
    {"rows": [["first_name", "last_name", "company_name", "domain", "linkedin_url"]]},
    {"rows": [["  First  Name ", "LAST-NAME", "Company Website"]]},
    {"rows": [["Report Q3"], [], ["First name", "Last name", "Website"]]},
    {"rows": [["Notes", "", ""], ["Given name", "Surname", "Organisation", "Profile URL"]]},
    {"rows": [["First name", "Name", "Company"]]},
    {"rows": [["Contact name", "Account", "Phone", "Phone status", "Pronto status"]]},
    {"rows": [["First", "Last", "URL", "Personal email", "Personal email status"]]},
    {"rows": [["Email", "Phone"]]},
    {"rows": [["First name", "Last name"]]},
    {"rows": [["Company", "Website"]]},
    {"rows": [[]]},
    {"rows": [["Given", "Family", "Web"]], "overrides": {"firstname": "Given", "lastname": "B"}},
    {"rows": [["A", "B", "C"]], "overrides": {"firstname": "A", "lastname": "B", "domain": "C"}},
    {"rows": [["A", "B", "C"]], "overrides": {"firstname": "A", "lastname": "Zed", "domain": "C"}},
    {"rows": [["Prénom", "Nom", "Site internet", "E-mail", "Statut e-mail"]]},
    {"rows": [["nombre completo", "compañía", "perfil de linkedin", "teléfono"]]},
    {"rows": [["Forename", "Family name", "Company domain", "Work email"]]},
    {"rows": [["Prénom et nom", "Employeur", "Lien LinkedIn"]]},
    {"rows": [["Email", "First name", "Last name", "Company", "Email", "Pronto-Status"]]},
    {"rows": [["First name", "First name", "Last name", "Website", "Website"]]},
    {"rows": [["Vor- und Nachname", "Arbeitgeber", "Homepage", "E-Mail-Adresse", "E-Mail-Status"]]},
    {"rows": [["First name", "Last name", "Company or website", "Mobile phone"]]},
    {"rows": [["Nombre", "Apellido", "Dominio", "Correo personal", "Estado del correo personal"]]},
    {"rows": [[1, 2, 3], ["First name", "Last name", "Company"]]},
    {"rows": [["Statut Pronto", "Prénom", "Nom", "Entreprise", "Téléphone", "Statut téléphone"]]},
    # Column letters fit any row: they never make a title row the header row.
    {
        "rows": [["Leads Q3"], ["Given", "Family", "Web"]],
        "overrides": {"firstname": "A", "lastname": "B", "domain": "C"},
    },
    {
        "rows": [["Leads Q3"], ["Who", "Whom", "Where"]],
        "overrides": {"firstname": "A", "lastname": "B", "domain": "C"},
    },
]

FIRST = [
    "Zoé",
    "Zoe",
    "ZOÉ",
    "Ada",
    "  ada ",
    "Éloïse",
    "Jean-Luc",
    "Åsa",
    "Strauß",
    "Nguyễn",
    "O'Brien",
    "María José",
    "İlker",
    "Łukasz",
    "\u00a0Chloé\u00a0",
    "Zoe\u0301",
    "Mathieu",
    "",
    "François",
    "Søren",
    "Ωmega",
    "42",
]
LAST = [
    "Dupont",
    "DUPONT",
    "de La Fontaine",
    "Brun-Picard",
    "Müller",
    "Mueller",
    "García",
    "Lovelace",
    "",
    "van der Berg",
    "Ng",
    "O’Neil",
    "Hopper",
    "Turing",
    "Çelik",
    "Ø",
]
DOMAINS = [
    "acme.io",
    "https://www.Acme.io/about",
    "ACME.IO:8443",
    "http://acme.io?utm=x",
    " www.acme.io/ ",
    "ada@acme.io",
    "mailto:ada@acme.io",
    "sub.acme.co.uk",
    "münchen.de",
    "not a domain",
    "localhost",
    "Acme SAS",
    "-bad-.com",
    "a_b.com",
    "acme..io",
    "acme.io.",
    "https://user:pw@acme.io:443/x#y",
    "",
    "//acme.io",
    "[::1]",
    "xn--mnchen-3ya.de",
    "ACME",
    "acme .io",
    "acme.io/path/with/slash",
    "http://",
    "12345",
    "exa mple.com",
    "https://www.linkedin.com/in/x",
]
COMPANIES = [
    "Acme",
    "ACME Inc.",
    "Société Générale",
    "",
    "  Acme   Corp ",
    "Müller & Söhne",
    "Initech",
    "acme",
    "Ünïcödé SA",
    "3M",
]
LINKEDINS = [
    "https://www.linkedin.com/in/zoe-dupont/",
    "linkedin.com/in/Zoe-Dupont",
    "https://fr.linkedin.com/in/zoe-dupont?trk=x",
    "https://www.linkedin.com/pub/ada/1/2/3",
    "https://www.linkedin.com/company/acme",
    "http://evillinkedin.com/in/x",
    "www.linkedin.com/in/%C3%A9loise/",
    "https://linkedin.com/in/",
    "",
    "",
    "",
    "",
    "in/zoe",
    "https://www.LinkedIn.com/IN/Ada-L/",
    "https://www.linkedin.com:443/in/ab",
]
FULL = [
    "Ada Lovelace",
    "Lovelace, Ada",
    "Alan  Mathison Turing",
    "Cher",
    "",
    "  Zoé   Dupont ",
    "Jean de La Fontaine",
    "García, María José",
    "Ada",
    "Dr. Grace Hopper",
]
EMAILS = ["", "", "", "ada@acme.io", '=HYPERLINK("x")', " "]
STATUSES = [
    "",
    "",
    "not_found",
    "Not_Found: nothing",
    "failed: Pronto did not answer",
    "pending: still searching",
    "valid",
    "invalid: Add a LinkedIn URL to look up a phone.",
    "needs_linkedin: Add a LinkedIn URL to look up a phone.",
    "over_budget",
    " NOT_FOUND ",
]
PHONES = ["", "", "+33612345678", "+33 6 12, +1 555"]

SHEET_HEADER = [
    "First name",
    "Last name",
    "Full name",
    "Company",
    "Website",
    "LinkedIn",
    "Email",
    "Email status",
    "Phone",
    "Phone status",
    "Personal email",
    "Personal email status",
    "Pronto status",
]


def contact_rows(rng: random.Random, count: int) -> list[list[object]]:
    rows: list[list[object]] = []
    for index in range(count):
        if index % 23 == 0:
            rows.append([])  # a blank row
            continue
        full = rng.choice(FULL) if index % 5 == 0 else ""
        first = "" if full and index % 2 else rng.choice(FIRST)
        last = "" if full else rng.choice(LAST)
        row: list[object] = [
            first,
            last,
            full,
            rng.choice(COMPANIES) if index % 3 else "",
            rng.choice(DOMAINS),
            rng.choice(LINKEDINS),
            rng.choice(EMAILS),
            rng.choice(STATUSES),
            rng.choice(PHONES),
            rng.choice(STATUSES),
            rng.choice(EMAILS),
            rng.choice(STATUSES),
            rng.choice(
                [
                    "",
                    "success",
                    "not_found: No email or phone found",
                    "invalid: Add the last name to this row.",
                ]
            ),
        ]
        if index % 17 == 0:
            row = row[: rng.randint(1, len(row))]  # a short row, as the Sheets API returns them
        rows.append(row)
    return rows


RESULTS: list[dict[str, object]] = [
    {
        "status": "success",
        "types": {"email": {"status": "success", "message": None}},
        "email": "ada@acme.io",
        "email_status": "valid",
        "done_before": [],
    },
    {
        "status": "success",
        "types": {
            "email": {"status": "success", "message": None},
            "phone": {
                "status": "needs_linkedin",
                "message": "Add a LinkedIn URL to look up a phone.",
            },
        },
        "email": "ada@acme.io",
        "email_status": "catch-all",
        "message": "Add a LinkedIn URL to look up a phone.",
        "done_before": [],
    },
    {
        "status": "not_found",
        "types": {
            "email": {"status": "not_found", "message": "No email or phone found for this profile"}
        },
        "message": "No email or phone found for this profile",
        "done_before": [],
    },
    {
        "status": "not_found",
        "types": {"email": {"status": "not_found", "message": "Nothing"}},
        "message": "Nothing",
        "done_before": ["email"],
    },
    {
        "status": "success",
        "types": {"phone": {"status": "success", "message": None}},
        "phones": [
            {"number": "+33612345678", "type": "mobile"},
            {"number": "+15555550100", "type": None},
        ],
        "phone_status": "valid",
        "done_before": ["phone"],
    },
    {
        "status": "invalid",
        "types": {
            "email": {"status": "invalid", "message": "Add the last name to this row."},
            "phone": {"status": "invalid", "message": "Add the last name to this row."},
        },
        "message": "Add the last name to this row.",
        "done_before": [],
    },
    {
        "status": "invalid",
        "types": {
            "phone": {
                "status": "needs_linkedin",
                "message": "Add a LinkedIn URL to look up a phone.",
            },
            "personal_email": {
                "status": "needs_linkedin",
                "message": "Add a LinkedIn URL to look up a personal email.",
            },
        },
        "message": "Add a LinkedIn URL to look up a phone. Add a LinkedIn URL to look up a personal email.",
        "done_before": [],
    },
    {
        "status": "failed",
        "types": {
            "email": {"status": "success", "message": None},
            "personal_email": {
                "status": "paused",
                "message": "Personal emails are paused: accept personal email enrichment in your Pronto account settings.",
            },
        },
        "email": "zoe@acme.io",
        "email_status": None,
        "message": "Personal emails are paused: accept personal email enrichment in your Pronto account settings.",
        "done_before": [],
    },
    {
        "status": "pending",
        "types": {"email": {"status": "pending", "message": "Still   searching"}},
        "message": "Still   searching",
        "done_before": [],
    },
    {
        "status": "over_budget",
        "types": {
            "email": {"status": "over_budget", "message": "Budget used up."},
            "phone": {"status": "over_budget", "message": "Budget used up."},
        },
        "message": "Budget used up.",
        "done_before": ["phone"],
    },
    {
        "status": "failed",
        "types": {"email": {"status": "failed", "message": "Pronto did not answer."}},
        "message": "Pronto did not answer.",
        "done_before": ["email"],
    },
    {
        "status": "success",
        "types": {"personal_email": {"status": "success", "message": None}},
        "personal_email": "zoe.d@gmail.com",
        "personal_email_status": "valid",
        "done_before": [],
    },
    {
        "status": "success",
        "types": {"email": {"status": "success", "message": None}},
        "email": "=cmd|' /C calc'!A0",
        "email_status": "valid",
        "done_before": [],
    },
]


def main() -> None:
    rng = random.Random(20261201)
    sheets = [
        {
            "name": "mixed",
            "rows": [SHEET_HEADER, *contact_rows(rng, 160)],
            "types": ["email", "phone"],
        },
        {
            "name": "all types",
            "rows": [SHEET_HEADER, *contact_rows(rng, 60)],
            "types": ["email", "phone", "personal_email"],
        },
        {"name": "phones only", "rows": [SHEET_HEADER, *contact_rows(rng, 30)], "types": ["phone"]},
    ]
    fixtures = {
        "_comment": "Generated by make_fixtures.py; shared by tests/test_parity.py (Python) "
        "and tests/apps_script/support/parity.js (Apps Script).",
        "header_sets": HEADER_SETS,
        "sheets": sheets,
        "results": RESULTS,
    }
    (HERE / "fixtures.json").write_text(
        json.dumps(fixtures, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
