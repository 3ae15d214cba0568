"""Header detection and column mapping (unit tests: pure functions on rows of values)."""

from __future__ import annotations

import pytest

from pronto_sheets.enrich.contacts import Contact
from pronto_sheets.sheets.a1 import column_index, column_letters
from pronto_sheets.sheets.columns import (
    ColumnMappingError,
    InputField,
    OutputField,
    detect_columns,
    normalize_header,
    split_full_name,
)


def test_headers_fold_case_accents_spaces_and_punctuation() -> None:
    """ "Prénom", "PRENOM", " pré-nom " and "Pre_Nom" all read as the same header."""
    assert {normalize_header(t) for t in ("Prénom", "PRENOM", " pré-nom ", "Pre_Nom")} == {"prenom"}
    assert normalize_header("Company Website") == "companywebsite"
    assert normalize_header("LinkedIn URL") == "linkedinurl"


def test_french_and_messy_headers_are_mapped() -> None:
    """ "Prénom", "NOM", "Société", "Company Website" and "Profil LinkedIn" map to their fields."""
    values = [
        ["Notes", "Prénom", "NOM", "Société", "Company Website", "Profil LinkedIn"],
        ["vip", "Zoé", "Durand", "Acme", "https://www.acme.io/", "linkedin.com/in/zoe"],
    ]
    column_map = detect_columns(values)
    assert column_map.header_row == 0
    assert dict(column_map.inputs) == {
        InputField.FIRSTNAME: 1,
        InputField.LASTNAME: 2,
        InputField.COMPANY_NAME: 3,
        InputField.DOMAIN: 4,
        InputField.LINKEDIN_URL: 5,
    }
    contact = Contact.from_mapping(column_map.contact_fields(values[1]))
    assert (contact.firstname, contact.lastname, contact.domain) == ("Zoé", "Durand", "acme.io")
    assert contact.linkedin_url == "https://www.linkedin.com/in/zoe/"


@pytest.mark.parametrize(
    ("headers", "field"),
    [
        (["Given name", "Surname", "Organisation"], InputField.COMPANY_NAME),
        (["First Name", "Last Name", "Entreprise"], InputField.COMPANY_NAME),
        (["first_name", "last_name", "Site web"], InputField.DOMAIN),
        (["First", "Family name", "URL"], InputField.DOMAIN),
        (["firstname", "lastname", "Profile"], InputField.LINKEDIN_URL),
    ],
)
def test_english_and_french_synonyms(headers: list[str], field: InputField) -> None:
    """Each documented synonym is recognised, in either language."""
    column_map = detect_columns([headers])
    assert column_map.inputs[InputField.FIRSTNAME] == 0
    assert column_map.inputs[InputField.LASTNAME] == 1
    assert column_map.inputs[field] == 2


def test_header_row_below_a_title_row_is_found() -> None:
    """A title and an empty row above the headers are skipped; data starts under the headers."""
    values = [["Leads Q3 (do not share)"], [], ["Name", "Company"], ["Ada Lovelace", "Engines"]]
    column_map = detect_columns(values)
    assert column_map.header_row == 2
    assert column_map.contact_fields(values[3]) == {
        "firstname": "Ada",
        "lastname": "Lovelace",
        "company_name": "Engines",
        "domain": "",
        "linkedin_url": "",
    }


def test_full_name_is_split_into_first_and_last() -> None:
    """ "Full name" alone gives first and last names; "Last, First" is understood too."""
    assert split_full_name("  Ada   Lovelace ") == ("Ada", "Lovelace")
    assert split_full_name("Jean de La Fontaine") == ("Jean", "de La Fontaine")
    assert split_full_name("Lovelace, Ada") == ("Ada", "Lovelace")
    assert split_full_name("Cher") == ("Cher", "")
    column_map = detect_columns([["Full name", "Company"]])
    assert column_map.contact_fields(["Grace Brewster Hopper", "Navy"])["lastname"] == (
        "Brewster Hopper"
    )
    one_word = Contact.from_mapping(column_map.contact_fields(["Cher", "Sonny Inc"]))
    assert one_word.invalid_reason() == "Add the last name to this row."


