"""The Pronto client: one contact per call to `POST /v2/contacts/sync_single_enrich`.

Pronto's rules, as its current page states them
(https://docs.prontohq.com/api-reference/endpoints/contacts/sync_single_enrich):
- `enrichment_type` is any combination of "email", "phone" and "personal_email";
- requests including "phone" or "personal_email" must include `linkedin_url`: this client
  refuses to send one that lacks it (the status Pronto answers is undocumented, and a
  refused call may be billed or counted against the rate);
- "personal_email" needs the account's consent, else 422 "You can't use the personal
  email enrichment feature without consenting with our terms of use";
- out of credits comes in three forms, all meaning "stop calling for today": 402; 422
  with a credit message; 200 whose status is "error" and whose message says credits are
  insufficient. Nothing else closes the day (a 4xx that merely mentions a credit card
  does not);
- "not found" is a 200 with "status": "error" and a message.

It retries what may succeed next time and nothing else (with `stamina`: capped jittered
backoff, bounded in attempts and total time): transport errors and timeouts, truncated or
unparsable bodies, 429 and 5xx. A 429 or 503 with Retry-After (seconds or HTTP date) waits
that long, and a 429 pauses the whole gate. Errors are `ProntoError`s (see errors.py),
which the engine turns into type statuses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import stamina

from pronto_sheets.enrich.budget import CreditBudget
from pronto_sheets.enrich.contacts import Contact, EnrichmentTypes
from pronto_sheets.enrich.gate import Gate, Ticket
from pronto_sheets.errors import (
    BudgetExhausted,
    ConsentRequired,
    ProntoKeyRejected,
    ProntoOutOfCredits,
    ProntoRejectedRow,
    ProntoUnavailable,
)
from pronto_sheets.results import Phone, Status, TypeResult
from pronto_sheets.retry_after import parse_retry_after
from pronto_sheets.version import USER_AGENT
from pronto_sheets.vocabulary import vocabulary

ENRICH_PATH = "/v2/contacts/sync_single_enrich"
_MAX_RETRY_AFTER_S = 60.0
# "Insufficient credits", "not enough credits", "credit limit reached", "out of credits"…
_CREDITS = re.compile(r"\bcredits?\b", re.IGNORECASE)
_EXHAUSTED = re.compile(
    r"insufficient|not enough|no (?:more )?credits?|out of|run out|ran out|exhausted|"
    r"reached|exceed|depleted|remaining credits?:? 0\b",
    re.IGNORECASE,
)
_CONSENT = re.compile(r"consent", re.IGNORECASE)
# Where each type's answer lives in Pronto's body.
VALUE_FIELDS = {"email": "email", "personal_email": "personal_email"}
STATUS_FIELDS = {
    "email": "email_status",
    "phone": "phone_status",
    "personal_email": "personal_email_status",
}


class RetryableAnswer(Exception):
    """An answer worth asking again for; carries Retry-After when Pronto sent one."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def retry_wait(value: str | None) -> float | None:
    """Retry-After as seconds to wait, capped: a server asking for an hour gets a minute."""
    seconds = parse_retry_after(value)
    return None if seconds is None else min(_MAX_RETRY_AFTER_S, seconds)


def says_out_of_credits(message: object) -> bool:
    """True when Pronto's message says the account has no credits left."""
    text = message if isinstance(message, str) else ""
    return bool(_CREDITS.search(text) and _EXHAUSTED.search(text))


@dataclass(frozen=True)
class Answer:
    """Pronto's answer for the types asked, and what it cost."""

    types: Mapping[str, TypeResult]
    credits: int


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


