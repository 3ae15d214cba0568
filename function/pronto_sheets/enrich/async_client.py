"""Pronto's async endpoints: submit one contact, read its result, parse a webhook's body.

- `POST /v2/contacts/single_enrich` (sync's body plus `webhook_url` and `custom`) answers
  at once with an `enrichment_id` and `"status": "pending"`, and POSTs the final result
  to `webhook_url`, echoing `custom`
  (https://docs.prontohq.com/api-reference/endpoints/enrichments/single).
- `GET /v2/contacts/{id}` answers the same record: `status` is `pending` while the
  waterfall runs and `finished` once it has (with or without data); phones come as
  `phone`, a list (https://docs.prontohq.com/api-reference/endpoints/contacts/single_enrich).

Never pay twice: a submission is retried only when Pronto cannot have taken it — a
connection that never opened, 429, 503. Any other failure after the body may have left
(a timeout, a dropped connection, a 5xx, a 2xx without an id) raises
`SubmissionUnconfirmed`: the lane keeps the submission as unconfirmed, and a webhook
carrying its token adopts it; it is not sent again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import stamina

from pronto_sheets.enrich.contacts import Contact, EnrichmentTypes
from pronto_sheets.enrich.gate import Gate, Ticket
from pronto_sheets.enrich.pronto_client import (
    STATUS_FIELDS,
    VALUE_FIELDS,
    RetryableAnswer,
    _phones,
    retry_wait,
    says_out_of_credits,
)
from pronto_sheets.errors import (
    ConsentRequired,
    ProntoKeyRejected,
    ProntoOutOfCredits,
    ProntoRejectedRow,
    ProntoUnavailable,
)
from pronto_sheets.results import Status, TypeResult
from pronto_sheets.vocabulary import vocabulary

SUBMIT_PATH = "/v2/contacts/single_enrich"
CONTACT_PATH = "/v2/contacts/{id}"
# The key of our correlation token inside Pronto's free-form `custom` object.
TOKEN_FIELD = "pronto_sheets_token"  # noqa: S105 - a field name, not a secret
_FINISHED = frozenset({"finished", "success", "completed", "done"})


class SubmissionUnconfirmed(ProntoUnavailable):
    """Pronto may or may not have taken a submission: never send it again blindly."""


@dataclass(frozen=True)
class AsyncResult:
    """One record of the async lane, from a webhook or a poll."""

    enrichment_id: str | None
    finished: bool
    token: str | None  # our correlation token, read back from `custom`
    types: Mapping[str, TypeResult] = field(default_factory=dict)
    found: tuple[str, ...] = ()  # the types Pronto found (what is charged)
    out_of_credits: bool = False


class MalformedResult(ValueError):
    """A body that is not one of Pronto's async records (the webhook answers 400)."""


def token_of(custom: object) -> str | None:
    """Our token inside Pronto's echo of `custom` (an object, or the bare string)."""
    if isinstance(custom, Mapping):
        value = custom.get(TOKEN_FIELD)
        return value if isinstance(value, str) else None
    return custom if isinstance(custom, str) else None


