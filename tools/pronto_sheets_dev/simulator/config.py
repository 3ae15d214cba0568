"""The simulator's settings: one frozen value, validated when built.

`SimulatorConfig` holds every knob of the simulated Pronto API (which version of Pronto's
rules, key, limits, credits, consent, latency, fault rates). Building one with an
impossible value raises `ValueError` with a sentence naming the field; `updated_config`
applies a partial JSON update (the `POST /_simulator/config` body) and rejects unknown
fields the same way.

Rules: "current" follows Pronto's page as it is today
(https://docs.prontohq.com/api-reference/endpoints/contacts/sync_single_enrich): types
"email", "phone", "personal_email", the last two only with a `linkedin_url`, personal
email only with the account's consent. "legacy" follows the older copy of that page kept in
the repository (docs/reference/pronto-sync-single-enrich.txt; same address, before the rule
was added): "email" and "phone" only, phone without LinkedIn accepted, so old behaviour can
still be reproduced on purpose.

The async lane (`async_*`, `webhook_*`) follows Pronto's async pages
(https://docs.prontohq.com/api-reference/endpoints/enrichments/single,
https://docs.prontohq.com/api-reference/endpoints/enrichments/batch,
https://docs.prontohq.com/api-reference/endpoints/contacts/single_enrich); Pronto documents
no processing capacity, no webhook retry policy and no webhook faults, so those knobs are
ours, with defaults a careful integrator should survive.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

RetryAfterFormat = Literal["seconds", "http-date", "mixed", "none"]
RETRY_AFTER_FORMATS: tuple[str, ...] = ("seconds", "http-date", "mixed", "none")

Rules = Literal["current", "legacy"]
RULES: tuple[str, ...] = ("current", "legacy")

# The three ways Pronto says "out of credits": HTTP 402, HTTP 422, or HTTP 200 whose
# status is "error" with an insufficient-credits message.
OutOfCreditsForm = Literal["402", "422", "200"]
OUT_OF_CREDITS_FORMS: tuple[str, ...] = ("402", "422", "200")

FAULT_FIELDS: tuple[str, ...] = ("fault_429", "fault_503", "fault_drop", "fault_truncate")
WEBHOOK_FAULT_FIELDS: tuple[str, ...] = ("webhook_lost", "webhook_duplicated", "webhook_slow")


@dataclass(frozen=True)
class SimulatorConfig:
    """How the simulated Pronto API behaves; defaults mirror Pronto's documented limits.

    Rates and latencies are per API key and per served request; fault rates are
    probabilities in [0, 1] drawn from `random.Random(seed)` and must add up to at most 1
    (one roll per request picks at most one fault). `personal_email_consent` is the
    account's consent to personal email enrichment (ignored under "legacy" rules);
    `out_of_credits_form` is how a request the day's credits cannot pay is refused.
    """

    rules: Rules = "current"
    api_key: str = "sim-key"
    rate: int = 50
    max_open: int = 5
    daily_credits: int = 2500
    credits_per_email: int = 3
    credits_per_phone: int = 30
    # Pronto documents no price for a personal email: a cautious guess between the
    # email's 3 and the phone's 30, so a product that budgets less would show it.
    credits_per_personal_email: int = 20
    personal_email_consent: bool = True
    out_of_credits_form: OutOfCreditsForm = "402"
    latency_ms: float = 300.0
    latency_jitter_ms: float = 0.0
    queue_timeout_s: float = 60.0
    fault_503: float = 0.0
    fault_429: float = 0.0
    fault_drop: float = 0.0
    fault_truncate: float = 0.0
    retry_after_format: RetryAfterFormat = "seconds"
    retry_after_s: int = 1
    seed: int = 0
    # The async lane: contacts processed at once across single_enrich and bulk_enrich, and
    # the time each one takes once it is being processed (Pronto documents neither).
    async_capacity: int = 50
    async_latency_ms: float = 300.0
    # Types one async request may ask for: the async pages say "an array containing one
    # of" ["email"], ["phone"], ["personal_email"]; 3 accepts what the sync page accepts.
    async_types_per_request: int = 1
    # Webhook faults, each a probability per result: never sent, sent twice, sent late by
    # `webhook_slow_ms`; `webhook_reorder_ms` delays every delivery by a random time up to
    # it, so results arrive out of completion order.
    webhook_lost: float = 0.0
    webhook_duplicated: float = 0.0
    webhook_slow: float = 0.0
    webhook_slow_ms: float = 5000.0
    webhook_reorder_ms: float = 0.0
    # Pronto documents no retry policy: ours retries a non-2xx answer, a refused connection
    # or a timeout up to `webhook_retries` times, waiting backoff, 2 x backoff, 4 x ...
    webhook_retries: int = 3
    webhook_retry_backoff_ms: float = 1000.0
    webhook_timeout_s: float = 10.0

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            _check_type(field.name, getattr(self, field.name))
        if not self.api_key:
            raise ValueError("api_key must not be empty.")
        _at_least("rate", self.rate, 1)
        _at_least("max_open", self.max_open, 1)
        for name in (
            "daily_credits",
            "credits_per_email",
            "credits_per_phone",
            "credits_per_personal_email",
        ):
            _at_least(name, getattr(self, name), 0)
        for name in ("latency_ms", "latency_jitter_ms"):
            _at_least(name, getattr(self, name), 0)
        if self.queue_timeout_s <= 0:
            raise ValueError("queue_timeout_s must be greater than 0.")
        for name in FAULT_FIELDS:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a probability between 0 and 1, not {value}.")
        if sum(getattr(self, name) for name in FAULT_FIELDS) > 1.0 + 1e-9:
            raise ValueError("The fault rates (fault_*) must add up to at most 1.")
        _one_of("retry_after_format", self.retry_after_format, RETRY_AFTER_FORMATS)
        # 0 is valid HTTP ("retry now"): tests that only need the header keep their speed.
        _at_least("retry_after_s", self.retry_after_s, 0)
        _one_of("rules", self.rules, RULES)
        _one_of("out_of_credits_form", self.out_of_credits_form, OUT_OF_CREDITS_FORMS)
        self._check_async()

    def _check_async(self) -> None:
        _at_least("async_capacity", self.async_capacity, 1)
        _at_least("async_types_per_request", self.async_types_per_request, 1)
        if self.async_types_per_request > 3:
            raise ValueError(
                f"async_types_per_request must be at most 3, not {self.async_types_per_request}."
            )
        for name in ("async_latency_ms", "webhook_slow_ms", "webhook_reorder_ms"):
            _at_least(name, getattr(self, name), 0)
        _at_least("webhook_retries", self.webhook_retries, 0)
        _at_least("webhook_retry_backoff_ms", self.webhook_retry_backoff_ms, 0)
        if self.webhook_timeout_s <= 0:
            raise ValueError("webhook_timeout_s must be greater than 0.")
        for name in WEBHOOK_FAULT_FIELDS:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a probability between 0 and 1, not {value}.")

    def as_dict(self) -> dict[str, Any]:
        """The settings as a JSON-ready mapping (what `GET /_simulator/config` returns)."""
        return dataclasses.asdict(self)


FIELD_NAMES: frozenset[str] = frozenset(f.name for f in dataclasses.fields(SimulatorConfig))

# JSON types each field accepts; ints are fine where a float is expected, bools never are.
_STR_FIELDS = frozenset({"rules", "api_key", "retry_after_format", "out_of_credits_form"})
_BOOL_FIELDS = frozenset({"personal_email_consent"})
_INT_FIELDS = frozenset(
    {
        "rate",
        "max_open",
        "daily_credits",
        "credits_per_email",
        "credits_per_phone",
        "credits_per_personal_email",
        "retry_after_s",
        "seed",
        "async_capacity",
        "async_types_per_request",
        "webhook_retries",
    }
)


def _check_type(name: str, value: object) -> None:
    if name in _STR_FIELDS:
        ok = isinstance(value, str)
        wanted = "a string"
    elif name in _BOOL_FIELDS:
        ok = isinstance(value, bool)
        wanted = "true or false"
    elif name in _INT_FIELDS:
        ok = isinstance(value, int) and not isinstance(value, bool)
        wanted = "a whole number"
    else:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        wanted = "a number"
    if not ok:
        raise ValueError(f"{name} must be {wanted}, not {value!r}.")


def _at_least(name: str, value: float, minimum: float) -> None:
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value}.")


def _one_of(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}.")


def updated_config(config: SimulatorConfig, changes: Mapping[str, object]) -> SimulatorConfig:
    """`config` with `changes` applied; `ValueError` names unknown fields or bad values."""
    unknown = sorted(set(changes) - FIELD_NAMES)
    if unknown:
        raise ValueError(
            f"Unknown config field(s): {', '.join(unknown)}. "
            f"Known fields: {', '.join(sorted(FIELD_NAMES))}."
        )
    return dataclasses.replace(config, **changes)  # type: ignore[arg-type]
