"""Benchmark POST /fill: a 2,000-row sheet filled by the served function.

Everything runs as it would in production except Google and Pronto: the function under
functions-framework, the Pronto simulator enforcing its limits (rate per second, slots,
latency), and the Sheets API emulator reached through SHEETS_API_BASE_URL. For each
Pronto latency it prints the fill time over the bound rows / min(rate, slots / latency),
and the Sheets requests (reads + writes) per 1,000 rows, after checking every row holds
the simulator's answer and every contact was paid once.

    .venv/bin/python -m bench.bench_fill                 # about two minutes
    .venv/bin/python -m bench.bench_fill --latency-ms 100 --rows 500
"""

from __future__ import annotations

import secrets
import sys
import time
from dataclasses import dataclass
from typing import Any

import click
import httpx

from pronto_sheets.enrich.contacts import Contact
from pronto_sheets_dev.local_stack import free_port, local_stack, running
from pronto_sheets_dev.simulator import simulated_outcome

RATE, SLOTS = 50, 5


def sheet_rows(count: int, tag: str) -> list[list[str]]:
    """A header with messy names, then `count` distinct contacts."""
    rows = [["Prénom", "NOM", "Company Website"]]
    rows += [[f"Bench{i}", f"Filler-{tag}", f"bench{i % 97}.example.com"] for i in range(count)]
    return rows


def expected_email(row: list[str]) -> str:
    contact = Contact.from_mapping({"firstname": row[0], "lastname": row[1], "domain": row[2]})
    outcome = simulated_outcome(contact.firstname, contact.lastname, domain=contact.domain)
    return outcome.email or ""


@dataclass(frozen=True)
class Run:
    rows: int
    latency_ms: float
    seconds: float
    summary: dict[str, Any]
    reads: int
    writes: int
    calls: int
    unique_paid: int
    rate_limited: int
    wrong_rows: int

    @property
    def bound_rate(self) -> float:
        return min(RATE, SLOTS / (self.latency_ms / 1000))

    @property
    def bound_s(self) -> float:
        return self.rows / self.bound_rate

    def line(self) -> str:
        per_1000 = (self.reads + self.writes) * 1000 / self.rows
        return (
            f"latency {self.latency_ms:>4g} ms: {self.rows} rows in {self.seconds:6.2f} s; "
            f"bound {self.rows} / min({RATE}/s, {SLOTS}/{self.latency_ms / 1000:g} s) = "
            f"{self.bound_s:6.2f} s -> time/bound {self.seconds / self.bound_s:.3f}; "
            f"Sheets {self.reads} reads + {self.writes} writes = {per_1000:.1f} requests "
            f"per 1,000 rows; Pronto calls {self.calls} ({self.unique_paid} contacts, "
            f"429s {self.rate_limited}); wrong rows {self.wrong_rows}"
        )


def fill_once(
    function: httpx.Client,
    simulator: httpx.Client,
    emulator: httpx.Client,
    rows: int,
    latency_ms: float,
) -> Run:
    simulator.post(
        "/_simulator/config", json={"latency_ms": latency_ms, "latency_jitter_ms": 0}
    ).raise_for_status()
    simulator.post("/_simulator/reset").raise_for_status()
    emulator.post("/_emulator/reset").raise_for_status()
    data = sheet_rows(rows, secrets.token_hex(3))
    created = emulator.post(
        "/_emulator/spreadsheets",
        json={"title": "Bench", "sheets": [{"title": "Leads", "rows": data}]},
    )
    created.raise_for_status()
    sid = created.json()["spreadsheetId"]

    started = time.monotonic()
    answer = function.post("/fill", json={"spreadsheet_id": sid})
    seconds = time.monotonic() - started
    answer.raise_for_status()

    cells = emulator.get(f"/_emulator/spreadsheets/{sid}/cells").json()["rows"]
    header = cells[0]
    email_col = header.index("Email")
    wrong = sum(
        1
        for row, stored in zip(data[1:], cells[1:], strict=True)
        if (stored[email_col] if len(stored) > email_col else "") != expected_email(row)
    )
    counters = emulator.get("/_emulator/counters").json()
    stats = simulator.get("/_simulator/stats").json()
    return Run(
        rows=rows,
        latency_ms=latency_ms,
        seconds=seconds,
        summary=answer.json(),
        reads=counters["reads"],
        writes=counters["writes"],
        calls=stats["calls"],
        unique_paid=len(stats["by_contact"]),
        rate_limited=stats["rate_limited"],
        wrong_rows=wrong,
    )


@click.command()
@click.option("--rows", default=2000, show_default=True, help="Contacts in the sheet.")
@click.option(
    "--latency-ms",
    "latencies",
    multiple=True,
    type=float,
    default=(150.0, 50.0),
    show_default=True,
    help="Simulated Pronto latency; repeat for several runs.",
)
def main(rows: int, latencies: tuple[float, ...]) -> None:
    """Fill a sheet through POST /fill and compare the time with Pronto's bound."""
    emulator_port = free_port()
    emulator_url = f"http://127.0.0.1:{emulator_port}"
    emulator_args = [sys.executable, "-m", "pronto_sheets_dev.sheets_emulator"]
    emulator_args += ["--port", str(emulator_port)]
    unlimited = "1000000000"
    with (
        running(emulator_args, emulator_url + "/_emulator/healthz"),
        local_stack(
            simulator_options=(
                "--rate",
                str(RATE),
                "--max-open",
                str(SLOTS),
                "--daily-credits",
                "1000000000",
            ),
            function_env={
                "SHEETS_API_BASE_URL": emulator_url,
                "PRONTO_RATE_PER_SECOND": str(RATE),
                "PRONTO_MAX_IN_FLIGHT": str(SLOTS),
                "PRONTO_DAILY_CREDIT_BUDGET": unlimited,
            },
        ) as stack,
    ):
        assert stack.simulator_url is not None
        with (
            httpx.Client(
                base_url=stack.function_url,
                headers={"Authorization": f"Bearer {stack.token}"},
                timeout=3600,
            ) as function,
            httpx.Client(base_url=stack.simulator_url, timeout=30) as simulator,
            httpx.Client(base_url=emulator_url, timeout=60) as emulator,
        ):
            for latency in latencies:
                run = fill_once(function, simulator, emulator, rows, latency)
                click.echo(run.line())


if __name__ == "__main__":
    main()
