"""The one vocabulary file: consistent in itself, and the add-in's generated copy current."""

from __future__ import annotations

import pytest

from pronto_sheets.results import Status
from pronto_sheets.vocabulary import fold_header, fold_text, parse_vocabulary, vocabulary
from pronto_sheets_dev.vocabulary_js import DEFAULT_OUT, render


def test_the_generated_apps_script_copy_is_current() -> None:
    """apps_script/Vocabulary.js is exactly what the generator writes from vocabulary.json."""
    assert DEFAULT_OUT.read_text(encoding="utf-8") == render(), (
        "apps_script/Vocabulary.js is stale: run python -m pronto_sheets_dev.vocabulary_js"
    )


def test_a_header_claimed_by_two_fields_is_refused() -> None:
    """Adding "Name" as a company synonym too would make headers ambiguous: refused at load."""
    raw = dict(vocabulary().raw)
    raw["header_synonyms"] = {**raw["header_synonyms"], "company_name": ["name"]}
    with pytest.raises(ValueError, match="names both full_name and company_name"):
        parse_vocabulary(raw)


def test_statuses_types_and_columns_agree() -> None:
    """Every status code is a Status, every type has its two output columns, the row
    precedence names only row statuses, and the done codes are answers."""
    vocab = vocabulary()
    assert {s.value for s in Status} == set(vocab.raw["statuses"])
    fields = {column.field for column in vocab.output_columns}
    for info in vocab.types:
        assert {info.data_column, info.status_column} <= fields
        assert info.data_column in vocab.header_fields.values()
    assert set(vocab.row_status_precedence) <= {s.value for s in Status}
    assert all(vocab.is_answer(code) for code in vocab.cells["done_status_codes"])


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Prénom", "firstname"),
        ("NOM", "lastname"),
        ("Courriel", "email"),
        ("Statut Pronto", "pronto_status"),
        ("Domaine", "domain"),
        ("Employer", "company_name"),
        ("Profil", "linkedin_url"),
        ("Nombre", "firstname"),
        ("Apellidos", "lastname"),
        ("Correo electrónico", "email"),
        ("Vorname", "firstname"),
        ("Nachname", "lastname"),
        ("Telefonnummer", "phone"),
        ("Personal e-mail", "personal_email"),
    ],
)
def test_headers_in_four_languages(header: str, field: str) -> None:
    """English, French, Spanish and German headers map to their fields, folded."""
    assert vocabulary().header_fields[fold_header(header)] == field


def test_folding_drops_accents_and_case_but_keeps_letters_javascript_keeps() -> None:
    """Zoé = ZOE; white space as JavaScript knows it; ß stays (JavaScript has no casefold)."""
    assert fold_text("  Zoé \u00a0 DUPONT\ufeff") == "zoe dupont"
    assert fold_text("Strauß") == "strauß"
    assert fold_text("a\x1cb") == "a\x1cb"  # not white space in JavaScript


def test_the_python_field_names_are_the_vocabulary_s() -> None:
    """InputField and OutputField spell exactly the vocabulary's fields, in its order."""
    from pronto_sheets.sheets.columns import InputField, OutputField

    assert [f.value for f in InputField] == list(vocabulary().input_fields)
    assert [f.value for f in OutputField] == [c.field for c in vocabulary().output_columns]