def test_output_columns_are_found_when_present() -> None:
    """Existing Email / Pronto status columns are reused wherever they are."""
    column_map = detect_columns(
        [["Pronto Status", "First name", "Last name", "Domain", "E-mail", "Phone"]]
    )
    assert dict(column_map.outputs) == {
        OutputField.PRONTO_STATUS: 0,
        OutputField.EMAIL: 4,
        OutputField.PHONE: 5,
    }


def test_explicit_mapping_overrides_detection() -> None:
    """ "columns" can name a header text or a column letter, and wins over synonyms."""
    values = [
        ["Who", "Family", "Where", "Website", "Web site 2"],
        ["Ada", "L", "x", "a.io", "b.io"],
    ]
    column_map = detect_columns(
        values, {"firstname": "who", "last_name": "FAMILY", "domain": "E", "email": "Where"}
    )
    assert column_map.inputs[InputField.FIRSTNAME] == 0
    assert column_map.inputs[InputField.LASTNAME] == 1
    assert column_map.inputs[InputField.DOMAIN] == 4
    assert column_map.outputs[OutputField.EMAIL] == 2
    assert column_map.contact_fields(values[1])["domain"] == "b.io"


def test_an_unmappable_sheet_lists_headers_found_and_expected() -> None:
    """Without name columns the message lists what the sheet has and what it needs."""
    with pytest.raises(ColumnMappingError) as caught:
        detect_columns([["Ville", "Budget", "Société"], ["Paris", "10", "Acme"]])
    assert caught.value.message == (
        "Could not tell which columns to use: missing first and last name (or a full name). "
        'Headers found: "Ville", "Budget", "Société". Expected headers such as First name / '
        "Prénom / Nombre / Vorname, Last name / Nom / Apellido / Nachname, or Full name / Nom "
        "complet, with Company / Société / Empresa / Firma, Website / Site web or LinkedIn; or "
        'name them in "columns", like {"firstname": "Given", "lastname": "Family", "domain": '
        '"Web"}.'
    )


def test_an_unknown_mapping_key_says_which_keys_exist() -> None:
    """A typo in "columns" is refused with the accepted keys."""
    with pytest.raises(ColumnMappingError, match=r"unknown key 'frist_name'.*firstname"):
        detect_columns([["First name", "Last name", "Domain"]], {"frist_name": "A"})


def test_an_empty_sheet_says_what_to_put_in_it() -> None:
    """An empty sheet is refused with what a header row should hold."""
    with pytest.raises(ColumnMappingError, match="The sheet is empty"):
        detect_columns([[], []])


def test_blank_rows_are_recognised() -> None:
    """A row whose input cells are all empty is blank, whatever its other cells hold."""
    column_map = detect_columns([["Notes", "First name", "Last name", "Company"]])
    assert column_map.is_blank(["a note", "", " ", ""])
    assert not column_map.is_blank(["", "", "", "Acme"])


def test_column_letters_round_trip() -> None:
    """Column letters and indexes convert both ways, past Z."""
    assert [column_letters(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
    assert all(column_index(column_letters(i)) == i for i in range(2000))


def test_column_letters_never_make_a_title_row_the_header_row() -> None:
    """Letters fit any row: the header row is still the one whose headers are recognised,
    or the one the caller names (the sidebar knows it)."""
    values = [["Leads Q3"], ["Given", "Family", "Web"], ["Ada", "Byron", "a.io"]]
    letters = {"firstname": "A", "lastname": "B", "domain": "C"}
    assert detect_columns(values, letters).header_row == 1
    plain = [["Leads Q3"], ["Who", "Whom", "Where"], ["Ada", "Byron", "a.io"]]
    assert detect_columns(plain, letters, header_row=1).header_row == 1
