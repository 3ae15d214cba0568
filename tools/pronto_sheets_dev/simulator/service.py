"""What the simulated Pronto answers to each request, and what it counted.

`SimulatedPronto.handle(method, path, headers, body)` returns a `Reply`; it knows nothing
about sockets (see `wire.py`). For `POST /v2/contacts/sync_single_enrich` the steps are,
in order: API key (401), rate over the last rolling second per key (429), body (400),
under the "current" rules a "phone" or "personal_email" request without `linkedin_url`
(422) and a "personal_email" request without the account's consent (422), one seeded
fault roll (spurious 429 at once), the FIFO queue for one of `max_open` slots (504 after
`queue_timeout_s`), the latency, then the other faults (503, dropped connection,
truncated body) or the answer, charged on delivery. Out of credits (nothing left today,
or less than the answer costs) is answered in the configured form: 402, 422, or a 200
whose status is "error". Faults and refusals never charge credits.

Pronto's current page for the endpoint, which these rules follow:
https://docs.prontohq.com/api-reference/endpoints/contacts/sync_single_enrich (the
"legacy" rules follow the older copy of that page kept in the repository,
docs/reference/pronto-sync-single-enrich.txt, from before phone needed LinkedIn).
The page gives the consent refusal's status and text; it does not give the status of the
missing-LinkedIn refusal (422 here, with a sentence like the page's) nor the exact
out-of-credits bodies.

The async lane (`POST /v2/contacts/single_enrich`, `POST /v2/contacts/bulk_enrich`,
`GET /v2/contacts/{id}`) is `async_endpoints.py` (checks and answers) and `async_lane.py`
(processing, settlement, webhooks); it shares this module's key check, rate window, FIFO
slots, faults and credit ledger. On those endpoints a fault (503, dropped connection,
truncated answer) means the request was not accepted: nothing is queued or charged, as
on the sync lane, where a lost answer is not charged. Every API request,
sync or async, counts in the same rolling second per key and waits for the same
`max_open` slots (https://docs.prontohq.com/essentials/concurrency: "up to 5 concurrent
requests at a time", the rest queued; 50 requests per second per user on the sync page).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import math
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .async_endpoints import AsyncEndpoints
from .async_lane import AsyncLane
from .async_shapes import BULK_ENRICH_PATH, CONTACT_PATH_PREFIX, SINGLE_ENRICH_PATH
from .config import OutOfCreditsForm, SimulatorConfig, updated_config
from .contact_request import (
    CONSENT_MESSAGE,
    ENRICHMENT_TYPES,
    LEGACY_ENRICHMENT_TYPES,
    LEGACY_TYPES_MESSAGE,
    LINKEDIN_REQUIRED_MESSAGE,
    LINKEDIN_TYPES,
    NO_CREDITS_200_MESSAGE,
    NO_CREDITS_MESSAGE,
    TYPES_MESSAGE,
    BadRequest,
    EnrichRequest,
    found_types,
    parse_enrich_request,
    price,
)
from .limits import CreditLedger, FifoSlots, RollingWindow
from .outcomes import simulated_outcome
from .reply import Delivery, JsonBody, Reply

log = logging.getLogger(__name__)

__all__ = [
    "BULK_ENRICH_PATH",
    "CONSENT_MESSAGE",
    "CONTACT_PATH_PREFIX",
    "ENRICHMENT_TYPES",
    "ENRICH_PATH",
    "LEGACY_ENRICHMENT_TYPES",
    "LEGACY_TYPES_MESSAGE",
    "LINKEDIN_REQUIRED_MESSAGE",
    "LINKEDIN_TYPES",
    "NOT_FOUND_MESSAGE",
    "NO_CREDITS_200_MESSAGE",
    "NO_CREDITS_MESSAGE",
    "SINGLE_ENRICH_PATH",
    "TYPES_MESSAGE",
    "BadRequest",
    "Delivery",
    "EnrichRequest",
    "JsonBody",
    "Reply",
    "SimulatedPronto",
    "parse_enrich_request",
]

ENRICH_PATH = "/v2/contacts/sync_single_enrich"
NOT_FOUND_MESSAGE = "No email or phone found for this profile"
INVALID_KEY_MESSAGE = "Invalid API key"
TOO_MANY_MESSAGE = "Too many requests"
UNAVAILABLE_MESSAGE = "Service unavailable"
QUEUE_TIMEOUT_MESSAGE = "Gateway timeout: the request waited too long in the queue"

Fault = Literal["none", "429", "503", "drop", "truncate"]
# The API's own endpoints: each one passes the key, rate, fault and open-call checks.
ApiAction = Literal["enrich", "single", "bulk", "poll"]


@dataclass
class _Counters:
    calls: int = 0
    served: int = 0
    connections: int = 0
    rate_limited: int = 0
    max_calls_in_any_second: int = 0
    peak_open: int = 0
    peak_serving: int = 0
    retry_afters: int = 0
    by_contact: Counter[str] = field(default_factory=Counter)
    by_type: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    refused_without_linkedin: int = 0
    refused_without_linkedin_by_type: Counter[str] = field(default_factory=Counter)
    consent_refusals: int = 0
    out_of_credits_refusals: int = 0
    calls_after_out_of_credits: int = 0
    requests: int = 0
    max_requests_in_any_second: int = 0
    charged_by_contact: Counter[str] = field(default_factory=Counter)


class SimulatedPronto:
    """The simulated API's behaviour and counters; use from one event loop."""

    def __init__(self, config: SimulatorConfig) -> None:
        self._config = config
        self._rng = random.Random(config.seed)
        self._slots = FifoSlots(config.max_open)
        self._credits = CreditLedger(config.daily_credits)
        self._rate_windows: dict[str, RollingWindow] = {}
        self._calls_window = RollingWindow()
        self._requests_window = RollingWindow()
        self._counters = _Counters()
        self._open = 0
        self._lane = AsyncLane(lambda: self._config, self._credits, config.seed)
        self._async = AsyncEndpoints(
            self._lane, lambda: self._config, self._refusal, self._count_out_of_credits
        )

    @property
    def config(self) -> SimulatorConfig:
        return self._config

    def update_config(self, changes: Mapping[str, object]) -> SimulatorConfig:
        """Apply a partial update (`ValueError` on unknown fields or bad values)."""
        new = updated_config(self._config, changes)
        if new.seed != self._config.seed:
            self._rng = random.Random(new.seed)
        self._config = new
        self._slots.set_limit(new.max_open)
        self._credits.daily_limit = new.daily_credits
        self._lane.config_changed()
        return new

    def reset(self) -> None:
        """Zero counters, credits, peaks and rate windows; re-seed; keep the config."""
        self._counters = _Counters(peak_open=self._open, peak_serving=self._slots.held)
        self._credits.reset()
        self._rate_windows.clear()
        self._calls_window.clear()
        self._requests_window.clear()
        self._rng = random.Random(self._config.seed)
        self._lane.reset(self._config.seed)

    def advance_clock(self, seconds: float) -> None:
        """Move the async lane's clock forward (`POST /_simulator/clock`)."""
        self._lane.advance(seconds)

    async def aclose(self) -> None:
        """Stop the async lane's timers and webhook deliveries."""
        await self._lane.aclose()

    def connection_opened(self) -> None:
        """Count a TCP connection that carried enrichment requests (do clients keep them alive?)."""
        self._counters.connections += 1

    def stats(self) -> dict[str, Any]:
        """What `GET /_simulator/stats` returns (counts since the last reset).

        `calls`: enrichment requests received, whatever the outcome; `served`: answered
        200 (found or not); `by_contact`: 200 answers per `identity_key`; `connections`:
        TCP connections that carried enrichment requests; `open`/`peak_open`: admitted
        requests (past key, rate and body checks) not yet answered, queued or served;
        `serving`/`peak_serving`: requests holding one of the `max_open` slots; `queued`:
        requests waiting for one; `rate_limited`: 429s for the rate (spurious 429s count
        in `faults`); `max_calls_in_any_second`: most calls within one rolling second.

        Pronto's rules: `by_type`: accepted requests (past key, rate, body, LinkedIn and
        consent checks) per type asked; `refused_without_linkedin`: 422s for "phone" or
        "personal_email" asked without a `linkedin_url`, and
        `refused_without_linkedin_by_type` per such type asked; `consent_refusals`: 422s
        for "personal_email" without the account's consent; `out_of_credits_refusals`:
        answers saying the credits are insufficient (in any form);
        `calls_after_out_of_credits`: calls (and async submissions) received after the
        first of those.

        Every endpoint: `requests`: API requests received (sync, async, polls);
        `max_requests_in_any_second`: most of them within one rolling second;
        `charged_by_contact`: answers that cost credits per `identity_key`, both lanes
        (a contact paid twice shows 2); `async`: the async lane (see `AsyncLane.stats`).
        """
        counters = self._counters
        charged = counters.charged_by_contact + self._lane.charged_by_contact()
        return {
            "calls": counters.calls,
            "served": counters.served,
            "connections": counters.connections,
            "by_contact": dict(counters.by_contact),
            "open": self._open,
            "serving": self._slots.held,
            "queued": self._slots.waiting,
            "peak_open": counters.peak_open,
            "peak_serving": counters.peak_serving,
            "rate_limited": counters.rate_limited,
            "faults": {name: counters.faults[name] for name in ("503", "429", "drop", "truncate")},
            "credits_spent": self._credits.spent,
            "credits_left": self._credits.left,
            "max_calls_in_any_second": counters.max_calls_in_any_second,
            "by_type": {kind: counters.by_type[kind] for kind in ENRICHMENT_TYPES},
            "refused_without_linkedin": counters.refused_without_linkedin,
            "refused_without_linkedin_by_type": {
                kind: counters.refused_without_linkedin_by_type[kind] for kind in LINKEDIN_TYPES
            },
            "consent_refusals": counters.consent_refusals,
            "out_of_credits_refusals": counters.out_of_credits_refusals,
            "calls_after_out_of_credits": counters.calls_after_out_of_credits,
            "requests": counters.requests,
            "max_requests_in_any_second": counters.max_requests_in_any_second,
            "charged_by_contact": dict(charged),
            "async": self._lane.stats(),
        }

    async def handle(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> Reply:
        """The reply to one request; `headers` keys are lower-case."""
        route = _route(path)
        if route is None:
            return Reply(404, {"message": f"Not found: {path}"})
        if method not in route:
            allowed = ", ".join(sorted(route))
            return Reply(
                405, {"message": f"Method not allowed; use {allowed}."}, (("allow", allowed),)
            )
        action = route[method]
        try:
            if action in _API_ACTIONS:
                return await self._api(action, headers, body, path)  # type: ignore[arg-type]
            return self._control(action, body)
        except Exception:  # a simulator bug must show as a 500, not a hung client
            log.exception("simulator failed on %s %s", method, path)
            return Reply(500, {"message": "Simulator error (see its log)."})

    def _control(self, action: str, body: bytes) -> Reply:
        if action == "healthz":
            return Reply(200, {"ok": True})
        if action == "stats":
            return Reply(200, self.stats())
        if action == "reset":
            self.reset()
            return Reply(200, self.stats())
        if action == "get_config":
            return Reply(200, self._config.as_dict())
        if action == "clock":
            return self._post_clock(body)
        return self._post_config(body)

    def _post_clock(self, body: bytes) -> Reply:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            data = None
        advance = data.get("advance_s") if isinstance(data, dict) else None
        if not isinstance(advance, int | float) or isinstance(advance, bool) or advance < 0:
            return Reply(
                400,
                {
                    "message": 'Send {"advance_s": N}: how many seconds (0 or more) to move '
                    "the async lane's clock forward."
                },
            )
        self.advance_clock(float(advance))
        return Reply(200, {"clock_offset_s": self._lane.scheduler.offset})

    def _post_config(self, body: bytes) -> Reply:
        try:
            changes = json.loads(body or b"{}")
        except ValueError:
            return Reply(400, {"message": "The config update must be a JSON object."})
        if not isinstance(changes, dict):
            return Reply(400, {"message": "The config update must be a JSON object."})
        try:
            new = self.update_config(changes)
        except ValueError as exc:
            return Reply(400, {"message": str(exc)})
        return Reply(200, new.as_dict())

    async def _api(
        self, action: ApiAction, headers: Mapping[str, str], body: bytes, path: str
    ) -> Reply:
        """Key (401), rate (429), the endpoint's own checks, a fault roll, a slot, the answer."""
        config = self._config
        refused = self._admit(action, headers)
        if refused is not None:
            return refused
        if action == "enrich":
            return await self._enrich(body)
        if action == "single":
            prepared = self._async.prepare_single(body)
        elif action == "bulk":
            prepared = self._async.prepare_bulk(body)
        else:
            prepared = self._async.prepare_poll(path)
        if isinstance(prepared, Reply):
            return prepared
        fault = self._pick_fault(self._rng.random())
        if fault == "429":
            self._counters.faults["429"] += 1
            return self._too_many()
        action_now = prepared  # the async endpoints answer at once: no latency

        def answer(fault: Fault) -> Reply:
            # A faulted answer was not accepted: nothing is queued, nothing is charged.
            return self._fault_reply(fault) or action_now()

        return await self._serve_queued(answer, fault, 0.0, config.queue_timeout_s)

    def _admit(self, action: ApiAction, headers: Mapping[str, str]) -> Reply | None:
        """Count the request; refuse a wrong key (401) or one past the rate (429)."""
        config = self._config
        counters = self._counters
        now = time.monotonic()
        counters.requests += 1
        counters.max_requests_in_any_second = max(
            counters.max_requests_in_any_second, self._requests_window.add(now)
        )
        if action == "enrich":
            counters.calls += 1
            counters.max_calls_in_any_second = max(
                counters.max_calls_in_any_second, self._calls_window.add(now)
            )
        if action != "poll" and counters.out_of_credits_refusals:
            counters.calls_after_out_of_credits += 1
        key = headers.get("x-api-key")
        if key != config.api_key:
            return Reply(401, {"message": INVALID_KEY_MESSAGE})
        # One rolling second per key for every endpoint (50 requests per second per user).
        window = self._rate_windows.setdefault(key, RollingWindow())
        if window.count(now) >= config.rate:
            counters.rate_limited += 1
            return self._too_many()
        window.add(now)
        return None

    async def _enrich(self, body: bytes) -> Reply:
        config = self._config
        try:
            request = parse_enrich_request(body, config.rules)
        except BadRequest as exc:
            return Reply(400, {"message": str(exc)})
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        self._counters.by_type.update(request.types)
        # Two draws per accepted request, always, so a seed gives one sequence of events.
        fault = self._pick_fault(self._rng.random())
        jitter = self._rng.uniform(-1.0, 1.0) * config.latency_jitter_ms
        latency_s = max(0.0, config.latency_ms + jitter) / 1000.0
        if fault == "429":
            self._counters.faults["429"] += 1
            return self._too_many()
        return await self._serve_queued(
            lambda fault: self._answer(request, fault), fault, latency_s, config.queue_timeout_s
        )

    async def _serve_queued(
        self,
        answer: Callable[[Fault], Reply],
        fault: Fault,
        latency_s: float,
        queue_timeout_s: float,
    ) -> Reply:
        """Wait in line for one of the `max_open` slots (all endpoints share them), then
        `latency_s`, then `answer(fault)`; 504 after `queue_timeout_s` in line."""
        self._open += 1
        self._counters.peak_open = max(self._counters.peak_open, self._open)
        try:
            granted_at = await self._slots.acquire(queue_timeout_s)
            if granted_at is None:
                return Reply(504, {"message": QUEUE_TIMEOUT_MESSAGE})
            try:
                self._counters.peak_serving = max(self._counters.peak_serving, self._slots.held)
                # Latency counts from the hand-over, so a busy loop does not slow the queue.
                delay = granted_at + latency_s - asyncio.get_running_loop().time()
                if delay > 0:
                    await asyncio.sleep(delay)
                return answer(fault)
            finally:
                self._slots.release()
        finally:
            self._open -= 1

    def _fault_reply(self, fault: Fault) -> Reply | None:
        """The reply a served-time fault gives on an async endpoint (None: no fault)."""
        counters = self._counters
        if fault == "503":
            counters.faults["503"] += 1
            return Reply(503, {"message": UNAVAILABLE_MESSAGE})
        if fault == "drop":
            counters.faults["drop"] += 1
            return Reply(0, None, delivery="drop")
        if fault == "truncate":
            counters.faults["truncate"] += 1
            body = {"enrichment_id": str(uuid.uuid4()), "status": "pending"}
            return Reply(200, body, delivery="truncate")
        return None

    def _pick_fault(self, roll: float) -> Fault:
        config = self._config
        threshold = 0.0
        for fault, rate in (
            ("429", config.fault_429),
            ("503", config.fault_503),
            ("drop", config.fault_drop),
            ("truncate", config.fault_truncate),
        ):
            threshold += rate
            if rate > 0 and roll < threshold:
                return fault  # type: ignore[return-value]
        return "none"

    def _refusal(self, request: EnrichRequest) -> Reply | None:
        """The 422 the current rules give `request` (LinkedIn first, then consent), if any."""
        if self._config.rules != "current":
            return None
        counters = self._counters
        needing = [kind for kind in request.types if kind in LINKEDIN_TYPES]
        if needing and not request.has_linkedin:
            counters.refused_without_linkedin += 1
            counters.refused_without_linkedin_by_type.update(needing)
            return Reply(422, {"message": LINKEDIN_REQUIRED_MESSAGE})
        if request.wants_personal_email and not self._config.personal_email_consent:
            counters.consent_refusals += 1
            return Reply(422, {"message": CONSENT_MESSAGE})
        return None

    def _too_many(self) -> Reply:
        config = self._config
        self._counters.retry_afters += 1
        form = config.retry_after_format
        if form == "mixed":
            form = "seconds" if self._counters.retry_afters % 2 else "http-date"
        headers: tuple[tuple[str, str], ...] = ()
        if form == "seconds":
            headers = (("retry-after", str(config.retry_after_s)),)
        elif form == "http-date":
            # An HTTP date has whole seconds: round up so the wait is never shorter.
            when = math.ceil(time.time()) + config.retry_after_s
            headers = (("retry-after", email.utils.formatdate(when, usegmt=True)),)
        return Reply(429, {"message": TOO_MANY_MESSAGE}, headers)

    def _answer(self, request: EnrichRequest, fault: Fault) -> Reply:
        counters = self._counters
        if fault == "503":
            counters.faults["503"] += 1
            return Reply(503, {"message": UNAVAILABLE_MESSAGE})
        if fault == "drop":
            counters.faults["drop"] += 1
            return Reply(0, None, delivery="drop")
        body, cost = self._answer_body(request)
        if fault == "truncate":
            counters.faults["truncate"] += 1
            return Reply(200, body, delivery="truncate")
        # Nothing left refuses even a free (not found) answer; otherwise the answer must be paid.
        if self._credits.left == 0 or not self._credits.try_charge(cost):
            return self._out_of_credits(request)
        counters.served += 1
        counters.by_contact[request.identity] += 1
        if cost:
            counters.charged_by_contact[request.identity] += 1
        return Reply(200, body)

    def _count_out_of_credits(self) -> OutOfCreditsForm:
        """Count a refusal for lack of credits; the form it takes (402, 422 or 200)."""
        self._counters.out_of_credits_refusals += 1
        return self._config.out_of_credits_form

    def _out_of_credits(self, request: EnrichRequest) -> Reply:
        """Refuse `request` for lack of credits, in the configured form; nothing is charged."""
        form = self._count_out_of_credits()
        if form == "200":
            return Reply(200, _error_body(request, NO_CREDITS_200_MESSAGE))
        return Reply(int(form), {"message": NO_CREDITS_MESSAGE})

    def _answer_body(self, request: EnrichRequest) -> tuple[dict[str, Any], int]:
        """The 200 body for `request` and what it costs in credits (nothing if not found).

        "success" when any type asked is found: each type asked has its fields, those not
        found as null / [] with "N/A" / "not_found"; else the "error" body of `_error_body`.
        """
        outcome = simulated_outcome(
            request.firstname,
            request.lastname,
            request.domain,
            request.company_name,
            request.linkedin_url,
        )
        found = found_types(request, outcome)
        phone_found = "phone" in found
        if not found:
            return _error_body(request, NOT_FOUND_MESSAGE), 0
        body = _identity_fields(request)
        body["status"] = "success"
        if request.wants_email:
            body["email"] = outcome.email
            body["email_status"] = outcome.email_status or "N/A"
        if request.wants_phone:
            body["phones"] = [
                {"number": number, "type": "mobile"} if outcome.phone_shape == "object" else number
                for number in (outcome.phones if phone_found else ())
            ]
            body["phone_status"] = "valid" if phone_found else "not_found"
        if request.wants_personal_email:
            body["personal_email"] = outcome.personal_email
            body["personal_email_status"] = outcome.personal_email_status or "N/A"
        if request.custom is not None:
            body["custom"] = request.custom
        return body, price(self._config, found)


def _identity_fields(request: EnrichRequest) -> dict[str, Any]:
    return {
        "enrichment_id": str(uuid.uuid4()),
        "first_name": request.firstname,
        "last_name": request.lastname,
        "linkedin_profile_url": request.linkedin_url,
    }


def _error_body(request: EnrichRequest, message: str) -> dict[str, Any]:
    """A 200 "error" body (nothing found, or the 200 form of out of credits), `custom` echoed.

    Email and phone fields are always there (as the seed page shows them); the personal
    email fields only when that type was asked.
    """
    body = _identity_fields(request)
    body.update(
        status="error",
        message=message,
        email=None,
        email_status="N/A",
        phones=[],
        phone_status="not_found",
    )
    if request.wants_personal_email:
        body.update(personal_email=None, personal_email_status="N/A")
    if request.custom is not None:
        body["custom"] = request.custom
    return body


_ROUTES: dict[str, dict[str, str]] = {
    ENRICH_PATH: {"POST": "enrich"},
    SINGLE_ENRICH_PATH: {"POST": "single"},
    BULK_ENRICH_PATH: {"POST": "bulk"},
    "/healthz": {"GET": "healthz"},
    "/_simulator/stats": {"GET": "stats"},
    "/_simulator/reset": {"POST": "reset"},
    "/_simulator/config": {"GET": "get_config", "POST": "post_config"},
    "/_simulator/clock": {"POST": "clock"},
}
_POLL_ROUTE: dict[str, str] = {"GET": "poll"}
_API_ACTIONS = frozenset({"enrich", "single", "bulk", "poll"})


def _route(path: str) -> dict[str, str] | None:
    """The methods `path` answers: a fixed route, or `GET /v2/contacts/{id}`."""
    route = _ROUTES.get(path)
    if route is None and path.startswith(CONTACT_PATH_PREFIX):
        enrichment_id = path.removeprefix(CONTACT_PATH_PREFIX)
        if enrichment_id and "/" not in enrichment_id:
            return _POLL_ROUTE
    return route
