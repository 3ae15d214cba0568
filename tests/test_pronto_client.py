"""The Pronto client against the simulator: tolerant parsing, retries, and what it never retries."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from pronto_sheets.enrich.budget import CreditBudget
from pronto_sheets.enrich.contacts import Contact, EnrichmentTypes
from pronto_sheets.enrich.gate import Gate, Priority, Ticket
from pronto_sheets.enrich.pronto_client import (
    ProntoClient,
    ProntoKeyRejected,
    ProntoOutOfCredits,
    ProntoRejectedRow,
    ProntoUnavailable,
    parse_answer,
    retry_wait,
)
from pronto_sheets.enrich.results import Status
from pronto_sheets.retry_after import parse_retry_after
from tests.support.people import expected, people
from tests.support.stack import Simulator

EMAIL = EnrichmentTypes.parse(["email"])
BOTH = EnrichmentTypes.parse(["email", "phone"])


def _cost(email: bool, phone: bool) -> int:
    return (3 if email else 0) + (30 if phone else 0)


def _client(sim: Simulator, *, key: str = "sim-key", attempts: int = 5) -> ProntoClient:
    budget = CreditBudget(daily_budget=10**9, credits_per_email=3, credits_per_phone=30)
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
    answer = parse_answer(body, BOTH, cost=_cost)
    assert answer.result.status is Status.SUCCESS
    assert answer.result.email == "ada@acme.io"
    assert answer.result.email_status == "deliverable"
    assert [p.number for p in answer.result.phones] == ["+33612345678", "+33700000000"]
    assert answer.credits == 33


def test_not_found_is_free_and_unknown_shapes_write_nothing() -> None:
    """Pronto's "error" status is `not_found` at no cost; an odd answer is refused, not guessed."""
    not_found = parse_answer(
        {"status": "error", "message": "No email or phone found for this profile", "email": None},
        EMAIL,
        cost=_cost,
    )
    assert not_found.result.status is Status.NOT_FOUND
    assert not_found.credits == 0
    with pytest.raises(ProntoRejectedRow, match="nothing was written"):
        parse_answer({"status": "maybe", "email": "x@y.z"}, EMAIL, cost=_cost)
    with pytest.raises(ProntoRejectedRow):
        parse_answer(["not", "an", "object"], EMAIL, cost=_cost)


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
    assert answer.result.email == expected(people(2, f"retry-after-{form}")[1]).email
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


async def test_out_of_credits_is_not_retried(sim: Simulator) -> None:
    """Pronto's 402 raises `ProntoOutOfCredits` after one call."""
    sim.reset(daily_credits=0)
    client = _client(sim)
    found = next(p for p in people(30, "credits") if expected(p).email)
    try:
        with pytest.raises(ProntoOutOfCredits):
            await client.enrich(Contact.from_mapping(found), EMAIL, Ticket(Priority.BATCH))
    finally:
        await client.aclose()
    assert sim.stats()["calls"] == 1


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
