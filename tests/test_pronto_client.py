"""The Pronto client against the simulator: tolerant parsing, retries, and what it never retries."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import json
import math
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx
import pytest

from pronto_sheets.enrich.budget import CreditBudget
from pronto_sheets.enrich.contacts import Contact, EnrichmentTypes
from pronto_sheets.enrich.gate import Gate, Priority, Ticket
from pronto_sheets.enrich.pronto_client import ProntoClient, parse_answer, retry_wait
from pronto_sheets.errors import (
    ConsentRequired,
    ProntoKeyRejected,
    ProntoOutOfCredits,
    ProntoRejectedRow,
    ProntoUnavailable,
)
from pronto_sheets.results import Status
from pronto_sheets.retry_after import parse_retry_after
from tests.support.people import expected, people
from tests.support.stack import Simulator
from tests.support.wait import wait_until_async

EMAIL = EnrichmentTypes.parse(["email"])
BOTH = EnrichmentTypes.parse(["email", "phone"])


PRICES = {"email": 3, "phone": 30, "personal_email": 20}
ALL = EnrichmentTypes.parse(["email", "phone", "personal_email"])


def _budget() -> CreditBudget:
    return CreditBudget(daily_budget=10**9, credits_per_type=PRICES)


def _client(sim: Simulator, *, key: str = "sim-key", attempts: int = 5) -> ProntoClient:
    budget = _budget()
    return ProntoClient(
        api_key=key,
        base_url=sim.url,
        gate=Gate(50, 5),
        budget=budget,
        timeout_s=10,
        retry_attempts=attempts,
        retry_total_s=30,
    )


def test_phones_as_objects_or_strings_and_any_email_status() -> None:
    """Both phone shapes Pronto has used are read, and any email_status string is kept."""
    body = {
        "status": "success",
        "email": " ada@acme.io ",
        "email_status": "deliverable",
        "phones": [{"number": "+33612345678", "type": "mobile"}, "+33700000000", {"x": 1}],
        "phone_status": "valid",
    }
    answer = parse_answer(body, BOTH, _budget())
    email, phone = answer.types["email"], answer.types["phone"]
    assert (email.status, phone.status) == (Status.SUCCESS, Status.SUCCESS)
    assert email.value == "ada@acme.io"
    assert email.value_status == "deliverable"
    assert [p.number for p in phone.phones] == ["+33612345678", "+33700000000"]
    assert answer.credits == 33


def test_each_type_is_read_on_its_own_and_paid_only_when_found() -> None:
    """A success with an email, no phone and a personal email: two found, one not; the
    personal email's own status is kept; credits count only what was found."""
    body = {
        "status": "success",
        "email": "ada@acme.io",
        "email_status": "valid",
        "phones": [],
        "phone_status": "not_found",
        "personal_email": "ada.l@gmail.example",
        "personal_email_status": "catch-all",
    }
    answer = parse_answer(body, ALL, _budget())
    assert {name: r.status for name, r in answer.types.items()} == {
        "email": Status.SUCCESS,
        "phone": Status.NOT_FOUND,
        "personal_email": Status.SUCCESS,
    }
    assert answer.types["personal_email"].value == "ada.l@gmail.example"
    assert answer.types["personal_email"].value_status == "catch-all"
    assert answer.credits == 3 + 20


@pytest.mark.parametrize(
    "message",
    ["Insufficient credits", "Not enough credits left", "Credit limit reached for today"],
)
def test_an_error_saying_credits_are_insufficient_is_out_of_credits(message: str) -> None:
    """Pronto's third form of "out of credits" (a 200 with status "error") is not a
    not-found: it stops the day, it is not written as "nothing found"."""
    with pytest.raises(ProntoOutOfCredits):
        parse_answer({"status": "error", "message": message}, EMAIL, _budget())


def test_not_found_is_free_and_unknown_shapes_write_nothing() -> None:
    """Pronto's "error" status is `not_found` at no cost; an odd answer is refused, not guessed."""
    not_found = parse_answer(
        {"status": "error", "message": "No email or phone found for this profile", "email": None},
        EMAIL,
        _budget(),
    )
    assert not_found.types["email"].status is Status.NOT_FOUND
    assert not_found.types["email"].message == "No email or phone found for this profile"
    assert not_found.credits == 0
    with pytest.raises(ProntoRejectedRow, match="nothing was written"):
        parse_answer({"status": "maybe", "email": "x@y.z"}, EMAIL, _budget())
    with pytest.raises(ProntoRejectedRow):
        parse_answer(["not", "an", "object"], EMAIL, _budget())


