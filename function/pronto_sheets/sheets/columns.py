"""Which column of a sheet holds what: header detection and the column map of a fill.

Headers are compared after folding case, accents, spaces and punctuation away
(`"Prénom"`, `"PRENOM"` and `"pré-nom"` are all `prenom`), against English and French
synonyms. The header row is the first of the sheet's top rows that names the people
(first and last name, or a full name) and at least one way to find them (company,
website or LinkedIn). An explicit mapping (`{"firstname": "Given", "domain": "D"}`, a
header text or a column letter) overrides detection. A sheet that cannot be mapped
raises `ColumnMappingError` listing the headers found and the ones expected.

The output columns (Email, Email status, Phone, Phone status, Pronto status) are found
the same way; the filler appends the missing ones after the last used column.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .a1 import column_index


class InputField(StrEnum):
    """What a sheet can tell us about a person (the keys of `Contact.from_mapping`)."""

    FIRSTNAME = "firstname"
    LASTNAME = "lastname"
    FULL_NAME = "full_name"
    COMPANY_NAME = "company_name"
    DOMAIN = "domain"
    LINKEDIN_URL = "linkedin_url"


class OutputField(StrEnum):
    """The columns a fill writes, in the order they are appended."""

    EMAIL = "email"
    EMAIL_STATUS = "email_status"
    PHONE = "phone"
    PHONE_STATUS = "phone_status"
    PRONTO_STATUS = "pronto_status"


OUTPUT_HEADERS: dict[OutputField, str] = {
    OutputField.EMAIL: "Email",
    OutputField.EMAIL_STATUS: "Email status",
    OutputField.PHONE: "Phone",
    OutputField.PHONE_STATUS: "Phone status",
    OutputField.PRONTO_STATUS: "Pronto status",
}

_INPUT_SYNONYMS: dict[InputField, tuple[str, ...]] = {
    InputField.FIRSTNAME: ("first name", "firstname", "first", "prénom", "given name"),
    InputField.LASTNAME: (
        "last name",
        "lastname",
        "last",
        "nom",
        "surname",
        "family name",
        "nom de famille",
    ),
    InputField.FULL_NAME: ("full name", "name", "nom complet", "contact name"),
    InputField.COMPANY_NAME: (
        "company",
        "company name",
        "organisation",
        "organization",
        "société",
        "entreprise",
        "nom de l'entreprise",
        "account",
        "account name",
    ),
    InputField.DOMAIN: (
        "domain",
        "website",
        "company website",
        "company domain",
        "url",
        "site web",
        "site",
        "site internet",
        "domaine",
        "web",
    ),
    InputField.LINKEDIN_URL: (
        "linkedin",
        "linkedin url",
        "profile",
        "linkedin profile",
        "linkedin profile url",
        "profile url",
        "profil linkedin",
        "profil",
    ),
}

_OUTPUT_SYNONYMS: dict[OutputField, tuple[str, ...]] = {
    OutputField.EMAIL: ("email", "e-mail", "email address", "adresse email", "courriel"),
    OutputField.EMAIL_STATUS: ("email status", "statut email", "statut e-mail"),
    OutputField.PHONE: ("phone", "phone number", "téléphone", "numéro de téléphone"),
    OutputField.PHONE_STATUS: ("phone status", "statut téléphone"),
    OutputField.PRONTO_STATUS: ("pronto status", "statut pronto", "status pronto"),
}

# What an explicit mapping may name, and the spellings accepted for each key.
_OVERRIDE_KEYS: dict[str, InputField | OutputField] = {
    "firstname": InputField.FIRSTNAME,
    "first_name": InputField.FIRSTNAME,
    "lastname": InputField.LASTNAME,
    "last_name": InputField.LASTNAME,
    "full_name": InputField.FULL_NAME,
    "fullname": InputField.FULL_NAME,
    "name": InputField.FULL_NAME,
    "company_name": InputField.COMPANY_NAME,
    "company": InputField.COMPANY_NAME,
    "domain": InputField.DOMAIN,
    "website": InputField.DOMAIN,
    "linkedin_url": InputField.LINKEDIN_URL,
    "linkedin": InputField.LINKEDIN_URL,
    **{field.value: field for field in OutputField},
}

HEADER_SCAN_ROWS = 10
_COLUMN_LETTERS = re.compile(r"^[A-Za-z]{1,3}$")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_ANCHORS = (InputField.COMPANY_NAME, InputField.DOMAIN, InputField.LINKEDIN_URL)


class ColumnMappingError(ValueError):
    """The sheet's columns cannot be mapped; the message says what was found and expected."""