def _text(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def parse_answer(body: Any, types: EnrichmentTypes, budget: CreditBudget) -> Answer:
    """Turn a 200 body into one result per type asked. Unknown shapes fail rather than guess
    a value; an "error" whose message says credits are insufficient is out of credits."""
    if not isinstance(body, dict) or body.get("status") not in ("success", "error"):
        raise ProntoRejectedRow(
            "Pronto answered in a form we do not recognise, so nothing was written. "
            "Try again later."
        )
    message = body.get("message") if isinstance(body.get("message"), str) else None
    if body["status"] == "error" and says_out_of_credits(message):
        raise ProntoOutOfCredits(str(message))
    not_found_message = message or str(vocabulary().messages["not_found"])
    results: dict[str, TypeResult] = {}
    for name in types:
        value_status = _text(body, STATUS_FIELDS[name])
        if name == "phone":
            phones = _phones(body.get("phones"))
            found = bool(phones)
            result = TypeResult(Status.SUCCESS, phones=phones, value_status=value_status)
        else:
            value = _text(body, VALUE_FIELDS[name])
            found = value is not None
            result = TypeResult(Status.SUCCESS, value=value, value_status=value_status)
        results[name] = result if found else TypeResult(Status.NOT_FOUND, message=not_found_message)
    found_types = [name for name, result in results.items() if result.status is Status.SUCCESS]
    return Answer(results, budget.cost(found_types))


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
        self._total_s = retry_total_s
        self._http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=10.0),
            limits=httpx.Limits(
                max_connections=gate.max_in_flight * 2,
                max_keepalive_connections=gate.max_in_flight,
            ),
            headers={"User-Agent": USER_AGENT},
        )
        self.retries = 0

    async def aclose(self) -> None:
        await self._http.aclose()

    def _backoff(self, exc: Exception) -> bool | float:
        """stamina's hook: retry only `RetryableAnswer`, waiting Retry-After when given."""
        if not isinstance(exc, RetryableAnswer):
            return False
        self.retries += 1
        return exc.retry_after if exc.retry_after is not None else True

    async def enrich(self, contact: Contact, types: EnrichmentTypes, ticket: Ticket) -> Answer:
        """Ask Pronto about one contact; retries inside, raises `ProntoError` when it cannot."""
        if not self._api_key:
            raise ProntoKeyRejected(
                "The function has no Pronto API key. Set PRONTO_API_KEY where the function runs."
            )
        unaskable = [name for name in types if not contact.can_ask(name)]
        if unaskable:  # the engine never sends these; a refusal here is a bug, not a bill
            raise ProntoRejectedRow(
                " ".join(vocabulary().needs_linkedin_message(name) for name in unaskable)
            )
        body = contact.pronto_body(types)
        last: RetryableAnswer | None = None
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
                    except RetryableAnswer as exc:
                        last = exc
                        raise
        except RetryableAnswer as exc:
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
            reservation = await self._budget.reserve(types)
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
                    raise RetryableAnswer("Pronto took too long to answer") from exc
                except httpx.TransportError as exc:
                    # Dropped connections and truncated bodies land here.
                    raise RetryableAnswer("the connection to Pronto broke") from exc
                try:
                    answer = self._interpret(response, types)
                except ProntoOutOfCredits:
                    # Every form of "out of credits" stops the day's spending at once:
                    # calls already in the gate's queue are refused when their turn comes.
                    await self._budget.close_for_today()
                    raise ProntoOutOfCredits(self._budget.exhausted_message) from None
                spent = answer.credits
                return answer
            finally:
                await self._budget.settle(reservation, spent)

    def _interpret(self, response: httpx.Response, types: EnrichmentTypes) -> Answer:
        status = response.status_code
        try:
            payload: Any = response.json()
        except ValueError:
            payload = None
        message = payload.get("message") if isinstance(payload, dict) else None
        if status == 200:
            if payload is None:
                raise RetryableAnswer("Pronto sent an incomplete answer")
            return parse_answer(payload, types, self._budget)
        if status in (429, 503) or status >= 500:
            retry_after = retry_wait(response.headers.get("Retry-After"))
            if status == 429 and retry_after is not None:
                self._gate.hold_off(retry_after)
            label = "Pronto is rate limiting us" if status == 429 else f"Pronto error {status}"
            raise RetryableAnswer(label, retry_after)
        if status in (401, 403):
            raise ProntoKeyRejected(
                "The Pronto API key was rejected. Ask your admin to check PRONTO_API_KEY "
                "where the function runs."
            )
        if status == 402 or (status == 422 and says_out_of_credits(message)):
            raise ProntoOutOfCredits(str(message or "out of credits"))
        if status == 422 and "personal_email" in types and _CONSENT.search(str(message or "")):
            raise ConsentRequired(str(vocabulary().messages["consent_notice"]))
        said = f": {message}" if isinstance(message, str) else ""
        raise ProntoRejectedRow(
            f"Pronto refused this row ({status}{said}). "
            "Check the names, company and website in this row."
        )
