"""The CLI's summary line shows the async lane's progress when a run used it."""

from __future__ import annotations

from pronto_sheets.sheets.fill_types import FillSummary
from pronto_sheets_cli.fill_command import _summary_line


def test_an_async_run_says_what_was_sent_found_and_is_still_waiting() -> None:
    """Submitted, found, not found and waiting are all in the line a person reads."""
    summary = FillSummary(
        spreadsheet_id="x" * 44,
        sheet="Leads",
        lane="async",
        submitted=120,
        found=70,
        not_found=20,
        waiting=30,
        enriched=90,
    )
    assert (
        "Async lane: 120 sent to Pronto, 70 found, 20 not found, 30 waiting "
        "(a later run writes them)." in _summary_line(summary)
    )


def test_a_sync_run_says_nothing_of_the_async_lane() -> None:
    """Without the async lane the line is as it always was."""
    summary = FillSummary(spreadsheet_id="x" * 44, sheet="Leads", found=3)
    assert "Async lane" not in _summary_line(summary)
