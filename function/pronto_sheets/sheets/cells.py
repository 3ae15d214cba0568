"""What a sheet's output cells say, and when a row is done: the per-type done rule.

Done is per type (docs/how-it-works.md): a row is done for email when its Email cell has an address
or its Email status records an answer (`not_found`); likewise Phone / Phone status and
Personal email / Personal email status. A run asks each row only the requested types that
are not done, so adding phones to a sheet of emails overwrites nothing and re-buys nothing.

What gets written for a result:
- Pronto status: the row's status code, then its message (`success: Add a LinkedIn URL to
  look up a phone.`);
- for a type found: its value (phones joined by ", ") and Pronto's own status of it;
- for a type not found: `not_found` in its status cell;
- for a type not answered (needs_linkedin, paused, pending, failed, over_budget): its code
  and message in its status cell, which the next run looks at again;
- a data cell (Email, Phone, Personal email) only ever holds a value Pronto returned, and
  a type already done is never erased: a re-run (`overwrite`) only replaces it with a new
  value found. A row that cannot be looked up at all gets only its Pronto status.

Apps Script (apps_script/Rows.js) applies the same rules from the same vocabulary.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

from pronto_sheets.results import RowResult, Status
from pronto_sheets.sheets.columns import ColumnMap
from pronto_sheets.vocabulary import squeeze_spaces, vocabulary

PRONTO_STATUS = "pronto_status"


def status_text(code: str, message: str | None) -> str:
    """A status cell: the code, then the message when there is one."""
    message = squeeze_spaces(message or "")
    return f"{code}{vocabulary().cells['status_separator']}{message}" if message else code


def status_code(text: str) -> str:
    """The code a status cell starts with: `"not_found"`, `"invalid: Add…"` → `"invalid"`."""
    return squeeze_spaces(text.split(":", 1)[0]).lower()


def type_done(column_map: ColumnMap, row: Sequence[Any], type_name: str) -> bool:
    """True when the row already has this type's answer (a value, or `not_found`)."""
    info = vocabulary().type_info(type_name)
    if column_map.output(row, info.data_column):
        return True
    code = status_code(column_map.output(row, info.status_column))
    return code in vocabulary().cells["done_status_codes"]


def types_to_do(
    column_map: ColumnMap, row: Sequence[Any], types: Iterable[str], *, overwrite: bool = False
) -> tuple[str, ...]:
    """The requested types this row still needs (all of them when `overwrite`)."""
    return tuple(name for name in types if overwrite or not type_done(column_map, row, name))


def output_cells(result: RowResult, done_before: Collection[str] = ()) -> dict[str, str]:
    """The output cells a result writes, by field (`email`, `phone_status`, …).

    `done_before` holds the types the row already had an answer for (an overwrite run):
    those are only ever replaced by a new value found, never erased.
    """
    cells = {PRONTO_STATUS: status_text(result.status.value, result.message)}
    if all(r.status is Status.INVALID for r in result.types.values()):
        return cells  # the row itself cannot be looked up: only its Pronto status says so
    separator = vocabulary().cells["phone_separator"]
    for name, type_result in result.types.items():
        info = vocabulary().type_info(name)
        if type_result.status is Status.SUCCESS:
            if name == "phone":
                value = separator.join(phone.number for phone in type_result.phones)
            else:
                value = type_result.value or ""
            cells[info.data_column] = value
            cells[info.status_column] = type_result.value_status or ""
        elif name in done_before:
            continue  # never erase an answer already in the sheet
        elif type_result.status is Status.NOT_FOUND:
            cells[info.status_column] = vocabulary().cells["not_found_text"]
        else:
            cells[info.status_column] = status_text(type_result.status.value, type_result.message)
    return cells
