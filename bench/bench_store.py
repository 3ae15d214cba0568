"""Benchmark the durable store: formula requests from memory and, after a restart, from
the store (SQLite and the Firestore emulator), and what the store adds to a sheet fill.

Everything is served as in production except Google and Pronto: the function under
functions-framework, the Pronto simulator, the Sheets API emulator, and Firestore's gRPC
emulator (tests/firestore_emulator, installed by scripts/test.sh). It prints figures and
ratios, and asserts nothing about time.

    .venv/bin/python -m bench.bench_store            # about five minutes
    .venv/bin/python -m bench.bench_store --fill-rows 500 --sets 5
"""

from __future__ import annotations

import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import click
import httpx
from tests.support.firestore import run_firestore_emulator

from bench.bench_fill import RATE, SLOTS, fill_once
from pronto_sheets_dev.local_stack import (
    SIMULATOR_KEY,
    free_port,
    function_args,
    local_stack,
    running,
    simulator_args,
)

ROWS = 200


def formula_rows(count: int, tag: str) -> list[dict[str, str]]:
    """A formula's range: `count` distinct contacts (first, last, website)."""
    return [
        {"firstname": f"Cell{i}", "lastname": f"Formula-{tag}", "domain": f"f{i % 29}.example.com"}
        for i in range(count)
    ]


@contextmanager
def function(sim_url: str, token: str, store_env: Mapping[str, str]) -> Iterator[httpx.Client]:
    """The function served on `store_env`'s store, and a client for it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        "PRONTO_API_KEY": SIMULATOR_KEY,
        "PRONTO_BASE_URL": sim_url,
        "PRONTO_SHEETS_TOKENS": token,
        "PRONTO_DAILY_CREDIT_BUDGET": "1000000000",
        "PRONTO_RATE_PER_SECOND": "5000",
        "PRONTO_MAX_IN_FLIGHT": "50",
        **store_env,
    }
    with (
        running(function_args(port), url + "/healthz", env),
        httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=600
        ) as client,
    ):
        yield client


def timed(client: httpx.Client, rows: list[dict[str, str]]) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    answer = client.post("/enrich", json={"contacts": rows, "priority": "interactive"})
    took = (time.perf_counter() - started) * 1000
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return took, body


def formula_figures(
    label: str, sim: httpx.Client, sim_url: str, store_env: Mapping[str, str], sets: int
) -> str:
    """Pay for `sets` ranges of 200, restart, then time each range once (from the store)
    and one range again and again (from memory)."""
    token = secrets.token_urlsafe(16)
    ranges = [formula_rows(ROWS, f"{label}-{i}-{secrets.token_hex(3)}") for i in range(sets)]
    with function(sim_url, token, store_env) as client:
        for rows in ranges:
            timed(client, rows)
    sim.post("/_simulator/reset").raise_for_status()
    with function(sim_url, token, store_env) as client:
        from_store = []
        for rows in ranges:
            took, body = timed(client, rows)
            assert body["stats"]["cache_hits"] == ROWS, body["stats"]
            from_store.append(took)
        from_memory = [timed(client, ranges[0])[0] for _ in range(3 * sets)]
    calls = sim.get("/_simulator/stats").json()["calls"]
    return (
        f"{label:>9}: 200-row formula request from memory p50 {statistics.median(from_memory):6.1f}"
        f" ms; after a restart, from the store p50 {statistics.median(from_store):6.1f} ms "
        f"(min {min(from_store):.1f}, max {max(from_store):.1f}; {sets} ranges); Pronto calls "
        f"after the restart: {calls}"
    )


def fill_figures(
    rows: int, latency_ms: float, stores: Mapping[str, Mapping[str, str]]
) -> list[str]:
    """The same 2,000-row fill on each store; time over the memory-only fill's time."""
    lines, seconds = [], {}
    emulator_port = free_port()
    emulator_url = f"http://127.0.0.1:{emulator_port}"
    emulator_args = [sys.executable, "-m", "pronto_sheets_dev.sheets_emulator"]
    emulator_args += ["--port", str(emulator_port)]
    with running(emulator_args, emulator_url + "/_emulator/healthz"):
        for label, store_env in stores.items():
            with (
                local_stack(
                    simulator_options=(
                        "--rate", str(RATE), "--max-open", str(SLOTS),
                        "--daily-credits", "1000000000",
                    ),
                    function_env={
                        "SHEETS_API_BASE_URL": emulator_url,
                        "PRONTO_RATE_PER_SECOND": str(RATE),
                        "PRONTO_MAX_IN_FLIGHT": str(SLOTS),
                        "PRONTO_DAILY_CREDIT_BUDGET": "1000000000",
                        **store_env,
                    },
                ) as stack,
                httpx.Client(
                    base_url=stack.function_url,
                    headers={"Authorization": f"Bearer {stack.token}"},
                    timeout=3600,
                ) as client,
                httpx.Client(base_url=str(stack.simulator_url), timeout=30) as sim,
                httpx.Client(base_url=emulator_url, timeout=60) as sheets,
            ):  # fmt: skip
                run = fill_once(client, sim, sheets, rows, latency_ms)
            seconds[label] = run.seconds
            base = seconds.get("memory", run.seconds)
            lines.append(
                f"{label:>9}: {rows}-row fill at {latency_ms:g} ms in {run.seconds:6.2f} s "
                f"(bound {run.bound_s:.2f} s, time/bound {run.seconds / run.bound_s:.3f}); "
                f"store overhead vs memory {100 * (run.seconds / base - 1):+.1f}%; "
                f"wrong rows {run.wrong_rows}, contacts paid {run.unique_paid}"
            )
    return lines


@click.command()
@click.option("--sets", default=10, show_default=True, help="200-row ranges read after restart.")
@click.option("--fill-rows", default=2000, show_default=True, help="Rows in the filled sheet.")
@click.option("--latency-ms", default=50.0, show_default=True, help="Pronto latency for fills.")
@click.option("--formula/--no-formula", default=True, help="Measure formula requests.")
@click.option("--fill/--no-fill", default=True, help="Measure fills.")
def main(sets: int, fill_rows: int, latency_ms: float, formula: bool, fill: bool) -> None:
    """Print the store's figures, one line each."""
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-store-")))
        firestore = stack.enter_context(run_firestore_emulator(folder / "logs"))
        stores: dict[str, dict[str, str]] = {
            "memory": {"PRONTO_STORE": "memory"},
            "sqlite": {"PRONTO_STORE": f"sqlite://{folder}/store.db"},
            "firestore": firestore.env(),
        }
        sim_port = free_port()
        sim_url = f"http://127.0.0.1:{sim_port}"
        sim_opts = ("--rate", "5000", "--max-open", "50", "--daily-credits", "1000000000")
        stack.enter_context(running(simulator_args(sim_port, *sim_opts), sim_url + "/healthz"))
        sim = stack.enter_context(httpx.Client(base_url=sim_url, timeout=30))
        for label in ("sqlite", "firestore") if formula else ():
            print(formula_figures(label, sim, sim_url, stores[label], sets), flush=True)
        for line in fill_figures(fill_rows, latency_ms, stores) if fill else ():
            print(line, flush=True)


if __name__ == "__main__":
    main()
