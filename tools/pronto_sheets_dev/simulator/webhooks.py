"""Webhook deliveries: each async result POSTed to its `webhook_url`, with seeded faults.

Pronto's pages say only this much: "We POST the final result to that URL once the
waterfall completes" (https://docs.prontohq.com/api-reference/endpoints/enrichments/single)
and "we POST one payload per contact as each one finishes. The webhook payload echoes the
custom fields you sent with that contact"
(https://docs.prontohq.com/api-reference/endpoints/enrichments/batch). They document no
payload schema, no signature and no retry policy. Our assumptions, all in the config:
- the payload is the body `GET /v2/contacts/{id}` answers for that result once finished;
- a delivery counts when the receiver answers 2xx; a non-2xx answer, a refused connection
  or a timeout (`webhook_timeout_s`) is tried again up to `webhook_retries` times, after
  `webhook_retry_backoff_ms`, then twice that, four times, ... (a common policy, not
  Pronto's: a receiver must not count on it, polling is the guarantee);
- faults, one seeded draw each per result: `webhook_lost` (never sent), `webhook_duplicated`
  (sent twice, each copy delivered and retried on its own), `webhook_slow` (sent
  `webhook_slow_ms` late) and `webhook_reorder_ms` (every copy waits a random time up to
  it, so results arrive out of completion order).
Deliveries go to http://127.0.0.1 only: the simulator never calls out of the machine.
Any other URL is refused, counted and logged by scheme and host only (the path of a
webhook URL may carry a secret).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from .config import SimulatorConfig
from .scheduler import LaneScheduler

log = logging.getLogger(__name__)

LOOPBACK_HOST = "127.0.0.1"


def is_loopback_url(url: str) -> bool:
    """True for an http(s) URL whose host is 127.0.0.1, the only place we deliver to."""
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and parts.hostname == LOOPBACK_HOST
    except ValueError:
        return False


@dataclass
class WebhookCounts:
    """What happened to the webhooks since the last reset (see `WebhookSender.stats`)."""

    results: int = 0
    sent: int = 0
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    slowed: int = 0
    retried: int = 0
    gave_up: int = 0
    refused: int = 0
    answers: Counter[str] = field(default_factory=Counter)


@dataclass
class _Delivery:
    url: str
    payload: Mapping[str, Any]
    attempts: int = 0


class WebhookSender:
    """Delivers results on the lane's clock, with the config's faults and retries."""

    def __init__(
        self, scheduler: LaneScheduler, config: Callable[[], SimulatorConfig], seed: int
    ) -> None:
        self._scheduler = scheduler
        self._config = config
        self._rng = random.Random(f"webhooks|{seed}")
        self._counts = WebhookCounts()
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    def send(self, url: str, payload: Mapping[str, Any]) -> None:
        """Deliver `payload` to `url` as the faults decide (possibly never, or twice)."""
        config = self._config()
        counts = self._counts
        counts.results += 1
        # Five draws per result, always, so a seed gives one sequence of events.
        lost, twice, slow, first, second = (self._rng.random() for _ in range(5))
        if not is_loopback_url(url):
            counts.refused += 1
            log.warning(
                "webhook to %s refused: the simulator delivers only to http://%s",
                _scheme_and_host(url),
                LOOPBACK_HOST,
            )
            return
        if lost < config.webhook_lost:
            counts.lost += 1
            return
        delay_s = first * config.webhook_reorder_ms / 1000.0
        if slow < config.webhook_slow:
            counts.slowed += 1
            delay_s += config.webhook_slow_ms / 1000.0
        self._schedule(_Delivery(url, payload), delay_s)
        if twice < config.webhook_duplicated:
            counts.duplicated += 1
            # The copy comes a little after the first, or anywhere in the reorder window.
            extra_s = max(second * config.webhook_reorder_ms / 1000.0, 0.001)
            self._schedule(_Delivery(url, payload), delay_s + extra_s)

    def stats(self) -> dict[str, Any]:
        """`results`: results with a webhook_url; `sent`: POSTs made (first tries, copies,
        retries); `delivered`: 2xx answers; `lost`, `duplicated`, `slowed`: faults drawn;
        `retried`: attempts made again; `gave_up`: deliveries that ran out of retries;
        `refused`: URLs not on 127.0.0.1; `in_flight`: POSTs awaiting an answer;
        `answers`: receiver answers by status code ("error" when no answer came)."""
        counts = self._counts
        return {
            "results": counts.results,
            "sent": counts.sent,
            "delivered": counts.delivered,
            "lost": counts.lost,
            "duplicated": counts.duplicated,
            "slowed": counts.slowed,
            "retried": counts.retried,
            "gave_up": counts.gave_up,
            "refused": counts.refused,
            "in_flight": len(self._tasks),
            "answers": dict(counts.answers),
        }

    def reset(self, seed: int) -> None:
        """Zero the counts, re-seed, and abandon deliveries under way."""
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        self._counts = WebhookCounts()
        self._rng = random.Random(f"webhooks|{seed}")

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _schedule(self, delivery: _Delivery, delay_s: float) -> None:
        self._scheduler.call_later(delay_s, lambda: self._attempt(delivery))

    def _attempt(self, delivery: _Delivery) -> None:
        # Counted when its timer fires, so a test that moved the clock sees it at once.
        delivery.attempts += 1
        self._counts.sent += 1
        task = asyncio.get_running_loop().create_task(self._post(delivery, self._counts))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(self, delivery: _Delivery, counts: WebhookCounts) -> None:
        config = self._config()
        try:
            # The timeout is the receiver's: a wait for one of our own connections is not.
            timeout = httpx.Timeout(config.webhook_timeout_s, pool=None)
            answer = await self._http().post(
                delivery.url, json=dict(delivery.payload), timeout=timeout
            )
            status = str(answer.status_code)
            delivered = 200 <= answer.status_code < 300
        except httpx.HTTPError:
            status, delivered = "error", False
        if counts is not self._counts:
            return  # a reset came while this was under way: it no longer counts
        counts.answers[status] += 1
        if delivered:
            counts.delivered += 1
        elif delivery.attempts <= config.webhook_retries:
            counts.retried += 1
            backoff_s = config.webhook_retry_backoff_ms / 1000.0 * 2 ** (delivery.attempts - 1)
            self._schedule(delivery, backoff_s)
        else:
            counts.gave_up += 1

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            # trust_env=False: no proxy from the environment may carry a loopback delivery away.
            self._client = httpx.AsyncClient(
                trust_env=False,
                headers={"user-agent": "pronto-simulator"},
                # At most this many deliveries at once; the others wait their turn.
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=100),
            )
        return self._client


def _scheme_and_host(url: str) -> str:
    with contextlib.suppress(ValueError):
        parts = urlsplit(url)
        if parts.scheme or parts.hostname:
            return f"{parts.scheme}://{parts.hostname or ''}"
    return "(not a URL)"
