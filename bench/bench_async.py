"""Benchmark a sheet filled through Pronto's async lane, beside the sync lane (issue 16).

Everything runs as in production except Google and Pronto: the function under
functions-framework (POST /fill), the Sheets API emulator, and the Pronto simulator with
its async lane (a processing capacity, a latency per contact, webhooks with faults) and the
sync lane's limits (50 requests a second, 5 open calls). The async bound is
max(rows / rate, rows x latency / capacity): 10,000 rows at 3 s and a capacity of 50 take
at least 600 s. The sync bound is rows / min(rate, 5 / latency).

`--scale S` compresses time: the simulator's latencies, delays and back-offs are divided
by S and its rate multiplied by S, and so are the function's own (rate, poll timers), so
the ratios hold and every time is reported in unscaled seconds (measured x S). The sync
lane, linear in rows, is measured on `--sync-rows` rows of the same kind and also shown
per 10,000 rows. By default the async run meets Pronto's faults as issue 16 asks: 10% of
webhooks lost, 5% duplicated, order shuffled, and the function killed (SIGKILL) and
restarted once mid-job. Every row is checked against the simulator's answer, and every
contact must be submitted once and charged at most once.

    .venv/bin/python -m bench.bench_async                  # 3,000 rows: about three minutes
    .venv/bin/python -m bench.bench_async --rows 10000     # the issue's sheet: about 14 min

The async lane is the function's (PRONTO_PUBLIC_URL, PRONTO_WEBHOOK_SECRET, the route
POST /webhooks/pronto/{secret}); without it the bench measures the sync lane only, and says so.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import click
import httpx

from pronto_sheets.enrich.contacts import Contact
from pronto_sheets_dev.local_stack import (
    SIMULATOR_KEY,
    free_port,
    function_args,
    running,
    simulator_args,
    wait_for_http,
)
from pronto_sheets_dev.simulator import simulated_outcome

RATE, SLOTS = 50, 5
WEBHOOK_ROUTE = "/webhooks/pronto/"
# The faults issue 16 asks the 10,000-row fill to meet.
FAULTS = {"webhook_lost": 0.10, "webhook_duplicated": 0.05}
REORDER_S = 2.0  # every webhook late by up to this much (unscaled): the order is shuffled
# The function's own waits for a late webhook (its defaults, unscaled; see settings.py).
POLL_AFTER_S, POLL_MAX_S, UNCONFIRMED_S = 120.0, 900.0, 3600.0
# The log line of a contact given up unconfirmed (sent again: maybe paid twice).
RELEASED_EVENT = '"async_unconfirmed_released"'


def async_lane_exists() -> bool:
    """Whether the installed function has the async lane (its settings and webhook route)."""
    found = []
    for module in ("pronto_sheets.settings", "pronto_sheets.http.routes"):
        spec = importlib.util.find_spec(module)
        source = Path(spec.origin).read_text() if spec and spec.origin else ""
        found.append(source)
    settings, routes = found
    has_route = WEBHOOK_ROUTE in routes or importlib.util.find_spec(
        "pronto_sheets.http.webhook_route"
    )
    return "PRONTO_PUBLIC_URL" in settings and bool(has_route)


def sheet_rows(count: int, tag: str) -> list[list[str]]:
    rows = [["First name", "Last name", "Company website"]]
    rows += [[f"Async{i}", f"Bench-{tag}", f"bench{i % 89}.example.com"] for i in range(count)]
    return rows


def expected_email(row: list[str]) -> str:
    contact = Contact.from_mapping({"firstname": row[0], "lastname": row[1], "domain": row[2]})
    return simulated_outcome(contact.firstname, contact.lastname, domain=contact.domain).email or ""


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MB; 0 if it is gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def group_pids(pgid: int) -> list[int]:
    """The processes of a process group (functions-framework serves from a child process)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # Fields after the command's closing parenthesis: state, ppid, pgrp, ...
            if int(stat.read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                pids.append(int(stat.parent.name))
    return pids


def group_peak_mb(pgid: int) -> float:
    """Peak memory of the function: the sum over its processes (the server and its parent)."""
    return sum(peak_rss_mb(pid) for pid in group_pids(pgid))


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_group(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """End the function's whole process group: SIGKILL to its leader alone would leave the
    serving child running, still answering on the port."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    deadline = time.monotonic() + 10
    while group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


@dataclass(frozen=True)
class Pace:
    """Pronto's pace, unscaled, and the time compression of this run."""

    latency_s: float
    capacity: int
    scale: float

    def simulator_config(self) -> dict[str, Any]:
        ms = self.latency_s * 1000 / self.scale
        return {
            "rate": int(RATE * self.scale),
            "max_open": SLOTS,
            "latency_ms": ms,
            "latency_jitter_ms": 0,
            "async_latency_ms": ms,
            "async_capacity": self.capacity,
            "daily_credits": 1_000_000_000,
            "webhook_retry_backoff_ms": 1000 / self.scale,
            "webhook_slow_ms": 5000 / self.scale,
            # Queued sync calls wait their turn however long the sheet (Pronto's queue
            # "may time out": not what this bench measures).
            "queue_timeout_s": 3600,
        }

    def function_env(self) -> dict[str, str]:
        return {
            "PRONTO_RATE_PER_SECOND": str(int(RATE * self.scale)),
            "PRONTO_MAX_IN_FLIGHT": str(SLOTS),
            "PRONTO_DAILY_CREDIT_BUDGET": "1000000000",
            "PRONTO_ASYNC_POLL_AFTER_S": str(POLL_AFTER_S / self.scale),
            "PRONTO_ASYNC_POLL_MAX_S": str(POLL_MAX_S / self.scale),
            "PRONTO_ASYNC_UNCONFIRMED_S": str(UNCONFIRMED_S / self.scale),
        }

    def async_bound_s(self, rows: int) -> float:
        return max(rows / RATE, rows * self.latency_s / self.capacity)

    def sync_bound_s(self, rows: int) -> float:
        return rows / min(RATE, SLOTS / self.latency_s)


@dataclass
class Run:
    lane: str
    rows: int
    seconds: float  # unscaled
    bound_s: float  # unscaled
    wrong_rows: int
    fills: int
    restart_s: float | None  # unscaled: from the kill until the new process answered
    peak_mb: float
    stats: dict[str, Any]
    summaries: list[dict[str, Any]] = field(default_factory=list)
    released: int = 0  # contacts given up unconfirmed and sent again (function logs)

    @property
    def waiting(self) -> int:
        """Rows the last /fill left waiting (0 when the sheet is complete)."""
        if not self.summaries:
            return self.rows
        last = self.summaries[-1]
        return int(last.get("waiting", 0)) + int(last.get("pending", 0))

    def timeline(self) -> str:
        """Rows still waiting when each /fill answered, at its time (unscaled)."""
        scale = self.seconds / max(self.summaries[-1].get("bench_elapsed_s", 1.0), 1e-9)
        return ", ".join(
            f"{summary['bench_elapsed_s'] * scale:,.0f} s: {summary.get('waiting', 0)} waiting"
            for summary in self.summaries
            if "bench_elapsed_s" in summary
        )

    @property
    def ratio(self) -> float:
        return self.seconds / self.bound_s

    def checks(self) -> str:
        lane = self.stats.get("async", {})
        if self.lane == "async":
            submitted = lane.get("submitted_by_contact", {})
            sync_paid = self.stats.get("by_contact", {})
            most = max(submitted.values(), default=0)
            counts = f"submitted {len(submitted)} contacts, at most {most} time(s) each"
            counts += (
                f" ({sum(1 for n in submitted.values() if n > 1)} more than once); "
                f"{self.released} given up unconfirmed and sent again"
            )
            if sync_paid:
                counts += f"; {len(sync_paid)} on the sync lane"
        else:
            submitted = self.stats.get("by_contact", {})
            most = max(submitted.values(), default=0)
            counts = f"{len(submitted)} contacts answered, at most {most} time(s) each"
        charged = self.stats.get("charged_by_contact", {})
        return (
            f"{counts}; charged {len(charged)} contacts, at most "
            f"{max(charged.values(), default=0)} time(s) each "
            f"({sum(1 for n in charged.values() if n > 1)} more than once); "
            f"wrong rows {self.wrong_rows}"
        )

    def line(self) -> str:
        extra = ""
        if self.lane == "async":
            hooks = self.stats["async"]["webhooks"]
            extra = (
                f"; webhooks sent {hooks['sent']} (lost {hooks['lost']}, duplicated "
                f"{hooks['duplicated']}, retried {hooks['retried']}; receiver answers "
                f"{hooks['answers']}), polls "
                f"{sum(self.stats['async']['polls'].values())}"
                + (
                    f"; function killed and restarted once (down {self.restart_s:,.0f} s: its "
                    "start-up is real time, which the compression multiplies)"
                    if self.restart_s is not None
                    else ""
                )
            )
        return (
            f"{self.lane} lane: {self.rows} rows in {self.seconds:,.0f} s; bound "
            f"{self.bound_s:,.0f} s -> time/bound {self.ratio:.2f}; {self.fills} /fill call(s); "
            f"peak memory of the function {self.peak_mb:.0f} MB{extra}\n    {self.checks()}"
            + (f"; rows still waiting {self.waiting}" if self.waiting else "")
            + (f"\n    after each /fill: {self.timeline()}" if len(self.summaries) > 1 else "")
        )


class Bench:
    """One simulator and one Sheets emulator; a function process per lane run."""

    def __init__(self, stack: ExitStack, pace: Pace, log_dir: Path | None = None) -> None:
        self.stack = stack
        self.pace = pace
        # The function's logs: where the bench counts contacts given up unconfirmed.
        self.log_dir = log_dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        self.starts = 0
        self.sheet_rows: dict[str, int] = {}
        sim_port = free_port()
        self.sim_url = f"http://127.0.0.1:{sim_port}"
        stack.enter_context(
            running(simulator_args(sim_port, "--api-key", SIMULATOR_KEY), self.sim_url + "/healthz")
        )
        emulator_port = free_port()
        self.emulator_url = f"http://127.0.0.1:{emulator_port}"
        emulator_args = [sys.executable, "-m", "pronto_sheets_dev.sheets_emulator"]
        stack.enter_context(
            running(
                [*emulator_args, "--port", str(emulator_port)],
                self.emulator_url + "/_emulator/healthz",
            )
        )
        self.simulator = stack.enter_context(httpx.Client(base_url=self.sim_url, timeout=60))
        self.emulator = stack.enter_context(httpx.Client(base_url=self.emulator_url, timeout=120))
        self.token = secrets.token_urlsafe(24)

    def configure(self, **extra: Any) -> None:
        config = {**self.pace.simulator_config(), **extra}
        self.simulator.post("/_simulator/config", json=config).raise_for_status()
        self.simulator.post("/_simulator/reset").raise_for_status()

    def new_sheet(self, rows: int, tag: str) -> tuple[str, list[list[str]]]:
        data = sheet_rows(rows, tag)
        created = self.emulator.post(
            "/_emulator/spreadsheets",
            json={"title": "Bench", "sheets": [{"title": "Leads", "rows": data}]},
        )
        created.raise_for_status()
        sid = str(created.json()["spreadsheetId"])
        self.sheet_rows[sid] = rows
        return sid, data

    def wrong_rows(self, sid: str, data: list[list[str]]) -> int:
        cells = self.emulator.get(f"/_emulator/spreadsheets/{sid}/cells").json()["rows"]
        email_col = cells[0].index("Email")
        return sum(
            1
            for row, stored in zip(data[1:], cells[1:], strict=True)
            if (stored[email_col] if len(stored) > email_col else "") != expected_email(row)
        )

    @contextlib.contextmanager
    def function(self, port: int, env: Mapping[str, str]) -> Iterator[subprocess.Popen[bytes]]:
        full_env = {
            "PRONTO_API_KEY": SIMULATOR_KEY,
            "PRONTO_BASE_URL": self.sim_url,
            "PRONTO_SHEETS_TOKENS": self.token,
            "SHEETS_API_BASE_URL": self.emulator_url,
            **self.pace.function_env(),
            **env,
        }
        self.starts += 1
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log: IO[bytes] = self.stack.enter_context(
            (self.log_dir / f"function-{self.starts}.log").open("wb")
        )
        process = subprocess.Popen(
            function_args(port),
            env={**os.environ, **full_env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: the bench can end all its processes
        )
        try:
            wait_for_http(f"http://127.0.0.1:{port}/healthz", process)
            yield process
        finally:
            stop_group(process)

    def fill(self, port: int, sid: str, deadline_s: float) -> dict[str, Any]:
        """One POST /fill, as the schedule sends it: it answers by `deadline_s` (real seconds)."""
        answer = httpx.post(
            f"http://127.0.0.1:{port}/fill",
            json={"spreadsheet_id": sid, "deadline_s": deadline_s},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=deadline_s + 120,
        )
        answer.raise_for_status()
        return dict(answer.json())

    def released(self, first_start: int) -> int:
        """Contacts given up unconfirmed by the function processes started since then."""
        return sum(
            (self.log_dir / f"function-{n}.log").read_text(errors="replace").count(RELEASED_EVENT)
            for n in range(first_start + 1, self.starts + 1)
        )

    def run(self, lane: str, rows: int, *, faults: bool, restart: bool) -> Run:
        first_start = self.starts
        self.emulator.post("/_emulator/reset").raise_for_status()
        self.configure(**(self.fault_config() if faults and lane == "async" else {}))
        sid, data = self.new_sheet(rows, f"{lane}-{secrets.token_hex(3)}")
        port = free_port()
        env: dict[str, str] = {}
        with tempfile.TemporaryDirectory(prefix="bench-async-") as folder:
            env["PRONTO_STORE"] = f"sqlite://{folder}/store.db"
            if lane == "async":
                env["PRONTO_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
                env["PRONTO_WEBHOOK_SECRET"] = secrets.token_urlsafe(24)
            bound = (
                self.pace.async_bound_s(rows) if lane == "async" else self.pace.sync_bound_s(rows)
            )
            summaries, peak_mb, restart_s, elapsed = self.fill_until_done(
                port, env, sid, bound / self.pace.scale, restart=restart and lane == "async"
            )
            seconds = elapsed * self.pace.scale
        return Run(
            lane=lane,
            rows=rows,
            seconds=seconds,
            bound_s=bound,
            wrong_rows=self.wrong_rows(sid, data),
            fills=len(summaries) + int(restart_s is not None),
            restart_s=None if restart_s is None else restart_s * self.pace.scale,
            peak_mb=peak_mb,
            stats=self.simulator.get("/_simulator/stats").json(),
            summaries=summaries,
            released=self.released(first_start),
        )

    def fault_config(self) -> dict[str, Any]:
        return {**FAULTS, "webhook_reorder_ms": REORDER_S * 1000 / self.pace.scale}

    def fill_until_done(
        self, port: int, env: Mapping[str, str], sid: str, bound_real_s: float, *, restart: bool
    ) -> tuple[list[dict[str, Any]], float, float | None, float]:
        """Call /fill until nothing is waiting (as the schedule would); with `restart`, kill
        the function once half the contacts are submitted and start it again.

        Returns the summaries, the function's peak memory (MB), how long the restart left it
        down and the real seconds from the first /fill to the last answer (start-up excluded).
        """
        summaries: list[dict[str, Any]] = []
        peak_mb = 0.0
        # Each call may run 3 x the bound (at least the 10 s /fill accepts); the bench stops
        # calling at 6 x the bound and reports the rows still waiting.
        deadline_s = min(3000.0, max(10.0, 3 * bound_real_s))
        killed_at: float | None = None
        started = time.monotonic()
        if restart:
            with self.function(port, env) as process:
                filling = threading.Thread(
                    target=self._first_fill, args=(port, sid, deadline_s, summaries), daemon=True
                )
                started = time.monotonic()
                filling.start()
                while filling.is_alive():
                    submitted = self.simulator.get("/_simulator/stats").json()["async"]["submitted"]
                    if submitted >= self.rows_of(sid) // 2:
                        peak_mb = max(peak_mb, group_peak_mb(process.pid))
                        killed_at = time.monotonic()
                        stop_group(process, signal.SIGKILL)  # no goodbye: as a crash
                        break
                    time.sleep(0.25)  # the stats carry every contact: ask a few times a second
                filling.join(60)
        with self.function(port, env) as process:
            restart_s = None if killed_at is None else time.monotonic() - killed_at
            if killed_at is None:
                started = time.monotonic()
            give_up_at = started + 6 * max(bound_real_s, 10.0)
            while True:
                summary = self.fill(port, sid, deadline_s)
                summary["bench_elapsed_s"] = time.monotonic() - started
                summaries.append(summary)
                done = not summary.get("waiting") and not summary.get("pending")
                if done or time.monotonic() > give_up_at:
                    break
            elapsed = time.monotonic() - started
            peak_mb = max(peak_mb, group_peak_mb(process.pid))
        return summaries, peak_mb, restart_s, elapsed

    def _first_fill(
        self, port: int, sid: str, deadline_s: float, summaries: list[dict[str, Any]]
    ) -> None:
        with contextlib.suppress(httpx.HTTPError):  # the kill ends it: expected
            summaries.append(self.fill(port, sid, deadline_s))

    def rows_of(self, sid: str) -> int:
        return self.sheet_rows[sid]


@click.command()
@click.option("--rows", default=3000, show_default=True, help="Rows of the async lane's sheet.")
@click.option(
    "--sync-rows",
    default=None,
    type=int,
    help="Rows of the sync lane's sheet (default: a tenth of --rows; it is linear in rows).",
)
@click.option("--latency-s", default=3.0, show_default=True, help="Pronto's time per contact.")
@click.option("--capacity", default=50, show_default=True, help="Pronto's async capacity.")
@click.option(
    "--scale",
    default=2.5,
    show_default=True,
    help="Time compression: Pronto's latency / S and rate x S; times reported unscaled. "
    "The function's start-up after the kill (real seconds, not compressed) counts S times: "
    "at 2.5 a few seconds, as a real Cloud Function restart; past about 5 the function's "
    "own per-webhook work becomes the limit too.",
)
@click.option(
    "--log-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write each function process's log there (function-1.log, ...).",
)
@click.option("--faults/--no-faults", default=True, show_default=True, help="Issue 16's faults.")
@click.option(
    "--restart/--no-restart",
    default=True,
    show_default=True,
    help="Kill and restart the function once mid-job (async lane).",
)
def main(
    rows: int,
    sync_rows: int | None,
    latency_s: float,
    capacity: int,
    scale: float,
    log_dir: Path | None,
    faults: bool,
    restart: bool,
) -> None:
    """Fill a sheet through the async lane and the sync lane; compare with their bounds."""
    # Stopped from outside (timeout, Ctrl-C): unwind, so every process started here ends.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    pace = Pace(latency_s, capacity, scale)
    sync_rows = sync_rows or max(50, rows // 10)
    has_lane = async_lane_exists()
    click.echo(
        f"Pronto: {latency_s:g} s per contact, capacity {capacity}, {RATE}/s, {SLOTS} open "
        f"calls; time compressed {scale:g}x, reported unscaled"
        + (f"; faults: {FAULTS}, reorder up to {REORDER_S:g} s" if faults else "")
    )
    with ExitStack() as stack:
        bench = Bench(stack, pace, log_dir)
        runs: list[Run] = []
        if has_lane:
            runs.append(bench.run("async", rows, faults=faults, restart=restart))
            click.echo(runs[-1].line())
        else:
            click.echo(
                "The function has no async lane yet (PRONTO_PUBLIC_URL, POST /webhooks/pronto/"
                "{secret}): measuring the sync lane only."
            )
        runs.append(bench.run("sync", sync_rows, faults=False, restart=False))
        click.echo(runs[-1].line())
    sync = runs[-1]
    per_10k_sync = sync.seconds / sync.rows * 10_000
    click.echo(f"sync lane per 10,000 rows: {per_10k_sync:,.0f} s (measured on {sync.rows} rows)")
    if has_lane:
        run = runs[0]
        per_10k_async = run.seconds / run.rows * 10_000
        click.echo(
            f"async lane per 10,000 rows: {per_10k_async:,.0f} s; "
            f"{per_10k_sync / per_10k_async:.1f}x faster than the sync lane"
        )
        click.echo("\n| lane | rows | time (s) | bound (s) | time / bound | peak memory |")
        click.echo("|---|---:|---:|---:|---:|---:|")
        for each in runs:
            click.echo(
                f"| {each.lane} | {each.rows:,} | {each.seconds:,.0f} | {each.bound_s:,.0f} | "
                f"{each.ratio:.2f} | {each.peak_mb:.0f} MB |"
            )


if __name__ == "__main__":
    main()