def test_retry_after_in_both_forms() -> None:
    """Retry-After as seconds or as an HTTP date; absent or junk means our own backoff."""
    now = dt.datetime(2026, 11, 26, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Thu, 26 Nov 2026 12:00:02 GMT", now=now) == 2.0
    assert parse_retry_after("Thu, 26 Nov 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert retry_wait("100000") == 60.0
    assert retry_wait(None) is None


@pytest.mark.real_backoff  # measures the retry's own wait
@pytest.mark.parametrize("form", ["seconds", "http-date"])
async def test_429_waits_as_long_as_retry_after_says(sim: Simulator, form: str) -> None:
    """Past Pronto's rate the client waits Retry-After, then gets the answer."""
    sim.reset(rate=1, retry_after_format=form, retry_after_s=2)
    client = _client(sim)
    first = Contact.from_mapping(people(2, f"retry-after-{form}")[0])
    second = Contact.from_mapping(people(2, f"retry-after-{form}")[1])
    try:
        await client.enrich(first, EMAIL, Ticket(Priority.BATCH))
        started = time.monotonic()
        answer = await client.enrich(second, EMAIL, Ticket(Priority.BATCH))
        waited = time.monotonic() - started
    finally:
        await client.aclose()
    assert answer.types["email"].value == expected(people(2, f"retry-after-{form}")[1]).email
    assert sim.stats()["rate_limited"] >= 1
    assert waited >= 0.9  # an HTTP date has one-second resolution
    assert client.retries >= 1


async def test_rejected_key_is_not_retried(sim: Simulator) -> None:
    """401 from Pronto raises at once with a message naming PRONTO_API_KEY."""
    client = _client(sim, key="wrong")
    try:
        with pytest.raises(ProntoKeyRejected, match="PRONTO_API_KEY"):
            await client.enrich(
                Contact.from_mapping(people(1, "key")[0]), EMAIL, Ticket(Priority.BATCH)
            )
    finally:
        await client.aclose()
    assert sim.stats()["calls"] == 1


async def test_other_4xx_is_not_retried(sim: Simulator) -> None:
    """A 400 would fail again: one call, and the row says to check its fields."""
    client = _client(sim)
    no_names = Contact.from_mapping({"domain": "acme.io"})
    try:
        with pytest.raises(ProntoRejectedRow, match="Check the names"):
            await client.enrich(no_names, EMAIL, Ticket(Priority.BATCH))
    finally:
        await client.aclose()
    assert sim.stats()["calls"] == 1


@pytest.mark.parametrize("form", ["402", "422", "200"])
async def test_out_of_credits_in_every_form_closes_the_day(sim: Simulator, form: str) -> None:
    """402, 422 with a credit message, or a 200 "error" saying credits are insufficient:
    one call, `ProntoOutOfCredits`, and the budget refuses every later call at once."""
    sim.reset(daily_credits=0, out_of_credits_form=form)
    client = _client(sim)
    found = next(p for p in people(30, f"credits-{form}") if expected(p).email)
    try:
        with pytest.raises(ProntoOutOfCredits, match="out of credits"):
            await client.enrich(Contact.from_mapping(found), EMAIL, Ticket(Priority.BATCH))
        assert client._budget.remaining == 0  # closed for today: nothing else is sent
    finally:
        await client.aclose()
    assert sim.stats()["calls"] == 1
    assert sim.stats()["out_of_credits_refusals"] == 1


async def test_a_4xx_that_merely_mentions_credit_does_not_close_the_day(sim: Simulator) -> None:
    """A 400 whose message mentions credits is this row's problem, not the account's."""
    sim.reset()
    client = _client(sim)
    try:
        response = httpx.Response(400, json={"message": "credit card field is not allowed"})
        with pytest.raises(ProntoRejectedRow, match="credit card field"):
            client._interpret(response, EMAIL)
        assert client._budget.remaining > 0
    finally:
        await client.aclose()


async def test_personal_email_without_consent_is_an_account_refusal(sim: Simulator) -> None:
    """Pronto's 422 about consent raises `ConsentRequired` naming Pronto's settings, after
    one call, never retried."""
    sim.reset(personal_email_consent=False)
    client = _client(sim)
    contact = Contact.from_mapping(people(1, "consent", linkedin=True)[0])
    try:
        with pytest.raises(ConsentRequired, match="Pronto's account settings"):
            await client.enrich(contact, ALL, Ticket(Priority.BATCH))
    finally:
        await client.aclose()
    assert sim.stats()["consent_refusals"] == 1
    assert sim.stats()["calls"] == 1


async def test_a_phone_without_linkedin_is_never_sent(sim: Simulator) -> None:
    """Pronto refuses phone and personal email without a LinkedIn URL: the client does not
    send such a call at all (the engine never asks it to)."""
    sim.reset()
    client = _client(sim)
    contact = Contact.from_mapping(people(1, "no-linkedin")[0])
    try:
        with pytest.raises(ProntoRejectedRow, match=r"Add a LinkedIn URL to look up a phone\."):
            await client.enrich(contact, BOTH, Ticket(Priority.BATCH))
    finally:
        await client.aclose()
    assert sim.stats()["calls"] == 0


async def test_persistent_503_gives_up_with_a_sentence(sim: Simulator) -> None:
    """When every attempt fails the client stops after its attempts, saying to retry later."""
    sim.reset(fault_503=1.0)
    client = _client(sim, attempts=3)
    try:
        with pytest.raises(ProntoUnavailable, match="run it again later"):
            await client.enrich(
                Contact.from_mapping(people(1, "503")[0]), EMAIL, Ticket(Priority.BATCH)
            )
    finally:
        await client.aclose()
    assert sim.stats()["calls"] == 3


@pytest.mark.parametrize("fault", ["fault_drop", "fault_truncate"])
async def test_broken_connections_are_retried(sim: Simulator, fault: str) -> None:
    """Dropped connections and truncated bodies are retried, never parsed into a value."""
    sim.reset(**{fault: 1.0})
    client = _client(sim, attempts=2)
    try:
        with pytest.raises(ProntoUnavailable, match="connection to Pronto broke"):
            await client.enrich(
                Contact.from_mapping(people(1, fault)[0]), EMAIL, Ticket(Priority.BATCH)
            )
    finally:
        await client.aclose()
    assert sim.stats()["calls"] == 2


class _OnceLimited(BaseHTTPRequestHandler):
    """A stand-in Pronto that answers its first call 429 with Retry-After, every later call
    200 at once: its own limits never force a wait, so any wait is the client's doing."""

    arrivals: ClassVar[list[float]] = []
    retry_after: ClassVar[str] = "1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        first = not self.arrivals
        self.arrivals.append(time.monotonic())
        if first:
            self._send(429, {"message": "Too many requests"}, {"Retry-After": self.retry_after})
        else:
            self._send(200, {"status": "success", "email": "ada@acme.io", "email_status": "valid"})

    def _send(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in {"content-type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def once_limited() -> Iterator[type[_OnceLimited]]:
    _OnceLimited.arrivals = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OnceLimited)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _OnceLimited.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    try:
        yield _OnceLimited
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("form", ["seconds", "http-date"])
async def test_retry_after_is_honoured_by_the_retry_and_by_the_whole_gate(
    once_limited: type[_OnceLimited], form: str
) -> None:
    """After a 429 with Retry-After (1 s, or the HTTP date 2 s ahead), neither the retry nor
    another contact's call reaches Pronto before that time, though Pronto would accept them."""
    _OnceLimited.retry_after = (
        "1"
        if form == "seconds"
        else email.utils.formatdate(math.ceil(time.time()) + 2, usegmt=True)
    )
    gate = Gate(50, 5)
    client = ProntoClient(
        api_key="k",
        base_url=once_limited.url,  # type: ignore[attr-defined]
        gate=gate,
        budget=_budget(),
        timeout_s=10,
        retry_attempts=3,
        retry_total_s=30,
    )
    first = Contact.from_mapping(people(2, f"honour-{form}")[0])
    other = Contact.from_mapping(people(2, f"honour-{form}")[1])
    try:
        retried = asyncio.create_task(client.enrich(first, EMAIL, Ticket(Priority.BATCH)))
        # The 429 has come back: its call gave its slot back, and nothing started since.
        await wait_until_async(
            lambda: gate.started == 1 and gate.in_flight == 0,
            timeout=10,
            what="the first call's 429 to come back with its retry held by the gate",
        )
        meanwhile = await client.enrich(other, EMAIL, Ticket(Priority.INTERACTIVE))
        answer = await retried
    finally:
        await client.aclose()
    arrivals = once_limited.arrivals
    assert answer.types["email"].value == meanwhile.types["email"].value == "ada@acme.io"
    assert len(arrivals) == 3
    assert min(arrivals[1:]) - arrivals[0] >= 0.95  # seconds: 1; HTTP date: at least 1
