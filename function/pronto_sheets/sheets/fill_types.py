"""What a fill is asked (`FillRequest`), and what it reports while it runs (`FillProgress`)
and at the end (`FillSummary`, the body of POST /fill's answer)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pronto_sheets.enrich.contacts import EnrichmentTypes


@dataclass(frozen=True)
class FillRequest:
    """What to fill. `columns` maps field names to header texts or column letters."""

    spreadsheet_id: str
    sheet: str | None = None
    types: EnrichmentTypes = field(default_factory=EnrichmentTypes)
    overwrite: bool = False
    dry_run: bool = False
    max_rows: int | None = None
    columns: Mapping[str, str] | None = None
    # Only these sheet rows (1-based, inclusive): the sidebar's selection, run on the server.
    first_row: int | None = None
    last_row: int | None = None
    # Stop in time to answer within this many seconds (a scheduler gives up at 1,800).
    deadline_s: float | None = None
    # The header row (1-based), when the caller knows it (the sidebar does): no detection.
    header_row: int | None = None


@dataclass(frozen=True)
class FillProgress:
    """Where a run stands, for a progress bar: rows with a result out of rows to enrich,
    rows already saved in the sheet, and write requests sent (retries included)."""

    rows_total: int
    rows_done: int
    rows_written: int
    found: int
    credits: int
    writes: int
    # The async lane (docs/async-lane.md): requests sent to Pronto so far by this run, and
    # rows handed to the lane whose answer has not arrived (a later run writes those left).
    lane: str = "sync"
    submitted: int = 0
    waiting: int = 0


@dataclass
class FillSummary:
    """What a run did (or, for a dry run, would do). Counts are rows unless named otherwise."""

    spreadsheet_id: str
    sheet: str = ""
    dry_run: bool = False
    rows: int = 0  # non-blank data rows in the sheet (within first_row..last_row)
    to_enrich: int = 0  # rows with a requested type not done, within max_rows
    enriched: int = 0  # rows that got Pronto's answer for every type asked
    found: int = 0
    not_found: int = 0
    skipped_filled: int = 0  # rows done for every requested type
    duplicates: int = 0  # rows sharing a contact with an earlier row: paid once
    invalid: int = 0
    needs_linkedin: int = 0  # rows with a type not asked for lack of a LinkedIn URL
    failed: int = 0
    over_budget: int = 0
    pending: int = 0
    remaining: int = 0  # rows left for a later run (max_rows, deadline, stop)
    credits: int = 0
    upstream_calls: int = 0
    sheets_reads: int = 0
    sheets_writes: int = 0
    seconds: float = 0.0
    found_by_type: dict[str, int] = field(default_factory=dict)
    changed_during_run: int = 0  # rows edited or moved meanwhile: not written, left for later
    stopped: str | None = None  # why the run ended early, in words
    notices: dict[str, str] = field(default_factory=dict)  # account-level, by code
    plan: dict[str, int] | None = None  # dry runs: cached, to_call, estimated_credits…
    # The async lane (docs/async-lane.md): which lane filled; requests it sent now (one per
    # contact and type); rows whose answer is on its way (a later run writes them).
    lane: str = "sync"
    submitted: int = 0
    waiting: int = 0

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            name: getattr(self, name)
            for name in (
                "spreadsheet_id",
                "sheet",
                "dry_run",
                "rows",
                "to_enrich",
                "enriched",
                "found",
                "not_found",
                "skipped_filled",
                "duplicates",
                "invalid",
                "needs_linkedin",
                "failed",
                "over_budget",
                "pending",
                "remaining",
                "credits",
                "upstream_calls",
                "sheets_reads",
                "sheets_writes",
            )
        }
        if self.lane == "async":  # absent: the sync lane filled
            body |= {"lane": self.lane, "submitted": self.submitted, "waiting": self.waiting}
        body["seconds"] = round(self.seconds, 3)
        body["found_by_type"] = dict(self.found_by_type)
        body["notices"] = [{"code": c, "message": m} for c, m in self.notices.items()]
        if self.changed_during_run:
            body["changed_during_run"] = self.changed_during_run
        if self.stopped:
            body["stopped"] = self.stopped
        if self.plan is not None:
            body.update(self.plan)
        return body
