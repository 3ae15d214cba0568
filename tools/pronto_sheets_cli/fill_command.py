"""`pronto-sheets fill`: fill a whole sheet from a laptop or a long-running job.

The same `SheetFiller` as POST /fill, run in-process with the enricher built from the
environment (`PRONTO_API_KEY`, …; with `PRONTO_PUBLIC_URL`, through the async lane as POST
/fill does), with a progress bar (rows done of total, found, credits; on the async lane also
rows waiting for Pronto and requests sent). Every option can also be set through the
environment variable named in its help. Refusals print one line starting with "Error:" and
exit with status 1.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import click

from pronto_sheets.enrich.async_lane import AsyncLane
from pronto_sheets.enrich.contacts import ENRICHMENT_TYPES, EnrichmentTypes
from pronto_sheets.enrich.engine import Enricher
from pronto_sheets.errors import ProntoSheetsError
from pronto_sheets.http.fill_route import parse_spreadsheet_id
from pronto_sheets.settings import Settings
from pronto_sheets.sheets.client import open_gspread_client, run_blocking
from pronto_sheets.sheets.filler import FillProgress, FillRequest, FillSummary, SheetFiller


def _columns(raw: str | None) -> dict[str, str] | None:
    """`firstname=Prénom,domain=D` (or a JSON object) as a mapping."""
    if not raw or not raw.strip():
        return None
    text = raw.strip()
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and all(isinstance(v, str) for v in parsed.values()):
            return {str(k): v for k, v in parsed.items()}
        raise click.BadParameter('use a JSON object like {"firstname": "Prénom"}.')
    mapping: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise click.BadParameter(f'"{part}" should look like firstname=Prénom.')
        mapping[key.strip()] = value.strip()
    return mapping


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _summary_line(summary: FillSummary) -> str:
    if summary.dry_run:
        plan = summary.plan or {}
        return (
            f'Dry run of "{summary.sheet}": {summary.rows} rows, {summary.to_enrich} to enrich, '
            f"{summary.skipped_filled} already filled, {summary.duplicates} duplicates, "
            f"{summary.invalid} invalid, {summary.needs_linkedin} needing a LinkedIn URL, "
            f"{plan.get('to_call', 0)} Pronto calls, "
            f"at most {plan.get('estimated_credits', 0)} credits. Nothing was written."
        )
    line = (
        f'Filled "{summary.sheet}": {summary.enriched} rows enriched ({summary.found} found, '
        f"{summary.not_found} not found), {summary.skipped_filled} already filled, "
        f"{summary.duplicates} duplicates paid once, {summary.invalid} invalid, "
        f"{summary.failed} failed, {summary.over_budget} over budget; "
        f"{summary.credits} credits, {summary.upstream_calls} Pronto calls; "
        f"Sheets: {_count(summary.sheets_reads, 'read')}, "
        f"{_count(summary.sheets_writes, 'write')}; "
        f"{summary.seconds:.1f} s."
    )
    if summary.lane == "async":
        line += (
            f" Async lane: {summary.submitted} sent to Pronto, {summary.found} found, "
            f"{summary.not_found} not found, {summary.waiting} waiting (a later run writes them)."
        )
    if summary.found_by_type:
        found = ", ".join(
            f"{n} {name.replace('_', ' ')}" for name, n in summary.found_by_type.items()
        )
        line += f" Found: {found}."
    if summary.needs_linkedin:
        line += (
            f" {summary.needs_linkedin} rows need a LinkedIn URL for a phone or personal "
            "email: add one and run again."
        )
    for message in summary.notices.values():
        line += f" {message}"
    if summary.stopped:
        line += f" {summary.stopped}"
    if summary.changed_during_run:
        line += (
            f" {summary.changed_during_run} rows were edited or moved while filling and "
            "were not written."
        )
    if summary.remaining:
        line += f" {summary.remaining} rows are left for the next run."
    if summary.over_budget:
        line += " Rows over budget will be filled by a later run."
    return line


def _lane_text(progress: FillProgress) -> str:
    """What the bar adds on the async lane: rows waiting for Pronto's answer, and the
    requests sent, once the lane has said (nothing on the sync lane)."""
    if progress.lane != "async":
        return ""
    sent = f" · {progress.submitted} sent to Pronto" if progress.submitted else ""
    return f"{sent} · {progress.waiting} waiting for Pronto"


class _ProgressBar:
    """A rich progress bar on stderr (rows done of total, found, credits; on the async lane
    also rows sent to Pronto and waiting for it), shown from the first result on, so dry
    runs and runs with nothing to do print no bar."""

    def __init__(self, console: Any = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            TextColumn("Filling"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(
                "rows · {task.fields[found]} found{task.fields[lane]} · "
                "{task.fields[credits]} credits"
            ),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
        )
        self._task: Any = None

    def update(self, progress: FillProgress) -> None:
        if self._task is None:
            if progress.rows_total == 0:
                return
            self._progress.start()
            self._task = self._progress.add_task("fill", found=0, credits=0, lane="")
        self._progress.update(
            self._task,
            total=progress.rows_total,
            completed=progress.rows_done,
            found=progress.found,
            credits=progress.credits,
            lane=_lane_text(progress),
        )

    def close(self) -> None:
        if self._task is not None:
            self._progress.stop()


async def _run(
    request: FillRequest, settings: Settings, credentials: Path | None, show_progress: bool
) -> FillSummary:
    client = await run_blocking(
        open_gspread_client,
        sheets_api_base_url=settings.sheets_api_base_url,
        credentials_file=str(credentials) if credentials else None,
    )
    enricher = Enricher.from_settings(settings)
    # With a public URL (a job beside the deployed function) fills take the async lane,
    # as POST /fill does; on a laptop there is none and they stay on the sync lane.
    lane = AsyncLane.beside(enricher, settings)
    bar = _ProgressBar() if show_progress else None
    filler = SheetFiller(enricher, client, progress=bar.update if bar else None, lane=lane)
    try:
        return await filler.fill(request)
    finally:
        if bar is not None:
            bar.close()
        if lane is not None:
            await lane.aclose()
        await enricher.aclose()


@click.command(name="fill")
@click.argument("spreadsheet_id", envvar="PRONTO_FILL_SPREADSHEET_ID")
@click.option(
    "--sheet",
    envvar="PRONTO_FILL_SHEET",
    show_envvar=True,
    help="Tab to fill (default: the first).",
)
@click.option(
    "--type",
    "types",
    default="email",
    show_default=True,
    envvar="PRONTO_FILL_TYPE",
    show_envvar=True,
    help=f"What to find: any of {', '.join(ENRICHMENT_TYPES)}, comma-separated.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    envvar="PRONTO_FILL_DRY_RUN",
    show_envvar=True,
    help="Count rows and credits without calling Pronto or writing.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    envvar="PRONTO_FILL_OVERWRITE",
    show_envvar=True,
    help="Enrich rows that already have results too.",
)
@click.option(
    "--max-rows",
    type=click.IntRange(min=1),
    envvar="PRONTO_FILL_MAX_ROWS",
    show_envvar=True,
    help="Enrich at most this many rows in this run.",
)
@click.option(
    "--columns",
    envvar="PRONTO_FILL_COLUMNS",
    show_envvar=True,
    help="Say which column holds what, e.g. firstname=Prénom,domain=D.",
)
@click.option(
    "--credentials",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="GOOGLE_APPLICATION_CREDENTIALS",
    show_envvar=True,
    help="Service account key file (default: Application Default Credentials).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    envvar="PRONTO_FILL_JSON",
    show_envvar=True,
    help="Print the summary as JSON.",
)
@click.option(
    "--progress/--no-progress",
    default=True,
    envvar="PRONTO_FILL_PROGRESS",
    show_envvar=True,
    show_default=True,
    help="Show a progress bar on stderr.",
)
def fill_command(
    spreadsheet_id: str,
    sheet: str | None,
    types: str,
    dry_run: bool,
    overwrite: bool,
    max_rows: int | None,
    columns: str | None,
    credentials: Path | None,
    as_json: bool,
    progress: bool,
) -> None:
    """Enrich every row of a Google Sheet that lacks results, and write them back.

    SPREADSHEET_ID is the code in the sheet's address between /d/ and /edit (the whole
    address works too; or set PRONTO_FILL_SPREADSHEET_ID). The sheet must be shared with
    the service account as an editor.
    """
    try:
        settings = Settings.from_env()
        request = FillRequest(
            spreadsheet_id=parse_spreadsheet_id(spreadsheet_id),
            sheet=sheet,
            types=EnrichmentTypes.parse(types),
            overwrite=overwrite,
            dry_run=dry_run,
            max_rows=max_rows,
            columns=_columns(columns),
        )
    except ProntoSheetsError as exc:
        raise click.ClickException(exc.message) from None
    # Pronto retries are handled and counted; their log lines would garble the progress bar.
    logging.getLogger("stamina").setLevel(logging.ERROR)
    if not settings.pronto_api_key and not dry_run:
        raise click.ClickException(
            "PRONTO_API_KEY is not set: set it to your Pronto API key (or use --dry-run)."
        )
    try:
        summary = asyncio.run(_run(request, settings, credentials, progress))
    except ProntoSheetsError as exc:
        raise click.ClickException(exc.message) from None
    except KeyboardInterrupt:
        raise click.ClickException(
            "Interrupted. Results found so far are saved; run the same command again to "
            "continue where it stopped."
        ) from None
    if as_json:
        click.echo(json.dumps(summary.to_json()))
    else:
        click.echo(_summary_line(summary))