def _text(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def parse_async_result(body: object, types: tuple[str, ...]) -> AsyncResult:
    """Read a webhook's or a poll's body as the answer to `types`; `MalformedResult` when it
    is not a record we can read (never guess a value)."""
    if not isinstance(body, Mapping):
        raise MalformedResult("The body must be a JSON object.")
    raw_id = body.get("enrichment_id")
    enrichment_id = str(raw_id) if isinstance(raw_id, str | int) and str(raw_id) else None
    token = token_of(body.get("custom"))
    status = body.get("status")
    if not isinstance(status, str):
        raise MalformedResult('The body has no "status".')
    status = status.strip().lower()
    message = body.get("message") if isinstance(body.get("message"), str) else None
    if status == "error" and says_out_of_credits(message):
        return AsyncResult(enrichment_id, True, token, out_of_credits=True)
    if status not in _FINISHED and status != "error":
        return AsyncResult(enrichment_id, False, token)
    not_found = message or str(vocabulary().messages["not_found"])
    results: dict[str, TypeResult] = {}
    for name in types:
        value_status = _text(body, STATUS_FIELDS[name])
        if name == "phone":
            phones = _phones(body.get("phone", body.get("phones")))
            result = TypeResult(Status.SUCCESS, phones=phones, value_status=value_status)
            found = bool(phones)
        else:
            value = _text(body, VALUE_FIELDS[name])
            result = TypeResult(Status.SUCCESS, value=value, value_status=value_status)
            found = value is not None
        results[name] = result if found else TypeResult(Status.NOT_FOUND, message=not_found)
    found_types = tuple(n for n, r in results.items() if r.status is Status.SUCCESS)
    return AsyncResult(enrichment_id, True, token, results, found_types)


class AsyncProntoClient:
    """Submits and polls through the instance's `Gate` (the same 50/s and 5 open)."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        gate: Gate,
        timeout_s: float = 30.0,
        retry_attempts: int = 6,
        retry_total_s: float = 60.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._api_key = api_key
        self._base = base_url.rstrip("/")
        self._gate = gate
        self._attempts = retry_attempts
        self._total_s = retry_total_s
        self._http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=10.0),
            limits=httpx.Limits(max_connections=gate.max_in_flight * 2),
            headers={"User-Agent": "pronto-sheets/0.2"},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _retrying(self, call: Any) -> Any:
        last: RetryableAnswer | None = None

        def backoff(exc: Exception) -> bool | float:
            if not isinstance(exc, RetryableAnswer):
                return False
            return exc.retry_after if exc.retry_after is not None else True

        try:
            async for attempt in stamina.retry_context(
                on=backoff,
                attempts=self._attempts,
                timeout=self._total_s,
                wait_initial=0.2,
                wait_max=8.0,
                wait_jitter=0.5,
            ):
                with attempt:
                    try:
                        return await call()
                    except RetryableAnswer as exc:
                        last = exc
                        raise
        except RetryableAnswer as exc:
            last = exc
        reason = last.reason if last else "no answer"
        raise ProntoUnavailable(
            f"Pronto did not take the request after several tries ({reason}). Nothing was "
            "charged for it; run the fill again later."
        )

    async def submit(
        self,
        contact: Contact,
        types: EnrichmentTypes,
        *,
        webhook_url: str,
        token: str,
        ticket: Ticket,
        before_send: Callable[[], Awaitable[None]],
    ) -> str:
        """Send one contact to `single_enrich`; its `enrichment_id`. Raises `ProntoError`s,
        `SubmissionUnconfirmed` when Pronto may have taken it without saying so.

        `before_send` runs once, holding the gate's slot, just before the first attempt
        leaves (the lane writes the submission down there): a crash can then leave
        unconfirmed only the few submissions whose request was really on the wire."""
        if not self._api_key:
            raise ProntoKeyRejected(
                "The function has no Pronto API key. Set PRONTO_API_KEY where the function runs."
            )
        body = contact.pronto_body(types) | {
            "webhook_url": webhook_url,
            "custom": {TOKEN_FIELD: token},
        }

        written = False

        async def once() -> str:
            nonlocal written
            async with self._gate.slot(ticket) as start:
                if not written:
                    await before_send()
                    written = True
                start.sending()
                try:
                    response = await self._http.post(
                        self._base + SUBMIT_PATH, json=body, headers={"X-API-KEY": self._api_key}
                    )
                except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                    raise RetryableAnswer("the connection to Pronto could not be opened") from exc
                except httpx.TransportError as exc:
                    raise SubmissionUnconfirmed(
                        "The connection to Pronto broke after the contact was sent; its "
                        "answer will be taken from Pronto's webhook if it comes."
                    ) from exc
            return self._submitted(response, types)

        result: str = await self._retrying(once)
        return result

    def _submitted(self, response: httpx.Response, types: EnrichmentTypes) -> str:
        status = response.status_code
        try:
            payload: Any = response.json()
        except ValueError:
            payload = None
        message = payload.get("message") if isinstance(payload, dict) else None
        if 200 <= status < 300:
            if isinstance(payload, dict) and payload.get("status") == "error":
                # The third form of "out of credits" is a 200 whose status is "error".
                if says_out_of_credits(message):
                    raise ProntoOutOfCredits(str(message))
                raise ProntoRejectedRow(
                    f"Pronto refused this row ({message or 'no reason given'}). "
                    "Check the names, company and website in this row."
                )
            raw = payload.get("enrichment_id") if isinstance(payload, dict) else None
            if isinstance(raw, str | int) and str(raw):
                return str(raw)
            raise SubmissionUnconfirmed("Pronto took the contact without giving its id.")
        if status in (429, 503):
            retry_after = retry_wait(response.headers.get("Retry-After"))
            if status == 429 and retry_after is not None:
                self._gate.hold_off(retry_after)
            raise RetryableAnswer(f"Pronto answered {status}", retry_after)
        if status in (401, 403):
            raise ProntoKeyRejected(
                "The Pronto API key was rejected. Ask your admin to check PRONTO_API_KEY "
                "where the function runs."
            )
        if status == 402 or (status == 422 and says_out_of_credits(message)):
            raise ProntoOutOfCredits(str(message or "out of credits"))
        if status == 422 and "personal_email" in types and "consent" in str(message).lower():
            raise ConsentRequired(str(vocabulary().messages["consent_notice"]))
        if status >= 500:
            raise SubmissionUnconfirmed(f"Pronto answered {status} to a submission.")
        said = f": {message}" if isinstance(message, str) else ""
        raise ProntoRejectedRow(
            f"Pronto refused this row ({status}{said}). "
            "Check the names, company and website in this row."
        )

    async def fetch(
        self, enrichment_id: str, types: tuple[str, ...], ticket: Ticket
    ) -> AsyncResult:
        """One poll of `GET /v2/contacts/{id}`; a result not `finished` when Pronto is still
        working, unreachable or busy (the poller asks again later)."""
        url = self._base + CONTACT_PATH.format(id=enrichment_id)
        async with self._gate.slot(ticket) as start:
            start.sending()
            try:
                response = await self._http.get(url, headers={"X-API-KEY": self._api_key})
            except httpx.TransportError:
                return AsyncResult(enrichment_id, False, None)
        if response.status_code == 429:
            retry_after = retry_wait(response.headers.get("Retry-After"))
            if retry_after is not None:
                self._gate.hold_off(retry_after)
            return AsyncResult(enrichment_id, False, None)
        if response.status_code in (401, 403):
            raise ProntoKeyRejected(
                "The Pronto API key was rejected. Ask your admin to check PRONTO_API_KEY "
                "where the function runs."
            )
        if response.status_code != 200:
            return AsyncResult(enrichment_id, False, None)
        try:
            return parse_async_result(response.json(), types)
        except (ValueError, MalformedResult):
            return AsyncResult(enrichment_id, False, None)
