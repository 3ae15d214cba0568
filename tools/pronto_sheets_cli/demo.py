"""The offline demo: enrich a CSV of leads (data/leads.csv by default) through the served
function and the simulator.

Everything is real except Pronto: the function runs under functions-framework in its own
process, the simulator is a real HTTP server enforcing Pronto's limits, and the rows
travel as one POST /enrich — then once more, to show that a recalculation is free.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from pronto_sheets.sheets.columns import detect_columns
from pronto_sheets_dev.local_stack import local_stack


def read_leads(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV, its columns recognised by the same header detection as a sheet's."""
    with path.open(newline="", encoding="utf-8") as handle:
        values = list(csv.reader(handle))
    columns = detect_columns(values)
    return [
        columns.contact_fields(row)
        for row in values[columns.header_row + 1 :]
        if not columns.is_blank(row)
    ]


@dataclass(frozen=True)
class DemoRun:
    source: str  # the CSV's file name, for the table's title
    rows: list[dict[str, str]]
    first: dict[str, Any]
    second: dict[str, Any]
    simulator_stats: dict[str, Any]
    seconds: float


def run_demo(csv_path: Path, types: list[str], *, latency_ms: int = 250) -> DemoRun:
    rows = read_leads(csv_path)
    with local_stack(
        simulator_options=(
            "--latency-ms",
            str(latency_ms),
            "--latency-jitter-ms",
            str(latency_ms // 2),
        )
    ) as stack:
        headers = {"Authorization": f"Bearer {stack.token}"}
        body = {"contacts": rows, "enrichment_type": types, "priority": "batch"}
        with httpx.Client(base_url=stack.function_url, headers=headers, timeout=300) as http:
            started = time.monotonic()
            first = http.post("/enrich", json=body)
            seconds = time.monotonic() - started
            first.raise_for_status()
            second = http.post("/enrich", json=body)
            second.raise_for_status()
        simulator_stats = httpx.get(f"{stack.simulator_url}/_simulator/stats").json()
    return DemoRun(csv_path.name, rows, first.json(), second.json(), simulator_stats, seconds)


def print_demo(run: DemoRun, console: Console) -> None:
    table = Table(title=f"{run.source} through POST /enrich", show_lines=False)
    for column in ("#", "Name", "Company / website", "Status", "Email", "Phone", "Note"):
        table.add_column(column, overflow="fold")
    colours = {"success": "green", "not_found": "yellow", "invalid": "magenta", "failed": "red"}
    for index, (row, result) in enumerate(
        zip(run.rows, run.first["results"], strict=True), start=2
    ):
        name = f"{row.get('firstname', '')} {row.get('lastname', '')}".strip()
        where = row.get("domain") or row.get("company_name") or row.get("linkedin_url") or ""
        phones = result.get("phones") or []
        status = result["status"]
        table.add_row(
            str(index),
            name,
            where,
            f"[{colours.get(status, 'white')}]{status}[/]",
            result.get("email") or "",
            phones[0]["number"] if phones else "",
            result.get("message") or "",
        )
    console.print(table)
    stats = run.first["stats"]
    counts: dict[str, int] = {}
    for result in run.first["results"]:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    console.print(
        f"{stats['contacts']} rows, {stats['unique']} distinct contacts, "
        f"{counts.get('invalid', 0)} invalid → {stats['upstream_calls']} Pronto calls "
        f"({run.simulator_stats.get('served')} answered by the simulator) in {run.seconds:.1f} s; "
        f"found {counts.get('success', 0)}, not found {counts.get('not_found', 0)}, "
        f"failed {counts.get('failed', 0)}; {stats['credits_spent']} credits; "
        f"same request again: {run.second['stats']['upstream_calls']} calls, "
        f"{run.second['stats']['cache_hits']} rows from cache."
    )
