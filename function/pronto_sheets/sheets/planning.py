"""Planning a fill: which rows to enrich, for which types, grouped by contact.

Pure CPU, run in a thread for a big sheet (see `SheetFiller.fill`): maps the columns
(`columns.py`), asks each row only the requested types it is not done for
(`cells.types_to_do`, the per-type done rule; all of them with `overwrite`), and folds
rows of one contact into one group, paid once.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pronto_sheets.enrich.contacts import Contact, EnrichmentTypes
from pronto_sheets.sheets.bulk import bulk_allocation
from pronto_sheets.sheets.cells import types_to_do
from pronto_sheets.sheets.columns import ColumnMap, detect_columns
from pronto_sheets.sheets.fill_types import FillRequest

# Planning runs in a thread; it hands the GIL to the event loop this often.
YIELD_EVERY_ROWS = 100


@dataclass(frozen=True)
class RowTask:
    """One sheet row to enrich: what it asks, what it already had, how it read."""

    number: int  # 1-based row number in the sheet
    contact: Contact
    identity: str  # computed once, in the plan ("" for a row that cannot be looked up)
    types: EnrichmentTypes  # the requested types this row is not done for
    done_before: frozenset[str]  # requested types it already had (an overwrite run)
    values: Sequence[Any]  # the row as read, to skip writing what is already there


@dataclass
class FillPlan:
    """The rows to enrich, grouped by contact; built off the event loop."""

    column_map: ColumnMap
    rows: list[RowTask]
    groups: list[list[RowTask]]  # rows of one contact, the contact's types = their union
    counts: Counter[str]  # rows, skipped_filled, remaining, invalid, needs_linkedin
    wanted: dict[str, set[str]]  # identity -> the types it can be asked


def plan_fill(values: Sequence[Sequence[Any]], request: FillRequest) -> FillPlan:
    """Map the columns and list each row's work: pure CPU, run in a thread for big sheets
    (its objects kept out of the garbage collector's scans: see bulk.py)."""
    with bulk_allocation():
        return _plan_fill(values, request)


def _plan_fill(values: Sequence[Sequence[Any]], request: FillRequest) -> FillPlan:
    header_row = None if request.header_row is None else request.header_row - 1
    column_map = detect_columns(values, request.columns, header_row=header_row)
    counts: Counter[str] = Counter()
    rows = _rows_to_enrich(values, request, column_map, counts)
    if request.max_rows is not None and len(rows) > request.max_rows:
        counts["remaining"] = len(rows) - request.max_rows
        rows = rows[: request.max_rows]
    by_identity: dict[str, list[RowTask]] = {}
    wanted: dict[str, set[str]] = {}
    for task in rows:
        if not task.identity:
            counts["invalid"] += 1
            continue
        by_identity.setdefault(task.identity, []).append(task)
        askable = [name for name in task.types if task.contact.can_ask(name)]
        counts["needs_linkedin"] += len(askable) < len(task.types.names)
        wanted.setdefault(task.identity, set()).update(askable)
    return FillPlan(column_map, rows, list(by_identity.values()), counts, wanted)


def _rows_to_enrich(
    values: Sequence[Sequence[Any]],
    request: FillRequest,
    column_map: ColumnMap,
    counts: Counter[str],
) -> list[RowTask]:
    """Each non-blank row within first_row..last_row that is not done for every type."""
    rows: list[RowTask] = []
    start = column_map.header_row + 1
    if request.first_row is not None:
        start = max(start, request.first_row - 1)
    end = len(values) if request.last_row is None else min(len(values), request.last_row)
    for index in range(start, end):
        if index % YIELD_EVERY_ROWS == 0:
            time.sleep(0)  # let the event loop's thread take the GIL: formulas stay quick
        row = values[index]
        if column_map.is_blank(row):
            continue
        counts["rows"] += 1
        todo = types_to_do(column_map, row, request.types, overwrite=request.overwrite)
        if not todo:
            counts["skipped_filled"] += 1
            continue
        contact = Contact.from_mapping(column_map.contact_fields(row))
        identity = "" if contact.invalid_reason() else contact.identity()
        done_before = frozenset(request.types.names) - set(todo)
        if request.overwrite:
            done_before = frozenset(
                n for n in request.types if not types_to_do(column_map, row, [n])
            )
        task = RowTask(index + 1, contact, identity, EnrichmentTypes.of(todo), done_before, row)
        rows.append(task)
    return rows


def types_of(group: Sequence[RowTask]) -> EnrichmentTypes:
    """The types a group of rows of one contact asks: the union of theirs."""
    return EnrichmentTypes.of(name for task in group for name in task.types)
