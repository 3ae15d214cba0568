"""A real HTTP server that stands in for Pronto's API in tests, benchmarks and the demo.

It serves `POST /v2/contacts/sync_single_enrich` as Pronto's page describes it and
enforces Pronto's limits (rate per second, requests served at once with a server-side
queue, daily credits), with latency and seeded fault injection, plus control endpoints
for tests: `GET /_simulator/stats`, `POST /_simulator/reset`, `GET|POST
/_simulator/config`, `GET /healthz`. What it finds for a contact is a pure function
of the contact (`simulated_outcome`), so tests know every expected answer.

Modules: `config` (settings), `outcomes` (what is found), `limits` (rate window, FIFO
slots, credit ledger), `service` (the API's behaviour and counters), `wire` (HTTP/1.1
over asyncio streams with h11), `command` (entry points).
"""

from __future__ import annotations

from .command import main, run, serve, simulate_command
from .config import SimulatorConfig, updated_config
from .outcomes import (
    SimulatedOutcome,
    identity_key,
    simulated_email,
    simulated_outcome,
    simulated_personal_email,
)
from .service import ENRICH_PATH, NOT_FOUND_MESSAGE, Reply, SimulatedPronto
from .wire import SimulatorServer

__all__ = [
    "ENRICH_PATH",
    "NOT_FOUND_MESSAGE",
    "Reply",
    "SimulatedOutcome",
    "SimulatedPronto",
    "SimulatorConfig",
    "SimulatorServer",
    "identity_key",
    "main",
    "run",
    "serve",
    "simulate_command",
    "simulated_email",
    "simulated_outcome",
    "simulated_personal_email",
    "updated_config",
]
