"""A real HTTP server that stands in for Pronto's API in tests, benchmarks and the demo.

It serves `POST /v2/contacts/sync_single_enrich` as Pronto's current page describes it
(https://docs.prontohq.com/api-reference/endpoints/contacts/sync_single_enrich: types
email, phone and personal_email; phone and personal_email only with a LinkedIn URL;
personal email only with the account's consent) or, with `rules="legacy"`, as the older
copy of that page did. It enforces Pronto's limits (rate per second, requests served at
once with a server-side queue, daily credits, out of credits in its three forms), with
latency and seeded fault injection, and counts every refusal, plus control endpoints
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
from .service import (
    CONSENT_MESSAGE,
    ENRICH_PATH,
    LINKEDIN_REQUIRED_MESSAGE,
    NO_CREDITS_200_MESSAGE,
    NO_CREDITS_MESSAGE,
    NOT_FOUND_MESSAGE,
    Reply,
    SimulatedPronto,
)
from .wire import SimulatorServer

__all__ = [
    "CONSENT_MESSAGE",
    "ENRICH_PATH",
    "LINKEDIN_REQUIRED_MESSAGE",
    "NOT_FOUND_MESSAGE",
    "NO_CREDITS_200_MESSAGE",
    "NO_CREDITS_MESSAGE",
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
