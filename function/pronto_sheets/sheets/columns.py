"""Which column of a sheet holds what: header detection and the column map of a fill.

Headers are compared folded (case, accents, spaces and punctuation away: `"Prénom"`,
`"PRENOM"` and `"pré-nom"` are all `prenom`) against the vocabulary's synonyms in
English, French, Spanish and German. The header row is the first of the sheet's top rows
that names the people (first and last name, or a full name) and at least one way to find
them (company, website or LinkedIn); a header maps to its field left to right, the first
column of a field winning. An explicit mapping (`{"firstname": "Given", "domain": "D"}`,
a header text or a column letter) overrides detection. A sheet that cannot be mapped
raises `ColumnMappingError` listing the headers found and the ones expected.

The output columns (Email, Email status, Phone, …, Pronto status) are found the same way.
Apps Script (apps_script/Columns.js) takes exactly these steps from the same vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pronto_sheets.errors import ColumnMappingError
from pronto_sheets.sheets.a1 import column_index
from pronto_sheets.vocabulary import fold_header, squeeze_spaces, vocabulary


class InputField(StrEnum):
    """What a sheet can tell us about a person (the vocabulary's `input_fields`)."""

    FIRSTNAME = "firstname"
    LASTNAME = "lastname"
    FULL_NAME = "full_name"
    COMPANY_NAME = "company_name"
    DOMAIN = "domain"
    LINKEDIN_URL = "linkedin_url"


class OutputField(StrEnum):
    """The columns a fill writes (the vocabulary's `output_columns`), in their order."""

    EMAIL = "email"
    EMAIL_STATUS = "email_status"
    PHONE = "phone"
    PHONE_STATUS = "phone_status"
    PERSONAL_EMAIL = "personal_email"
    PERSONAL_EMAIL_STATUS = "personal_email_status"
    PRONTO_STATUS = "pronto_status"


FIRSTNAME, LASTNAME, FULL_NAME = InputField.FIRSTNAME, InputField.LASTNAME, InputField.FULL_NAME
# The fields `Contact.from_mapping` takes (a full name is split into the first two).
CONTACT_FIELDS = tuple(field.value for field in InputField if field is not InputField.FULL_NAME)
normalize_header = fold_header
_COLUMN_LETTERS = re.compile(r"^[A-Za-z]{1,3}$")


def is_input_field(field: str) -> bool:
    return field in vocabulary().input_fields


def cell_text(row: Sequence[Any], index: int | None) -> str:
    """A cell as text, trimmed ("" past the row's end or for an absent column)."""
    if index is None or index < 0 or index >= len(row):
        return ""
    value = row[index]
    return "" if value is None else squeeze_spaces(str(value))


def split_full_name(text: str) -> tuple[str, str]:
    """First and last name from one cell: `"Ada Lovelace"`, `"Lovelace, Ada"`.

    The first word is the first name and the rest the last name (`"Jean de La Fontaine"`
    → `("Jean", "de La Fontaine")`); a comma means "last, first". One word gives no last
    name, so the row is reported as incomplete rather than guessed.
    """
    text = squeeze_spaces(str(text or ""))
    if "," in text:
        last, _, first = text.partition(",")
        return squeeze_spaces(first), squeeze_spaces(last)
    first, _, last = text.partition(" ")
    return first, squeeze_spaces(last)


@dataclass(frozen=True)
class ColumnMap:
    """Where a sheet keeps its inputs and outputs; columns are 0-based indexes.

    `header_row` is the 0-based index of the header row in the values read (data starts
    on the next row). `outputs` holds only the output columns the sheet already has.
    """

    header_row: int
    headers: tuple[str, ...]
    inputs: Mapping[str, int]
    outputs: Mapping[str, int]

    def contact_fields(self, row: Sequence[Any]) -> dict[str, str]:
        """The row's inputs as `Contact.from_mapping` takes them (a full name is split)."""
        fields = {name: cell_text(row, self.inputs.get(name)) for name in CONTACT_FIELDS}
        full = cell_text(row, self.inputs.get(FULL_NAME))
        if full and not (fields[FIRSTNAME] and fields[LASTNAME]):
            first, last = split_full_name(full)
            if fields[FIRSTNAME] and full.lower().startswith(fields[FIRSTNAME].lower()):
                # "First name" + "Name" columns: the name column repeats the first name.
                last = squeeze_spaces(full[len(fields[FIRSTNAME]) :])
            elif fields[FIRSTNAME]:
                last = full
            fields[FIRSTNAME] = fields[FIRSTNAME] or first
            fields[LASTNAME] = fields[LASTNAME] or last
        return fields

    def is_blank(self, row: Sequence[Any]) -> bool:
        """True when every input cell of the row is empty (such rows are left alone)."""
        return not any(cell_text(row, index) for index in self.inputs.values())

    def output(self, row: Sequence[Any], field: str) -> str:
        """The text of an output cell of the row ("" when the column does not exist yet)."""
        return cell_text(row, self.outputs.get(field))


def _override_target(
    key: str, value: object, headers: Sequence[str]
) -> tuple[str, int | None, bool]:
    """Where an override points: its field, its column (None: not found), and whether it
    named a header of this row (a column letter says nothing about which row is the
    header row)."""
    keys = vocabulary().override_keys
    field = keys.get(key.strip().lower())
    if field is None:
        accepted = ", ".join(sorted(keys))
        raise ColumnMappingError(
            f'"columns" has an unknown key {key!r}. Use some of: {accepted} '
            '(each naming a header or a column letter, like {"firstname": "Prénom"}).',
            code="invalid_field",
        )
    if not isinstance(value, str) or not value.strip():
        raise ColumnMappingError(
            f'"columns.{key}" must be a header text or a column letter such as "C".',
            code="invalid_field",
        )
    wanted = fold_header(value)
    for index, header in enumerate(headers):
        if wanted and fold_header(header) == wanted:
            return field, index, True
    if _COLUMN_LETTERS.match(value.strip()):
        return field, column_index(value.strip()), False
    return field, None, False


def _candidate(
    row_index: int, row: Sequence[Any], overrides: Mapping[str, object]
) -> tuple[ColumnMap, int, list[str]]:
    """The map this row gives as a header row, how many headers it recognised, what it lacks."""
    vocab = vocabulary()
    headers = tuple(cell_text(row, i) for i in range(len(row)))
    inputs: dict[str, int] = {}
    outputs: dict[str, int] = {}
    recognised = 0
    for index, header in enumerate(headers):
        field = vocab.header_fields.get(fold_header(header)) if header else None
        if field is None:
            continue
        target = inputs if is_input_field(field) else outputs
        target.setdefault(field, index)
        recognised += 1
    missing_overrides: list[str] = []
    for key, value in overrides.items():
        field, column, named_here = _override_target(key, value, headers)
        if column is None:
            missing_overrides.append(f'"{value}" (for {key})')
            continue
        recognised += named_here
        (inputs if is_input_field(field) else outputs)[field] = column
    missing: list[str] = []
    has_names = FIRSTNAME in inputs and LASTNAME in inputs
    if not has_names and FULL_NAME not in inputs:
        missing.append("first and last name (or a full name)")
    if not any(anchor in inputs for anchor in vocab.header_anchors):
        missing.append("a company, a company website or a LinkedIn URL")
    missing.extend(f"the column {text}" for text in missing_overrides)
    return ColumnMap(row_index, headers, inputs, outputs), recognised, missing


def detect_columns(
    values: Sequence[Sequence[Any]],
    overrides: Mapping[str, object] | None = None,
    *,
    scan_rows: int | None = None,
    header_row: int | None = None,
) -> ColumnMap:
    """The column map of a sheet from its values (as read, row by row).

    The header row is `header_row` (0-based) when given; else the first of the top
    `scan_rows` rows that maps names and an anchor and recognises at least one of its
    own headers (column letters in `overrides` fit any row, so they cannot tell which
    row holds the headers); failing that, the first row column letters complete. Raises
    `ColumnMappingError` with the headers found and those expected.
    """
    overrides = dict(overrides or {})
    scan = vocabulary().header_scan_rows if scan_rows is None else scan_rows
    rows = (
        [(header_row, values[header_row] if header_row < len(values) else [])]
        if header_row is not None
        else list(enumerate(values[:scan]))
    )
    best: tuple[int, list[str], tuple[str, ...]] | None = None
    complete_by_letters: ColumnMap | None = None
    for row_index, row in rows:
        if header_row is None and not any(cell_text(row, i) for i in range(len(row))):
            continue
        column_map, recognised, missing = _candidate(row_index, row, overrides)
        if not missing and (recognised or header_row is not None):
            return column_map
        if not missing and complete_by_letters is None:
            complete_by_letters = column_map
        if best is None or recognised > best[0]:
            best = (recognised, missing, column_map.headers)
    if complete_by_letters is not None:
        return complete_by_letters
    raise _no_mapping(best)


def _no_mapping(best: tuple[int, list[str], tuple[str, ...]] | None) -> ColumnMappingError:
    """What to fix when no row maps: the sheet is empty, or the best row's gaps."""
    if best is None:
        return ColumnMappingError(
            "The sheet is empty: put a header row (First name, Last name, Company, Website) "
            "and one contact per row below it."
        )
    _, missing, headers = best
    found = ", ".join(f'"{h}"' for h in headers if h) or "none"
    return ColumnMappingError(
        f"Could not tell which columns to use: missing {' and '.join(missing)}. "
        f"Headers found: {found}. Expected headers such as First name / Prénom / Nombre / "
        "Vorname, Last name / Nom / Apellido / Nachname, or Full name / Nom complet, with "
        "Company / Société / Empresa / Firma, Website / Site web or LinkedIn; or name them "
        'in "columns", like {"firstname": "Given", "lastname": "Family", "domain": "Web"}.'
    )
