"""The Pronto client: one contact per call to `POST /v2/contacts/sync_single_enrich`.

It retries what may succeed next time and nothing else, and it turns whatever Pronto
says into a `RowResult` — or into one of these errors, which the engine maps to rows:

    ProntoError
    ├── ProntoKeyRejected     401/403: every row `failed`, the key needs fixing
    ├── ProntoOutOfCredits    402 or a credit-cap answer: `over_budget`, never retried
    ├── BudgetExhausted       our own daily budget cannot cover the call: not sent at all
    ├── ProntoRejectedRow     another 4xx: this row `failed`, retrying would not help
    └── ProntoUnavailable     retries exhausted (5xx, 429, transport, truncated bodies)

Retried (with `stamina`, capped jittered backoff, bounded in attempts and total time):
transport errors and timeouts, truncated or unparsable bodies, 429 and 5xx. A 429 or
503 with Retry-After (seconds or HTTP date) waits that long, and pauses the whole gate.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import stamina

from pronto_sheets.enrich.budget import CreditBudget
from pronto_sheets.enrich.contacts import Contact, EnrichmentTypes
from pronto_sheets.enrich.gate import Gate, Ticket
from pronto_sheets.enrich.results import Phone, RowResult, Status
from pronto_sheets.retry_after import parse_retry_after

ENRICH_PATH = "/v2/contacts/sync_single_enrich"
_MAX_RETRY_AFTER_S = 60.0
_OUT_OF_CREDIT_WORDS = ("insufficient", "limit", "exceed", "no more", "out of")


class ProntoError(Exception):
    """Pronto could not give an answer for this contact; `message` is for the sheet."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ProntoKeyRejected(ProntoError):
    pass


class ProntoOutOfCredits(ProntoError):
    pass


class ProntoRejectedRow(ProntoError):
    pass


class BudgetExhausted(ProntoError):
    pass


class ProntoUnavailable(ProntoError):
    pass


