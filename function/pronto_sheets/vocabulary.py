"""The sheet vocabulary: one data file (`vocabulary.json`) that Python and Apps Script share.

It holds what both halves of the product must agree on to judge a sheet the same way:
the enrichment types and their columns, the status codes and which are answers, header
synonyms (English, French, Spanish, German), the output headers, the messages a person
reads, the done rule's data and how a contact's identity is folded. Python reads the file
here; `apps_script/Vocabulary.js` is generated from it (`python -m
pronto_sheets_dev.vocabulary_js`), and a parity test runs both sides on shared fixtures.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any, Literal, cast

EnrichmentType = Literal["email", "phone", "personal_email"]

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
# White space as JavaScript's \s knows it, spelled out (as regex escapes) so both languages
# agree exactly: Python's \s adds \x1c-\x1f, JavaScript's adds U+FEFF.
WHITESPACE = r"\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_SPACES = re.compile(f"[{WHITESPACE}]+")
_EDGE_SPACES = re.compile(f"^[{WHITESPACE}]+|[{WHITESPACE}]+$")
# Anything squeeze_spaces would change: most cells have none, and skip the two rewrites.
_ODD_SPACE = re.compile(f"[{WHITESPACE.replace(' ', '')}]|  |^ | $")


@dataclass(frozen=True)
class TypeInfo:
    """One enrichment type: its columns, whether Pronto needs a LinkedIn URL, its price."""

    name: EnrichmentType
    label: str
    needs_linkedin: bool
    credits_setting: str
    default_credits: int
    data_column: str
    status_column: str


@dataclass(frozen=True)
class OutputColumn:
    field: str
    header: str
    type: EnrichmentType | None
    kind: Literal["data", "status", "row_status"]


@dataclass(frozen=True)
class Vocabulary:
    """The parsed vocabulary file; see `vocabulary.json` for the meaning of each part."""

    raw: dict[str, Any]
    types: tuple[TypeInfo, ...]
    output_columns: tuple[OutputColumn, ...]
    header_fields: dict[str, str]  # folded header text -> field
    override_keys: dict[str, str]

    @property
    def version(self) -> int:
        return int(self.raw["version"])

    @property
    def type_names(self) -> tuple[EnrichmentType, ...]:
        return tuple(info.name for info in self.types)

    def type_info(self, name: str) -> TypeInfo:
        for info in self.types:
            if info.name == name:
                return info
        raise KeyError(name)

    def status(self, code: str) -> dict[str, Any]:
        return cast(dict[str, Any], self.raw["statuses"][code])

    def is_answer(self, code: str) -> bool:
        return bool(self.status(code)["answer"])

    def row_status_of(self, code: str) -> str:
        """The row-level code a type-level code counts as (needs_linkedin → invalid)."""
        return str(self.status(code).get("row_status", code))

    @property
    def row_status_precedence(self) -> tuple[str, ...]:
        return tuple(self.raw["row_status_precedence"])

    @property
    def cells(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.raw["sheet_cells"])

    @property
    def messages(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.raw["messages"])

    @property
    def identity(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.raw["identity"])

    @property
    def input_fields(self) -> tuple[str, ...]:
        return tuple(self.raw["input_fields"])

    @property
    def header_anchors(self) -> tuple[str, ...]:
        return tuple(self.raw["header_anchors"])

    @property
    def header_scan_rows(self) -> int:
        return int(self.raw["header_scan_rows"])

    def output_header(self, field: str) -> str:
        for column in self.output_columns:
            if column.field == field:
                return column.header
        raise KeyError(field)

    def needs_linkedin_message(self, type_name: str) -> str:
        return str(self.messages["needs_linkedin"][type_name])


def fold_header(text: object) -> str:
    """Header text folded for matching: `" Prénom "` and `"PRE-NOM"` → `"prenom"`."""
    return _NOT_ALNUM.sub("", fold_text(str(text or "")).replace(" ", ""))


@lru_cache(maxsize=65_536)
def fold_text(text: str) -> str:
    r"""Text as identity compares it: accents dropped, lower case, spaces collapsed.

    `"  Zoé  DUPONT "` → `"zoe dupont"`. Apps Script takes the same steps with the same
    Unicode tables: NFKD, drop marks (general category M*, JavaScript's `\p{M}`),
    `lower()` (= `toLowerCase()`; not `casefold()`, which JavaScript lacks: ß stays ß).
    Remembered per process: a sheet's recalculation folds the same names again and again.
    """
    if text.isascii():  # NFKD leaves ASCII as it is, and ASCII has no marks to drop
        return squeeze_spaces(text.lower())
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.category(ch).startswith("M"))
    return squeeze_spaces(plain.lower())


def squeeze_spaces(text: str) -> str:
    """Runs of white space as one space, none at either end (JavaScript's rule, see WHITESPACE)."""
    if not _ODD_SPACE.search(text):
        return text
    return _EDGE_SPACES.sub("", _SPACES.sub(" ", text))


@cache
def vocabulary() -> Vocabulary:
    """The vocabulary, read once from the package's `vocabulary.json`."""
    text = resources.files("pronto_sheets").joinpath("vocabulary.json").read_text("utf-8")
    return parse_vocabulary(json.loads(text))


def parse_vocabulary(raw: dict[str, Any]) -> Vocabulary:
    """Build and check a `Vocabulary`; a synonym claimed by two fields is a `ValueError`."""
    types = tuple(
        TypeInfo(
            name=item["name"],
            label=item["label"],
            needs_linkedin=bool(item["needs_linkedin"]),
            credits_setting=item["credits_setting"],
            default_credits=int(item["default_credits"]),
            data_column=item["data_column"],
            status_column=item["status_column"],
        )
        for item in raw["enrichment_types"]
    )
    columns = tuple(
        OutputColumn(item["field"], item["header"], item["type"], item["kind"])
        for item in raw["output_columns"]
    )
    header_fields: dict[str, str] = {}
    for field, synonyms in raw["header_synonyms"].items():
        for synonym in synonyms:
            key = fold_header(synonym)
            if header_fields.get(key, field) != field:
                raise ValueError(
                    f"vocabulary.json: the header {synonym!r} names both "
                    f"{header_fields[key]} and {field}."
                )
            header_fields[key] = field
    return Vocabulary(
        raw=raw,
        types=types,
        output_columns=columns,
        header_fields=header_fields,
        override_keys=dict(raw["column_override_keys"]),
    )
