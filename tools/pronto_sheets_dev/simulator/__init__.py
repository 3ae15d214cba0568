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

It also speaks Pronto's async lane: `POST /v2/contacts/single_enrich`, `POST
/v2/contacts/bulk_enrich` and `GET /v2/contacts/{id}`
(https://docs.prontohq.com/api-reference/endpoints/enrichments/single,
https://docs.prontohq.com/api-reference/endpoints/enrichments/batch,
https://docs.prontohq.com/api-reference/endpoints/contacts/single_enrich), with a
processing capacity and latency, results POSTed to `webhook_url` (127.0.0.1 only) with
seeded faults (lost, duplicated, slow, reordered) and retries on non-2xx, and a clock tests
can move forward (`POST /_simulator/clock`). Every endpoint shares the rate and open-call
limits (https://docs.prontohq.com/essentials/concurrency).

Modules: `config` (settings), `outcomes` (what is found), `contact_request` (a contact's
request and its price), `limits` (rate window, FIFO slots, credit ledger), `service` (the
API's behaviour and counters), `async_shapes`, `async_endpoints`, `async_lane`,
`scheduler` and `webhooks` (the async lane), `reply` and `wire` (HTTP/1.1 over asyncio
streams with h11), `command` (entry points).
"""

from __future__ import annotations

from .async_endpoints import ANCHOR_MESSAGE
from .async_shapes import BULK_ENRICH_PATH, CONTACT_PATH_PREFIX, SINGLE_ENRICH_PATH
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
    "ANCHOR_MESSAGE",
    "BULK_ENRICH_PATH",
    "CONSENT_MESSAGE",
    "CONTACT_PATH_PREFIX",
    "ENRICH_PATH",
    "LINKEDIN_REQUIRED_MESSAGE",
    "NOT_FOUND_MESSAGE",
    "NO_CREDITS_200_MESSAGE",
    "NO_CREDITS_MESSAGE",
    "SINGLE_ENRICH_PATH",
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