def normalize_header(text: object) -> str:
    """Header text folded for comparison: `" Prénom "` and `"PRE-NOM"` → `"prenom"`."""
    decomposed = unicodedata.normalize("NFKD", str(text or ""))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_ALNUM.sub("", plain.casefold())


def _lookup(synonyms: Mapping[Any, tuple[str, ...]]) -> dict[str, Any]:
    return {normalize_header(text): field for field, texts in synonyms.items() for text in texts}


_INPUT_BY_HEADER: dict[str, InputField] = _lookup(_INPUT_SYNONYMS)
_OUTPUT_BY_HEADER: dict[str, OutputField] = _lookup(_OUTPUT_SYNONYMS)


def split_full_name(text: str) -> tuple[str, str]:
    """First and last name from one cell: `"Ada Lovelace"`, `"Lovelace, Ada"`.

    The first word is the first name and the rest the last name (`"Jean de La Fontaine"`
    → `("Jean", "de La Fontaine")`); a comma means "last, first". One word gives no last
    name, so the row is reported as incomplete rather than guessed.
    """
    text = " ".join(str(text or "").split())
    if "," in text:
        last, _, first = text.partition(",")
        return first.strip(), last.strip()
    first, _, last = text.partition(" ")
    return first, last.strip()


def _cell(row: Sequence[Any], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    value = row[index]
    return "" if value is None else str(value).strip()


@dataclass(frozen=True)
class ColumnMap:
    """Where a sheet keeps its inputs and outputs; columns are 0-based indexes.

    `header_row` is the 0-based index of the header row in the values read (data starts
    on the next row). `outputs` holds only the output columns the sheet already has.
    """

    header_row: int
    headers: tuple[str, ...]
    inputs: Mapping[InputField, int]
    outputs: Mapping[OutputField, int]

    def contact_fields(self, row: Sequence[Any]) -> dict[str, str]:
        """The row's inputs as `Contact.from_mapping` takes them (a full name is split)."""
        fields = {
            name.value: _cell(row, self.inputs.get(name))
            for name in (
                InputField.FIRSTNAME,
                InputField.LASTNAME,
                InputField.COMPANY_NAME,
                InputField.DOMAIN,
                InputField.LINKEDIN_URL,
            )
        }
        full = _cell(row, self.inputs.get(InputField.FULL_NAME))
        if full and not (fields["firstname"] and fields["lastname"]):
            first, last = split_full_name(full)
            if fields["firstname"] and full.casefold().startswith(fields["firstname"].casefold()):
                # "First name" + "Name" columns: the name column repeats the first name.
                last = full[len(fields["firstname"]) :].strip()
            elif fields["firstname"]:
                last = full
            fields["firstname"] = fields["firstname"] or first
            fields["lastname"] = fields["lastname"] or last
        return fields

    def is_blank(self, row: Sequence[Any]) -> bool:
        """True when every input cell of the row is empty (such rows are left alone)."""
        return not any(_cell(row, index) for index in self.inputs.values())

    def output(self, row: Sequence[Any], field: OutputField) -> str:
        """The text of an output cell of the row ("" when the column does not exist yet)."""
        return _cell(row, self.outputs.get(field))


def _override_target(
    key: str, value: object, headers: Sequence[str]
) -> tuple[InputField | OutputField, int | None]:
    field = _OVERRIDE_KEYS.get(key.strip().lower())
    if field is None:
        accepted = ", ".join(sorted(set(_OVERRIDE_KEYS)))
        raise ColumnMappingError(
            f'"columns" has an unknown key {key!r}. Use some of: {accepted} '
            '(each naming a header or a column letter, like {"firstname": "Prénom"}).'
        )
    if not isinstance(value, str) or not value.strip():
        raise ColumnMappingError(
            f'"columns.{key}" must be a header text or a column letter such as "C".'
        )
    wanted = normalize_header(value)
    for index, header in enumerate(headers):
        if wanted and normalize_header(header) == wanted:
            return field, index
    if _COLUMN_LETTERS.match(value.strip()):
        return field, column_index(value.strip())
    return field, None


def _candidate(
    row_index: int, row: Sequence[Any], overrides: Mapping[str, object]
) -> tuple[ColumnMap, int, list[str]]:
    """The map this row gives as a header row, how many headers it recognised, what it lacks."""
    headers = tuple(_cell(row, i) for i in range(len(row)))
    inputs: dict[InputField, int] = {}
    outputs: dict[OutputField, int] = {}
    recognised = 0
    for index, header in enumerate(headers):
        key = normalize_header(header)
        if not key:
            continue
        if key in _INPUT_BY_HEADER:
            inputs.setdefault(_INPUT_BY_HEADER[key], index)
            recognised += 1
        elif key in _OUTPUT_BY_HEADER:
            outputs.setdefault(_OUTPUT_BY_HEADER[key], index)
            recognised += 1
    missing_overrides: list[str] = []
    for key, value in overrides.items():
        field, column = _override_target(key, value, headers)
        if column is None:
            missing_overrides.append(f'"{value}" (for {key})')
            continue
        recognised += 1
        target: dict[Any, int] = inputs if isinstance(field, InputField) else outputs
        target[field] = column
    missing: list[str] = []
    has_names = InputField.FIRSTNAME in inputs and InputField.LASTNAME in inputs
    if not has_names and InputField.FULL_NAME not in inputs:
        missing.append("first and last name (or a full name)")
    if not any(anchor in inputs for anchor in _ANCHORS):
        missing.append("a company, a company website or a LinkedIn URL")
    missing.extend(f"the column {text}" for text in missing_overrides)
    return ColumnMap(row_index, headers, inputs, outputs), recognised, missing


def detect_columns(
    values: Sequence[Sequence[Any]],
    overrides: Mapping[str, object] | None = None,
    *,
    scan_rows: int = HEADER_SCAN_ROWS,
) -> ColumnMap:
    """The column map of a sheet from its values (as read, row by row).

    The header row is the first of the top `scan_rows` rows that maps names and an
    anchor. Raises `ColumnMappingError` with the headers found and those expected.
    """
    overrides = dict(overrides or {})
    best: tuple[int, list[str], tuple[str, ...]] | None = None
    for row_index, row in enumerate(values[:scan_rows]):
        if not any(_cell(row, i) for i in range(len(row))):
            continue
        column_map, recognised, missing = _candidate(row_index, row, overrides)
        if not missing:
            return column_map
        if best is None or recognised > best[0]:
            best = (recognised, missing, column_map.headers)
    if best is None:
        raise ColumnMappingError(
            "The sheet is empty: put a header row (First name, Last name, Company, Website) "
            "and one contact per row below it."
        )
    _, missing, headers = best
    found = ", ".join(f'"{h}"' for h in headers if h) or "none"
    raise ColumnMappingError(
        f"Could not tell which columns to use: missing {' and '.join(missing)}. "
        f"Headers found: {found}. Expected headers such as First name / Prénom, "
        "Last name / Nom, or Full name / Nom complet, with Company / Société, "
        'Website / Site web or LinkedIn; or name them in "columns", like '
        '{"firstname": "Given", "lastname": "Family", "domain": "Web"}.'
    )
