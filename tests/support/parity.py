"""What the Python side decides for the shared parity fixtures (tests/data/parity).

`python_report` and `tests/apps_script/support/parity.js` compute the same report, one
from pronto_sheets, one from the real apps_script files in Node; tests/test_parity.py
asserts they are equal. The report holds, for every fixture: the column mapping of a header
set; for every sheet row its contact, folded identity, invalid reason, the types it still
needs (the per-type done rule) and those it can be asked; and the output cells of a result.
"""

from __future__ import annotations

from typing import Any

from pronto_sheets.enrich.contacts import Contact, EnrichmentTypes
from pronto_sheets.errors import ColumnMappingError
from pronto_sheets.results import Phone, RowResult, Status, TypeResult
from pronto_sheets.sheets.cells import output_cells, types_to_do
from pronto_sheets.sheets.columns import detect_columns


def _mapping(rows: list[list[Any]], overrides: dict[str, str] | None) -> dict[str, Any]:
    try:
        column_map = detect_columns(rows, overrides)
    except ColumnMappingError:
        return {"error": True}
    return {
        "header_row": column_map.header_row,
        "inputs": dict(sorted(column_map.inputs.items())),
        "outputs": dict(sorted(column_map.outputs.items())),
    }


def _row(column_map: Any, row: list[Any], types: EnrichmentTypes) -> dict[str, Any]:
    if column_map.is_blank(row):
        return {"blank": True}
    contact = Contact.from_mapping(column_map.contact_fields(row))
    reason = contact.invalid_reason() or ""
    todo = types_to_do(column_map, row, types)
    return {
        "blank": False,
        "contact": {
            "firstname": contact.firstname,
            "lastname": contact.lastname,
            "company_name": contact.company_name,
            "domain": contact.domain,
            "linkedin_url": contact.linkedin_url,
        },
        "identity": "" if reason else contact.identity_text(),
        "invalid": reason,
        "todo": list(todo),
        "askable": [name for name in todo if contact.can_ask(name)],
    }


def result_from_json(raw: dict[str, Any]) -> RowResult:
    """A RowResult as POST /enrich sends it (the add-in's view of a result)."""
    types: dict[str, TypeResult] = {}
    for name, entry in raw["types"].items():
        status = Status(entry["status"])
        value = raw.get(name) if name in ("email", "personal_email") else None
        phones = (
            tuple(Phone(p["number"], p.get("type")) for p in (raw.get("phones") or []))
            if name == "phone"
            else ()
        )
        types[name] = TypeResult(
            status,
            value=value if status is Status.SUCCESS else None,
            phones=phones if status is Status.SUCCESS else (),
            value_status=raw.get(f"{name}_status") if status is Status.SUCCESS else None,
            message=entry.get("message"),
        )
    return RowResult(Status(raw["status"]), types, raw.get("message"))


def python_report(fixtures: dict[str, Any]) -> dict[str, Any]:
    sheets = []
    for sheet in fixtures["sheets"]:
        rows = sheet["rows"]
        column_map = detect_columns(rows)
        types = EnrichmentTypes.of(sheet["types"])
        sheets.append([_row(column_map, row, types) for row in rows[column_map.header_row + 1 :]])
    return {
        "header_sets": [
            _mapping(item["rows"], item.get("overrides")) for item in fixtures["header_sets"]
        ],
        "sheets": sheets,
        "output_cells": [
            dict(sorted(output_cells(result_from_json(raw), raw["done_before"]).items()))
            for raw in fixtures["results"]
        ],
    }
