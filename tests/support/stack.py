"""Handles on the Pronto simulator and the served function, for tests and benchmarks."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .servers import ServedProcess, free_port, functions_framework_command, serve_process

SIM_KEY = "sim-key"
TOKEN = "test-token-0123456789"
# Pronto faster than it really is, for tests about something other than its pace: the
# simulator's limits, and the served function's set in step with them (Simulator.reset
# takes the first, run_function's env the second). tests/test_enrich_api.py holds the
# product to Pronto's real 50 calls a second and 5 at once.
FAST_SIMULATOR: dict[str, Any] = {"rate": 1000, "max_open": 20}
FAST_FUNCTION_ENV: dict[str, str] = {
    "PRONTO_RATE_PER_SECOND": str(FAST_SIMULATOR["rate"]),
    "PRONTO_MAX_IN_FLIGHT": str(FAST_SIMULATOR["max_open"]),
}


@dataclass
class Simulator:
    """A running Pronto simulator and its control endpoints."""

    served: ServedProcess

    @property
    def url(self) -> str:
        return self.served.base_url

    def configure(self, **fields: Any) -> None:
        response = httpx.post(f"{self.url}/_simulator/config", json=fields)
        response.raise_for_status()

    def reset(self, **fields: Any) -> None:
        """Zero the counters and credits, then apply `fields` on top of the quiet defaults.

        The defaults follow Pronto's current rules (LinkedIn required for phone and
        personal email, consent given, 402 when out of credits), whatever a test set before.
        """
        defaults: dict[str, Any] = {
            "rules": "current",
            "personal_email_consent": True,
            "out_of_credits_form": "402",
            "latency_ms": 0,
            "latency_jitter_ms": 0,
            "rate": 50,
            "max_open": 5,
            "daily_credits": 10_000_000,
            "fault_503": 0.0,
            "fault_429": 0.0,
            "fault_drop": 0.0,
            "fault_truncate": 0.0,
            "retry_after_format": "seconds",
            # The async lane's webhook faults, so one test's lost webhooks never reach the next.
            "webhook_lost": 0.0,
            "webhook_duplicated": 0.0,
            "webhook_slow": 0.0,
            "webhook_reorder_ms": 0.0,
        }
        self.configure(**{**defaults, **fields})
        httpx.post(f"{self.url}/_simulator/reset").raise_for_status()

    def stats(self) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/_simulator/stats")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


@contextmanager
def run_simulator(log_dir: Path, *options: str) -> Iterator[Simulator]:
    port = free_port()
    args = [sys.executable, "-m", "pronto_sheets_dev.simulator", "--port", str(port), *options]
    with serve_process(
        args, port=port, ready_path="/healthz", log_dir=log_dir, name="simulator"
    ) as served:
        yield Simulator(served)


@dataclass
class Function:
    """The function served by functions-framework, and an authenticated client for it."""

    served: ServedProcess
    token: str = TOKEN

    @property
    def url(self) -> str:
        return self.served.base_url

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=kwargs.pop("timeout", 120.0),
            **kwargs,
        )

    def enrich(self, contacts: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
        with self.client() as http:
            response = http.post("/enrich", json={"contacts": contacts, **fields})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@contextmanager
def run_function(
    log_dir: Path, simulator_url: str, env: Mapping[str, str] | None = None
) -> Iterator[Function]:
    """The function served against `simulator_url`; its store is a SQLite file of its own
    (never the user's cache directory) unless `env` names one in PRONTO_STORE."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="pronto-store-") as store_dir:
        full_env = {
            "PRONTO_API_KEY": SIM_KEY,
            "PRONTO_BASE_URL": simulator_url,
            "PRONTO_SHEETS_TOKENS": f"old-token-rotating-out,{TOKEN}",
            "PRONTO_DAILY_CREDIT_BUDGET": "100000000",
            "PRONTO_STORE": f"sqlite://{store_dir}/store.db",
            **(env or {}),
        }
        with serve_process(
            functions_framework_command(port),
            port=port,
            ready_path="/healthz",
            env=full_env,
            log_dir=log_dir,
            name="function",
            measure=True,
        ) as served:
            yield Function(served)