class _Retryable(Exception):
    """An answer worth asking again for; carries Retry-After when Pronto sent one."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def retry_wait(value: str | None) -> float | None:
    """Retry-After as seconds to wait, capped: a server asking for an hour gets a minute."""
    seconds = parse_retry_after(value)
    return None if seconds is None else min(_MAX_RETRY_AFTER_S, seconds)


@dataclass(frozen=True)
class Answer:
    """A parsed Pronto answer and what it cost."""

    result: RowResult
    credits: int


def _looks_out_of_credits(body: Any) -> bool:
    text = json.dumps(body).lower() if body is not None else ""
    return "credit" in text and any(word in text for word in _OUT_OF_CREDIT_WORDS)


def _phones(raw: Any) -> tuple[Phone, ...]:
    phones: list[Phone] = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, str) and item.strip():
            phones.append(Phone(item.strip()))
        elif isinstance(item, dict) and isinstance(item.get("number"), str | int):
            number = str(item["number"]).strip()
            kind = item.get("type")
            if number:
                phones.append(Phone(number, kind if isinstance(kind, str) else None))
    return tuple(phones)


def parse_answer(body: Any, types: EnrichmentTypes, *, cost: Callable[[bool, bool], int]) -> Answer:
    """Turn a 200 body into a row result. Unknown shapes fail rather than guess a value."""
    if not isinstance(body, dict) or body.get("status") not in ("success", "error"):
        raise ProntoRejectedRow(
            "Pronto answered in a form we do not recognise, so nothing was written. "
            "Try again later."
        )
    email = body.get("email") if types.wants_email else None
    email = email.strip() if isinstance(email, str) and email.strip() else None
    phones = _phones(body.get("phones")) if types.wants_phone else ()
    email_status = body.get("email_status") if email else None
    phone_status = body.get("phone_status") if phones else None
    if body["status"] == "error" or (email is None and not phones):
        if _looks_out_of_credits(body.get("message")):
            raise ProntoOutOfCredits("Pronto says the account is out of credits.")
        message = body.get("message")
        return Answer(
            RowResult(
                Status.NOT_FOUND,
                email_status=None,
                phone_status=None,
                message=message if isinstance(message, str) and message else "Nothing found.",
            ),
            credits=0,
        )
    return Answer(
        RowResult(
            Status.SUCCESS,
            email=email,
            email_status=str(email_status) if email_status is not None else None,
            phones=phones,
            phone_status=str(phone_status) if phone_status is not None else None,
        ),
        credits=cost(email is not None, bool(phones)),
    )


class ProntoClient:
    """Calls Pronto through `gate` within `budget`, one pooled `httpx.AsyncClient` per instance.

    The worst-case cost is reserved only once the gate grants a slot, so rows queued behind
    a long batch are not refused for credits that the calls ahead of them may not spend.
    """

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        gate: Gate,
        budget: CreditBudget,
        timeout_s: float,
        retry_attempts: int,
        retry_total_s: float,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._api_key = api_key
        self._url = base_url.rstrip("/") + ENRICH_PATH
        self._gate = gate
        self._budget = budget
        self._attempts = retry_attempts
        self._cost = lambda email, phone: budget.cost(email_found=email, phone_found=phone)
        self._total_s = retry_total_s
        self._http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=10.0),
            limits=httpx.Limits(
                max_connections=gate.max_in_flight * 2,
                max_keepalive_connections=gate.max_in_flight,
            ),
            headers={"User-Agent": "pronto-sheets/0.1"},
        )
        self.retries = 0

    async def aclose(self) -> None:
        await self._http.aclose()

    def _backoff(self, exc: Exception) -> bool | float:
        """stamina's hook: retry only `_Retryable`, waiting Retry-After when given."""
        if not isinstance(exc, _Retryable):
            return False
        self.retries += 1
        return exc.retry_after if exc.retry_after is not None else True

    async def enrich(self, contact: Contact, types: EnrichmentTypes, ticket: Ticket) -> Answer:
        """Ask Pronto about one contact; retries inside, raises `ProntoError` when it cannot."""
        if not self._api_key:
            raise ProntoKeyRejected(
                "The function has no Pronto API key. Set PRONTO_API_KEY where the function runs."
            )
        body = contact.pronto_body(types)
        last: _Retryable | None = None
        try:
            async for attempt in stamina.retry_context(
                on=self._backoff,
                attempts=self._attempts,
                timeout=self._total_s,
                wait_initial=0.2,
                wait_max=8.0,
                wait_jitter=0.5,
            ):
                with attempt:
                    try:
                        return await self._call_once(body, types, ticket)
                    except _Retryable as exc:
                        last = exc
                        raise
        except _Retryable as exc:
            last = exc
        reason = last.reason if last else "no answer"
        raise ProntoUnavailable(
            f"Pronto did not answer after several tries ({reason}). Nothing was charged "
            "for this row; run it again later."
        )

    async def _call_once(
        self, body: dict[str, Any], types: EnrichmentTypes, ticket: Ticket
    ) -> Answer:
        if self._budget.remaining < self._budget.worst_case(types):
            raise BudgetExhausted(self._budget.exhausted_message)  # don't queue for nothing
        async with self._gate.slot(ticket) as start:
            reservation = self._budget.reserve(types)
            if reservation is None:
                raise BudgetExhausted(self._budget.exhausted_message)
            spent = 0
            try:

                async def trace(event: str, _info: dict[str, Any]) -> None:
                    # Pronto counts arrivals: record when the bytes left, after any
                    # connection set-up, not when the slot was granted.
                    if event == "http11.send_request_body.complete":
                        start.sending()

                try:
                    response = await self._http.post(
                        self._url,
                        json=body,
                        headers={"X-API-KEY": self._api_key},
                        extensions={"trace": trace},
                    )
                except httpx.TimeoutException as exc:
                    raise _Retryable("Pronto took too long to answer") from exc
                except httpx.TransportError as exc:
                    # Dropped connections and truncated bodies land here.
                    raise _Retryable("the connection to Pronto broke") from exc
                answer = self._interpret(response, types)
                spent = answer.credits
                return answer
            finally:
                self._budget.settle(reservation, spent)

    def _interpret(self, response: httpx.Response, types: EnrichmentTypes) -> Answer:
        status = response.status_code
        try:
            payload: Any = response.json()
        except ValueError:
            payload = None
        if status == 200:
            if payload is None:
                raise _Retryable("Pronto sent an incomplete answer")
            return parse_answer(payload, types, cost=self._cost)
        if status in (429, 503) or status >= 500:
            retry_after = retry_wait(response.headers.get("Retry-After"))
            if status == 429 and retry_after is not None:
                self._gate.hold_off(retry_after)
            label = "Pronto is rate limiting us" if status == 429 else f"Pronto error {status}"
            raise _Retryable(label, retry_after)
        if status in (401, 403):
            raise ProntoKeyRejected(
                "The Pronto API key was rejected. Ask your admin to check PRONTO_API_KEY "
                "where the function runs."
            )
        if status == 402 or _looks_out_of_credits(payload):
            self._budget.close_for_today()
            raise ProntoOutOfCredits(self._budget.exhausted_message)
        detail = payload.get("message") if isinstance(payload, dict) else None
        said = f": {detail}" if isinstance(detail, str) else ""
        raise ProntoRejectedRow(
            f"Pronto refused this row ({status}{said}). "
            "Check the names, company and website in this row."
        )
