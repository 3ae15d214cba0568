"""The Pronto simulator, served as a real process and driven over HTTP with httpx.

One simulator process serves the module; each test resets it and sets the config it
needs through the control endpoints, so every test starts from zero counters. Pronto's
rules are its current page's
(https://docs.prontohq.com/api-reference/endpoints/contacts/sync_single_enrich) unless a
test asks for the legacy ones.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import json
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from pronto_sheets_dev.simulator import (
    SimulatedOutcome,
    SimulatorConfig,
    identity_key,
    serve,
    simulated_email,
    simulated_outcome,
    simulated_personal_email,
)
from pronto_sheets_dev.simulator.limits import CreditLedger, FifoSlots
from tests.support.servers import ServedProcess, free_port, serve_process, wait_until

ENRICH = "/v2/contacts/sync_single_enrich"
KEY = "test-key"
HEADERS = {"X-API-KEY": KEY}
NOT_FOUND = "No email or phone found for this profile"
NEEDS_LINKEDIN = "linkedin_url is required when enrichment_type includes phone or personal_email"
NO_CONSENT = (
    "You can't use the personal email enrichment feature without consenting with our terms of use"
)
TYPES_400 = (
    "enrichment_type is required: a list of 1 to 3 distinct values among "
    '"email", "phone" and "personal_email".'
)
LEGACY_TYPES_400 = 'enrichment_type is required: a list of 1 or 2 values among "email" and "phone".'
NO_COUNTERS: dict[str, Any] = {
    "by_type": {"email": 0, "phone": 0, "personal_email": 0},
    "refused_without_linkedin": 0,
    "refused_without_linkedin_by_type": {"phone": 0, "personal_email": 0},
    "consent_refusals": 0,
    "out_of_credits_refusals": 0,
    "calls_after_out_of_credits": 0,
}

# The async lane's stats before anything was sent to it (tests/test_simulator_async.py).
IDLE_ASYNC_LANE: dict[str, Any] = {
    "submitted": 0,
    "submitted_by_contact": {},
    "bulk_jobs": 0,
    "waiting": 0,
    "processing": 0,
    "peak_processing": 0,
    "settled": 0,
    "settled_by_contact": {},
    "charged_by_contact": {},
    "credits_held": 0,
    "polls": {"pending": 0, "finished": 0, "unknown": 0},
    "clock_offset_s": 0.0,
    "webhooks": {
        "results": 0,
        "sent": 0,
        "delivered": 0,
        "lost": 0,
        "duplicated": 0,
        "slowed": 0,
        "retried": 0,
        "gave_up": 0,
        "refused": 0,
        "in_flight": 0,
        "answers": {},
    },
}

# What each test starts from (anything a test changes is put back by the `sim_url` fixture).
BASELINE: dict[str, Any] = {
    "rules": "current",
    "api_key": KEY,
    "rate": 50,
    "max_open": 5,
    "daily_credits": 1000,
    "credits_per_email": 3,
    "credits_per_phone": 30,
    "credits_per_personal_email": 20,
    "personal_email_consent": True,
    "out_of_credits_form": "402",
    "latency_ms": 0,
    "latency_jitter_ms": 0,
    "queue_timeout_s": 60,
    "fault_503": 0,
    "fault_429": 0,
    "fault_drop": 0,
    "fault_truncate": 0,
    "retry_after_format": "seconds",
    "retry_after_s": 1,
    "seed": 7,
    "async_capacity": 50,
    "async_latency_ms": 300.0,
    "async_types_per_request": 1,
    "webhook_lost": 0.0,
    "webhook_duplicated": 0.0,
    "webhook_slow": 0.0,
    "webhook_slow_ms": 5000.0,
    "webhook_reorder_ms": 0.0,
    "webhook_retries": 3,
    "webhook_retry_backoff_ms": 1000.0,
    "webhook_timeout_s": 10.0,
}


def _simulator_command(port: int, *options: str) -> list[str]:
    return [sys.executable, "-m", "pronto_sheets_dev.simulator", "--port", str(port), *options]


@dataclass(frozen=True)
class StartedSimulator:
    process: ServedProcess
    startup_config: dict[str, Any]


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartedSimulator]:
    """One simulator process for the module, and its config as it started."""
    port = free_port()
    # Options come both as flags and as PRONTO_SIM_* variables: test_cli_options_* checks both.
    command = _simulator_command(
        port,
        *("--api-key", KEY, "--latency-ms", "0", "--seed", "7"),
        *("--rules", "legacy", "--no-personal-email-consent"),
    )
    env = {
        "PRONTO_SIM_DAILY_CREDITS": "1234",
        "PRONTO_SIM_RATE": "42",
        "PRONTO_SIM_OUT_OF_CREDITS_FORM": "200",
        "PRONTO_SIM_CREDITS_PER_PERSONAL_EMAIL": "25",
    }
    with serve_process(
        command,
        port=port,
        ready_path="/healthz",
        env=env,
        log_dir=tmp_path_factory.mktemp("simulator"),
        name="simulator",
    ) as process:
        config = httpx.get(f"{process.base_url}/_simulator/config").json()
        yield StartedSimulator(process, config)


@pytest.fixture
def sim_url(started: StartedSimulator) -> str:
    """The base URL of the module's simulator, set to BASELINE with zeroed counters."""
    base_url = started.process.base_url
    answer = httpx.post(f"{base_url}/_simulator/config", json=BASELINE)
    assert answer.status_code == 200, answer.text
    reset(base_url)
    return base_url


def configure(base_url: str, **changes: Any) -> None:
    answer = httpx.post(f"{base_url}/_simulator/config", json=changes)
    assert answer.status_code == 200, answer.text


def reset(base_url: str) -> None:
    httpx.post(f"{base_url}/_simulator/reset").raise_for_status()


def current_config(base_url: str) -> dict[str, Any]:
    return httpx.get(f"{base_url}/_simulator/config").json()  # type: ignore[no-any-return]


def stats(base_url: str) -> dict[str, Any]:
    return httpx.get(f"{base_url}/_simulator/stats").json()  # type: ignore[no-any-return]


def find_contact(wanted: Callable[[SimulatedOutcome], bool], start: int = 0) -> dict[str, str]:
    """The first generated contact (with a LinkedIn URL) whose simulated outcome satisfies `wanted`.

    The domain anchors its identity, so its outcome is the same with or without the URL.
    """
    for i in range(start, start + 10_000):
        contact = {
            "firstname": f"Ada{i}",
            "lastname": "Lovelace",
            "domain": "engines.test",
            "linkedin_url": f"https://www.linkedin.com/in/ada{i}/",
        }
        if wanted(simulated_outcome(**contact)):
            return contact
    raise AssertionError("no generated contact has the wanted outcome")


def without_linkedin(contact: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in contact.items() if k != "linkedin_url"}


def has_email(outcome: SimulatedOutcome) -> bool:
    return outcome.email is not None


def has_phone(outcome: SimulatedOutcome) -> bool:
    return bool(outcome.phones)


def has_personal_email(outcome: SimulatedOutcome) -> bool:
    return outcome.personal_email is not None


def has_nothing(outcome: SimulatedOutcome) -> bool:
    return outcome.email is None and not outcome.phones and outcome.personal_email is None


def body(contact: dict[str, str], *kinds: str, **extra: Any) -> dict[str, Any]:
    return {**contact, "enrichment_type": list(kinds or ("email",)), **extra}


def without_id(answer: dict[str, Any]) -> dict[str, Any]:
    uuid.UUID(answer["enrichment_id"])  # a real UUID, different on every answer
    return {k: v for k, v in answer.items() if k != "enrichment_id"}


# --- what is found: pure functions -------------------------------------------------


def test_identity_key_normalises_names_and_picks_the_best_anchor() -> None:
    """The identity is lower-cased and stripped, anchored on domain, else company, else LinkedIn."""
    assert identity_key("  Ada ", "LOVELACE", " Engines.TEST ", "Analytical", "x") == (
        "ada|lovelace|engines.test"
    )
    assert identity_key("Ada", "Lovelace", None, " Analytical Engines ") == (
        "ada|lovelace|analytical engines"
    )
    assert identity_key("Ada", "Lovelace", "", "", "https://linkedin.com/in/ada") == (
        "ada|lovelace|https://linkedin.com/in/ada"
    )


def test_simulated_email_folds_accents_and_falls_back_on_company_then_example_com() -> None:
    """Emails are ASCII `first.last@domain`, with the company slug or example.com as domain."""
    assert simulated_email("Éloïse", "Dupont-Martin", "ACME.fr") == "eloise.dupont-martin@acme.fr"
    assert simulated_email("Jean Pierre", "O'Brien", None, "Acme, Inc.") == (
        "jeanpierre.obrien@acme-inc.com"
    )
    assert simulated_email("Zoë", "Ängström") == "zoe.angstrom@example.com"
    assert simulated_email("Ada", "Lovelace", "https://www.engines.test/about") == (
        "ada.lovelace@engines.test"
    )


def test_outcomes_find_about_70_percent_of_emails_and_40_percent_of_phones() -> None:
    """Over many contacts the hash finds emails (~70%) and phones (~40%), independently."""
    outcomes = [simulated_outcome(f"First{i}", f"Last{i}", "corp.test") for i in range(2000)]
    emails = sum(o.email is not None for o in outcomes) / len(outcomes)
    phones = sum(bool(o.phones) for o in outcomes) / len(outcomes)
    both = sum(o.email is not None and bool(o.phones) for o in outcomes) / len(outcomes)
    assert 0.66 <= emails <= 0.74
    assert 0.36 <= phones <= 0.44
    assert abs(both - emails * phones) < 0.03
    assert {o.email_status for o in outcomes if o.email} == {"valid", "catch-all"}
    assert {o.phone_shape for o in outcomes if o.phones} == {"object", "string"}
    assert all(
        p.startswith("+336") and len(p) == 12 and p[1:].isdigit()
        for o in outcomes
        for p in o.phones
    )


def test_outcomes_find_about_35_percent_of_personal_emails_independently() -> None:
    """Personal emails are found for ~35% of contacts, independently of the work email."""
    outcomes = [simulated_outcome(f"First{i}", f"Last{i}", "corp.test") for i in range(2000)]
    found = [o for o in outcomes if o.personal_email is not None]
    share = len(found) / len(outcomes)
    emails = sum(o.email is not None for o in outcomes) / len(outcomes)
    both = sum(o.email is not None and o.personal_email is not None for o in outcomes)
    assert 0.31 <= share <= 0.39
    assert abs(both / len(outcomes) - emails * share) < 0.03
    assert {o.personal_email_status for o in found} == {"valid", "catch-all"}
    assert all(o.personal_email_status is None for o in outcomes if o.personal_email is None)
    assert {o.personal_email.rsplit("@", 1)[1] for o in found if o.personal_email} == {
        "gmail.example",
        "outlook.example",
        "yahoo.example",
    }
    assert simulated_personal_email("Éloïse", "Dupont", 1234) == "eloise.dupont34@outlook.example"


def test_outcome_is_the_same_on_every_call() -> None:
    """The same contact gives the same outcome; another spelling of its identity too."""
    first = simulated_outcome("Grace", "Hopper", "navy.test")
    assert simulated_outcome("Grace", "Hopper", "navy.test") == first
    assert simulated_outcome(" grace ", "HOPPER", "NAVY.test") == first


def test_credit_ledger_gives_credits_back_on_a_new_utc_day() -> None:
    """Spent credits count against today's cap only; the next UTC day starts again from zero."""
    day = [dt.date(2025, 1, 1)]
    ledger = CreditLedger(10, today=lambda: day[0])
    assert ledger.try_charge(9)
    assert not ledger.try_charge(3)
    assert ledger.left == 1
    day[0] = dt.date(2025, 1, 2)
    assert ledger.left == 10
    assert ledger.try_charge(3)
    assert ledger.spent == 3


async def test_fifo_slots_go_to_waiters_in_arrival_order_and_expire_late_ones() -> None:
    """A freed slot goes to the longest waiter; a waiter past its wait gets none and leaks none."""
    slots = FifoSlots(1)
    assert await slots.acquire(1.0) is not None
    order: list[tuple[str, bool]] = []

    async def wait(name: str, wait_s: float) -> None:
        granted = await slots.acquire(wait_s)
        order.append((name, granted is not None))
        if granted is not None:
            slots.release()

    tasks = [asyncio.create_task(wait(name, 30.0)) for name in ("a", "b")]
    late = asyncio.create_task(wait("late", 0.05))
    tasks.append(asyncio.create_task(wait("c", 30.0)))
    await asyncio.sleep(0)  # one loop turn: each new task runs up to its place in line
    assert slots.waiting == 4
    await late
    assert order == [("late", False)]
    slots.release()
    await asyncio.gather(*tasks)
    assert order == [("late", False), ("a", True), ("b", True), ("c", True)]
    assert (slots.held, slots.waiting) == (0, 0)


# --- the enrichment endpoint -------------------------------------------------------


async def test_missing_or_wrong_api_key_is_refused_with_401(sim_url: str) -> None:
    """Without the right X-API-KEY the answer is 401 "Invalid API key" and nothing is served."""
    contact = find_contact(has_email)
    async with httpx.AsyncClient(base_url=sim_url) as client:
        missing = await client.post(ENRICH, json=body(contact))
        wrong = await client.post(ENRICH, json=body(contact), headers={"X-API-KEY": "nope"})
    assert (missing.status_code, missing.json()) == (401, {"message": "Invalid API key"})
    assert (wrong.status_code, wrong.json()) == (401, {"message": "Invalid API key"})
    seen = stats(sim_url)
    assert (seen["calls"], seen["served"], seen["credits_spent"]) == (2, 0, 0)


async def test_email_answer_has_the_documented_shape_and_echoes_custom(sim_url: str) -> None:
    """An email-only success has exactly the seed page's fields, the email, and `custom`."""
    contact = find_contact(has_email)
    expected = simulated_outcome(**contact)
    custom = {"crm_id": "12345", "row": 47}
    async with httpx.AsyncClient(base_url=sim_url) as client:
        answer = await client.post(
            ENRICH,
            json=body(
                contact, "email", linkedin_url="https://www.linkedin.com/in/ada/", custom=custom
            ),
            headers=HEADERS,
        )
    assert answer.status_code == 200
    assert without_id(answer.json()) == {
        "first_name": contact["firstname"],
        "last_name": "Lovelace",
        "linkedin_profile_url": "https://www.linkedin.com/in/ada/",
        "status": "success",
        "email": f"{contact['firstname'].lower()}.lovelace@engines.test",
        "email_status": expected.email_status,
        "custom": custom,
    }


@pytest.mark.parametrize("shape", ["object", "string"])
async def test_phone_answer_writes_phones_as_objects_or_strings(sim_url: str, shape: str) -> None:
    """A phone-only success lists the phone as `{number, type}` or as a string, per contact."""
    contact = find_contact(lambda o: has_phone(o) and o.phone_shape == shape)
    number = simulated_outcome(**contact).phones[0]
    async with httpx.AsyncClient(base_url=sim_url) as client:
        answer = await client.post(ENRICH, json=body(contact, "phone"), headers=HEADERS)
    written = {"number": number, "type": "mobile"} if shape == "object" else number
    assert answer.status_code == 200
    assert without_id(answer.json()) == {
        "first_name": contact["firstname"],
        "last_name": "Lovelace",
        "linkedin_profile_url": contact["linkedin_url"],
        "status": "success",
        "phones": [written],
        "phone_status": "valid",
    }


async def test_email_and_phone_asked_with_only_the_email_found_is_a_success(sim_url: str) -> None:
    """Asking both when only the email exists succeeds with `phones: []` and `not_found`."""
    contact = find_contact(lambda o: has_email(o) and not has_phone(o))
    async with httpx.AsyncClient(base_url=sim_url) as client:
        answer = (
            await client.post(ENRICH, json=body(contact, "email", "phone"), headers=HEADERS)
        ).json()
    assert answer["status"] == "success"
    assert answer["email"] == simulated_outcome(**contact).email
    assert (answer["phones"], answer["phone_status"]) == ([], "not_found")
    assert stats(sim_url)["credits_spent"] == 3


async def test_email_and_phone_found_costs_both_prices(sim_url: str) -> None:
    """A contact with both found costs credits_per_email + credits_per_phone (3 + 30)."""
    contact = find_contact(lambda o: has_email(o) and has_phone(o))
    async with httpx.AsyncClient(base_url=sim_url) as client:
        answer = (
            await client.post(ENRICH, json=body(contact, "email", "phone"), headers=HEADERS)
        ).json()
    assert (answer["status"], answer["email_status"], answer["phone_status"]) == (
        "success",
        simulated_outcome(**contact).email_status,
        "valid",
    )
    assert stats(sim_url)["credits_spent"] == 33


async def test_nothing_found_answers_200_error_and_costs_nothing(sim_url: str) -> None:
    """When nothing asked is found the answer is the seed page's 200 "error" body, for free."""
    nothing = find_contact(has_nothing)
    phone_only = find_contact(lambda o: has_phone(o) and not has_email(o))
    async with httpx.AsyncClient(base_url=sim_url) as client:
        answers = [
            await client.post(ENRICH, json=body(nothing, "email", "phone"), headers=HEADERS),
            # The phone exists, but only the email was asked: still nothing found.
            await client.post(ENRICH, json=body(phone_only, "email"), headers=HEADERS),
        ]
    for answer, contact in zip(answers, (nothing, phone_only), strict=True):
        assert answer.status_code == 200
        assert without_id(answer.json()) == {
            "first_name": contact["firstname"],
            "last_name": "Lovelace",
            "linkedin_profile_url": contact["linkedin_url"],
            "status": "error",
            "message": NOT_FOUND,
            "email": None,
            "email_status": "N/A",
            "phones": [],
            "phone_status": "not_found",
        }
    seen = stats(sim_url)
    assert (seen["served"], seen["credits_spent"]) == (2, 0)


async def test_answers_agree_with_simulated_outcome_and_repeat_exactly(sim_url: str) -> None:
    """The server's answer for 40 contacts is what `simulated_outcome` says, twice in a row."""
    configure(sim_url, rate=1000, daily_credits=100_000)
    contacts = [
        {
            "firstname": f"Émile{i}",
            "lastname": "Zola",
            "company_name": f"Éditions {i}",
            "linkedin_url": f"https://www.linkedin.com/in/emile-zola-{i}/",
        }
        for i in range(40)
    ]
    async with httpx.AsyncClient(base_url=sim_url) as client:
        rounds = [
            [
                (await client.post(ENRICH, json=body(c, "email", "phone"), headers=HEADERS)).json()
                for c in contacts
            ]
            for _ in range(2)
        ]
    assert [without_id(a) for a in rounds[0]] == [without_id(a) for a in rounds[1]]
    for contact, answer in zip(contacts, rounds[0], strict=True):
        outcome = simulated_outcome(**contact)
        if outcome.email is None and not outcome.phones:
            assert answer["status"] == "error"
            continue
        assert answer["email"] == outcome.email
        numbers = [p["number"] if isinstance(p, dict) else p for p in answer["phones"]]
        assert numbers == list(outcome.phones)
    found = [a for a in rounds[0] if a["email"]]
    assert found and all(a["email"].endswith(".com") and a["email"].isascii() for a in found)
    assert stats(sim_url)["by_contact"][identity_key("Émile0", "Zola", None, "Éditions 0")] == 2
    assert stats(sim_url)["by_type"] == {"email": 80, "phone": 80, "personal_email": 0}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"firstname": "Ada", "enrichment_type": ["email"]}, "lastname is required."),
        ({"lastname": "Lovelace", "enrichment_type": ["email"]}, "firstname is required."),
        (
            {"firstname": " ", "lastname": "", "enrichment_type": ["email"]},
            "firstname and lastname are required.",
        ),
        (
            {"firstname": "Ada", "lastname": "Lovelace"},
            TYPES_400,
        ),
        (
            {"firstname": "Ada", "lastname": "Lovelace", "enrichment_type": []},
            TYPES_400,
        ),
        (
            {"firstname": "Ada", "lastname": "Lovelace", "enrichment_type": ["email", "fax"]},
            TYPES_400,
        ),
        (
            {
                "firstname": "Ada",
                "lastname": "Lovelace",
                "enrichment_type": ["email", "phone", "email"],
            },
            TYPES_400,
        ),
        (
            {
                "firstname": "Ada",
                "lastname": "Lovelace",
                "enrichment_type": ["email", "phone", "personal_email", "email"],
            },
            TYPES_400,
        ),
        (
            {"firstname": "Ada", "lastname": "Lovelace", "enrichment_type": "email"},
            TYPES_400,
        ),
        (
            {"firstname": "Ada", "lastname": "Lovelace", "enrichment_type": [["email"]]},
            TYPES_400,
        ),
        (
            {"firstname": "Ada", "lastname": "Lovelace", "enrichment_type": ["email"], "custom": 3},
            "custom must be an object.",
        ),
        (["not", "an", "object"], "The request body must be a JSON object."),
    ],
)
async def test_malformed_requests_get_400_with_a_message(
    sim_url: str, payload: Any, message: str
) -> None:
    """A body Pronto's schema refuses gets 400 and a message naming what is wrong, for free."""
    async with httpx.AsyncClient(base_url=sim_url) as client:
        answer = await client.post(ENRICH, json=payload, headers=HEADERS)
    assert (answer.status_code, answer.json()) == (400, {"message": message})
    seen = stats(sim_url)
    assert (seen["served"], seen["credits_spent"]) == (0, 0)
    assert seen["by_type"] == NO_COUNTERS["by_type"]


# --- Pronto's current rules: LinkedIn, consent, personal email ---------------------


@pytest.mark.parametrize(
    ("kinds", "linkedin"),
    [
        (("phone",), None),
        (("personal_email",), None),
        (("email", "phone"), None),
        (("email", "phone", "personal_email"), ""),
        (("phone",), "   "),
    ],
)
async def test_phone_or_personal_email_without_linkedin_is_refused_with_422(
    sim_url: str, kinds: tuple[str, ...], linkedin: str | None
) -> None:
    """Asking phone or personal email without a LinkedIn URL gets 422, is counted, costs nothing."""
    contact = find_contact(lambda o: has_email(o) and has_phone(o) and has_personal_email(o))
    payload = body(without_linkedin(contact), *kinds)
    if linkedin is not None:
        payload["linkedin_url"] = linkedin
    async with httpx.AsyncClient(base_url=sim_url) as client:
        refused = await client.post(ENRICH, json=payload, headers=HEADERS)
        # The same contact for email alone needs no LinkedIn URL.
        email_only = await client.post(
            ENRICH, json=body(without_linkedin(contact), "email"), headers=HEADERS
        )
    assert (refused.status_code, refused.json()) == (422, {"message": NEEDS_LINKEDIN})
    assert (email_only.status_code, email_only.json()["status"]) == (200, "success")
    seen = stats(sim_url)
    assert seen["refused_without_linkedin"] == 1
    assert seen["refused_without_linkedin_by_type"] == {
        "phone": int("phone" in kinds),
        "personal_email": int("personal_email" in kinds),
    }
    assert seen["by_type"] == {"email": 1, "phone": 0, "personal_email": 0}
    assert (seen["calls"], seen["served"], seen["credits_spent"]) == (2, 1, 3)


async def test_phone_with_a_linkedin_url_is_accepted_and_counted_by_type(sim_url: str) -> None:
    """With a LinkedIn URL every combination of types is served; `by_type` counts each type."""
    contact = find_contact(lambda o: has_email(o) and has_phone(o) and has_personal_email(o))
    combinations = [("phone",), ("personal_email",), ("email", "phone", "personal_email")]
    async with httpx.AsyncClient(base_url=sim_url) as client:
        answers = [
            await client.post(ENRICH, json=body(contact, *kinds), headers=HEADERS)
            for kinds in combinations
        ]
    assert [(a.status_code, a.json()["status"]) for a in answers] == [(200, "success")] * 3
    seen = stats(sim_url)
    assert seen["by_type"] == {"email": 1, "phone": 2, "personal_email": 2}
    assert seen["refused_without_linkedin"] == 0
    assert seen["credits_spent"] == 30 + 20 + (3 + 30 + 20)


async def test_personal_email_without_consent_gets_pronto_s_422_and_costs_nothing(
    sim_url: str,
) -> None:
    """With consent off, any request with personal_email gets Pronto's 422; other types still go."""
    configure(sim_url, personal_email_consent=False)
    contact = find_contact(lambda o: has_email(o) and has_personal_email(o))
    async with httpx.AsyncClient(base_url=sim_url) as client:
        alone = await client.post(ENRICH, json=body(contact, "personal_email"), headers=HEADERS)
        mixed = await client.post(
            ENRICH, json=body(contact, "email", "personal_email"), headers=HEADERS
        )
        email = await client.post(ENRICH, json=body(contact, "email"), headers=HEADERS)
        configure(sim_url, personal_email_consent=True)
        consented = await client.post(ENRICH, json=body(contact, "personal_email"), headers=HEADERS)
    assert (alone.status_code, alone.json()) == (422, {"message": NO_CONSENT})
    assert (mixed.status_code, mixed.json()) == (422, {"message": NO_CONSENT})
    assert (email.status_code, email.json()["email"]) == (200, simulated_outcome(**contact).email)
    assert consented.json()["personal_email"] == simulated_outcome(**contact).personal_email
    seen = stats(sim_url)
    assert seen["consent_refusals"] == 2
    assert seen["by_type"] == {"email": 1, "phone": 0, "personal_email": 1}
    assert seen["credits_spent"] == 3 + 20


async def test_personal_email_answer_has_its_fields_and_its_price(sim_url: str) -> None:
    """Email and personal email, only the personal one found: success, email null, 20 credits."""
    contact = find_contact(lambda o: has_personal_email(o) and not has_email(o))
    expected = simulated_outcome(**contact)
    async with httpx.AsyncClient(base_url=sim_url) as client:
        answer = await client.post(
            ENRICH,
            json=body(contact, "email", "personal_email", custom={"crm_id": "9"}),
            headers=HEADERS,
        )
    assert answer.status_code == 200
    assert without_id(answer.json()) == {
        "first_name": contact["firstname"],
        "last_name": "Lovelace",
        "linkedin_profile_url": contact["linkedin_url"],
        "status": "success",
        "email": None,
        "email_status": "N/A",
        "personal_email": expected.personal_email,
        "personal_email_status": expected.personal_email_status,
        "custom": {"crm_id": "9"},
    }
    assert expected.personal_email and expected.personal_email.startswith(
        f"{contact['firstname'].lower()}.lovelace"
    )
    assert stats(sim_url)["credits_spent"] == 20


async def test_all_three_types_asked_and_only_the_phone_found(sim_url: str) -> None:
    """Asking all three types when only a phone exists: success, both emails null with "N/A"."""
    contact = find_contact(
        lambda o: has_phone(o) and not has_email(o) and not has_personal_email(o)
    )
    async with httpx.AsyncClient(base_url=sim_url) as client:
        answer = (
            await client.post(
                ENRICH, json=body(contact, "email", "phone", "personal_email"), headers=HEADERS
            )
        ).json()
    number = simulated_outcome(**contact).phones[0]
    numbers = [p["number"] if isinstance(p, dict) else p for p in answer["phones"]]
    assert (answer["status"], numbers, answer["phone_status"]) == ("success", [number], "valid")
    assert (answer["email"], answer["email_status"]) == (None, "N/A")
    assert (answer["personal_email"], answer["personal_email_status"]) == (None, "N/A")
    assert stats(sim_url)["credits_spent"] == 30


async def test_nothing_found_for_personal_email_answers_the_error_body_with_its_fields(
    sim_url: str,
) -> None:
    """Nothing found with personal_email asked: the 200 "error" body gains null personal fields."""
    contact = find_contact(has_nothing)
    async with httpx.AsyncClient(base_url=sim_url) as client:
        answer = await client.post(
            ENRICH, json=body(contact, "email", "phone", "personal_email"), headers=HEADERS
        )
    assert without_id(answer.json()) == {
        "first_name": contact["firstname"],
        "last_name": "Lovelace",
        "linkedin_profile_url": contact["linkedin_url"],
        "status": "error",
        "message": NOT_FOUND,
        "email": None,
        "email_status": "N/A",
        "phones": [],
        "phone_status": "not_found",
        "personal_email": None,
        "personal_email_status": "N/A",
    }
    assert (stats(sim_url)["served"], stats(sim_url)["credits_spent"]) == (1, 0)


async def test_legacy_rules_accept_phone_without_linkedin_and_know_no_personal_email(
    sim_url: str,
) -> None:
    """Under the legacy rules phone needs no LinkedIn URL and personal_email is an unknown type."""
    configure(sim_url, rules="legacy", personal_email_consent=False)
    contact = without_linkedin(find_contact(has_phone))
    async with httpx.AsyncClient(base_url=sim_url) as client:
        phone = await client.post(ENRICH, json=body(contact, "email", "phone"), headers=HEADERS)
        personal = await client.post(ENRICH, json=body(contact, "personal_email"), headers=HEADERS)
    numbers = [p["number"] if isinstance(p, dict) else p for p in phone.json()["phones"]]
    assert (phone.status_code, numbers) == (200, list(simulated_outcome(**contact).phones))
    assert "personal_email" not in phone.json()
    assert (personal.status_code, personal.json()) == (400, {"message": LEGACY_TYPES_400})
    seen = stats(sim_url)
    assert (seen["refused_without_linkedin"], seen["consent_refusals"]) == (0, 0)
    assert seen["by_type"] == {"email": 1, "phone": 1, "personal_email": 0}


# --- limits ------------------------------------------------------------------------


async def _warm_pool(client: httpx.AsyncClient, connections: int) -> None:
    """Open `connections` keep-alive connections so a burst that follows arrives at once."""
    await asyncio.gather(*(client.get("/healthz") for _ in range(connections)))


@pytest.mark.timing
async def test_requests_past_the_rate_get_429_with_retry_after(sim_url: str) -> None:
    """Of 25 simultaneous requests at 10/s, exactly 15 get 429 with Retry-After: 1."""
    # A small burst (rather than 80 at 50/s) so that even a slow CI machine sends it
    # well within one second: the count of 429s must not depend on the machine's speed.
    configure(sim_url, rate=10)
    contacts = [find_contact(has_email, start=i * 50) for i in range(25)]
    async with httpx.AsyncClient(base_url=sim_url) as client:
        await _warm_pool(client, 25)
        answers = await asyncio.gather(
            *(client.post(ENRICH, json=body(c), headers=HEADERS) for c in contacts)
        )
    refused = [a for a in answers if a.status_code == 429]
    assert len(refused) == 15
    assert all(a.headers["retry-after"] == "1" for a in refused)
    assert all(a.json() == {"message": "Too many requests"} for a in refused)
    assert [a.json()["email"] for a in answers if a.status_code == 200] == [
        simulated_outcome(**c).email
        for c, a in zip(contacts, answers, strict=True)
        if a.status_code == 200
    ]
    seen = stats(sim_url)
    assert (seen["calls"], seen["served"], seen["rate_limited"]) == (25, 10, 15)
    assert seen["max_calls_in_any_second"] == 25
    assert seen["credits_spent"] == 10 * 3


@pytest.mark.parametrize("form", ["http-date", "mixed", "none"])
async def test_retry_after_comes_in_the_configured_form(sim_url: str, form: str) -> None:
    """Retry-After is an HTTP date, alternates seconds/date ("mixed"), or is absent ("none")."""
    configure(sim_url, rate=1, retry_after_format=form, retry_after_s=2)
    contact = find_contact(has_email)
    async with httpx.AsyncClient(base_url=sim_url) as client:
        answers = [await client.post(ENRICH, json=body(contact), headers=HEADERS) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 429, 429]
    values = [a.headers.get("retry-after") for a in answers[1:]]
    if form == "none":
        assert values == [None, None]
        return
    if form == "mixed":
        assert values[0] == "2"
        values = values[1:]
    for value in values:
        assert value is not None
        when = email.utils.parsedate_to_datetime(value)
        assert when.tzinfo is not None
        ahead = (when - dt.datetime.now(dt.UTC)).total_seconds()
        assert 0 < ahead <= 3  # about retry_after_s from now


@pytest.mark.timing
async def test_requests_past_max_open_wait_in_a_queue_and_all_succeed(sim_url: str) -> None:
    """15 simultaneous requests with 5 slots: all answer 200, never more than 5 served at once."""
    configure(sim_url, latency_ms=200)
    contacts = [find_contact(has_email, start=i * 50) for i in range(15)]
    async with httpx.AsyncClient(base_url=sim_url) as client:
        await _warm_pool(client, 15)
        answers = await asyncio.gather(
            *(client.post(ENRICH, json=body(c), headers=HEADERS) for c in contacts)
        )
    assert [a.status_code for a in answers] == [200] * 15
    assert [a.json()["email"] for a in answers] == [simulated_outcome(**c).email for c in contacts]
    seen = stats(sim_url)
    assert seen["peak_serving"] == 5
    assert seen["peak_open"] > 5  # more than max_open were open at once: some of them waited
    assert (seen["open"], seen["serving"], seen["queued"]) == (0, 0, 0)


async def test_a_request_queued_past_queue_timeout_gets_504_and_is_not_charged(
    sim_url: str,
) -> None:
    """With one slot busy for 800 ms and a 0.2 s queue timeout, the second request gets 504."""
    configure(sim_url, max_open=1, latency_ms=800, queue_timeout_s=0.2)
    first, second = find_contact(has_email), find_contact(has_email, start=100)
    async with httpx.AsyncClient(base_url=sim_url) as client:
        await _warm_pool(client, 2)
        answers = await asyncio.gather(
            *(client.post(ENRICH, json=body(c), headers=HEADERS) for c in (first, second))
        )
    assert sorted(a.status_code for a in answers) == [200, 504]
    timed_out = next(a for a in answers if a.status_code == 504)
    assert timed_out.json() == {
        "message": "Gateway timeout: the request waited too long in the queue"
    }
    seen = stats(sim_url)
    assert (seen["served"], seen["credits_spent"]) == (1, 3)


OUT_OF_CREDITS_ANSWERS: dict[str, tuple[int, dict[str, Any]]] = {
    "402": (402, {"message": "Insufficient credits: the daily credit limit is reached"}),
    "422": (422, {"message": "Insufficient credits: the daily credit limit is reached"}),
    # The 200 form looks like "not found" but for its message.
    "200": (
        200,
        {
            "status": "error",
            "message": "Insufficient credits to perform this enrichment",
            "email": None,
            "email_status": "N/A",
            "phones": [],
            "phone_status": "not_found",
        },
    ),
}


@pytest.mark.parametrize("form", ["402", "422", "200"])
async def test_credits_run_out_in_each_of_pronto_s_three_forms(sim_url: str, form: str) -> None:
    """With 5 credits and emails at 3, a second found email is refused in the configured form."""
    configure(sim_url, daily_credits=5, out_of_credits_form=form)
    first, second = find_contact(has_email), find_contact(has_email, start=100)
    async with httpx.AsyncClient(base_url=sim_url) as client:
        paid = await client.post(ENRICH, json=body(first), headers=HEADERS)
        refused = await client.post(ENRICH, json=body(second), headers=HEADERS)
    assert paid.json()["email"] == simulated_outcome(**first).email
    status, expected = OUT_OF_CREDITS_ANSWERS[form]
    answer = refused.json()
    if form == "200":
        assert answer.pop("first_name") == second["firstname"]
        assert (answer.pop("last_name"), answer.pop("linkedin_profile_url")) == (
            "Lovelace",
            second["linkedin_url"],
        )
        uuid.UUID(answer.pop("enrichment_id"))
    assert (refused.status_code, answer) == (status, expected)
    seen = stats(sim_url)
    assert (seen["credits_spent"], seen["credits_left"], seen["served"]) == (3, 2, 1)
    assert (seen["out_of_credits_refusals"], seen["calls_after_out_of_credits"]) == (1, 0)
    assert set(seen["by_contact"]) == {identity_key(first["firstname"], "Lovelace", "engines.test")}


async def test_out_of_credits_200_form_echoes_custom_and_personal_email_fields(
    sim_url: str,
) -> None:
    """The 200 form of out of credits answers every type asked as not found and echoes custom."""
    configure(sim_url, daily_credits=0, out_of_credits_form="200")
    contact = find_contact(lambda o: has_email(o) and has_personal_email(o))
    async with httpx.AsyncClient(base_url=sim_url) as client:
        answer = await client.post(
            ENRICH,
            json=body(contact, "email", "personal_email", custom={"row": 12}),
            headers=HEADERS,
        )
    assert answer.status_code == 200
    assert without_id(answer.json()) == {
        "first_name": contact["firstname"],
        "last_name": "Lovelace",
        "linkedin_profile_url": contact["linkedin_url"],
        **OUT_OF_CREDITS_ANSWERS["200"][1],
        "personal_email": None,
        "personal_email_status": "N/A",
        "custom": {"row": 12},
    }
    assert (stats(sim_url)["out_of_credits_refusals"], stats(sim_url)["served"]) == (1, 0)


async def test_not_found_stays_free_until_nothing_is_left_at_all(sim_url: str) -> None:
    """A not-found answer is free while any credit is left; with none left it is refused too."""
    configure(sim_url, daily_credits=4)
    first = find_contact(has_email)
    nothing = find_contact(has_nothing)
    async with httpx.AsyncClient(base_url=sim_url) as client:
        paid = await client.post(ENRICH, json=body(first), headers=HEADERS)
        free = await client.post(ENRICH, json=body(nothing, "email", "phone"), headers=HEADERS)
        configure(sim_url, daily_credits=3)  # now nothing is left at all
        refused = await client.post(ENRICH, json=body(nothing, "email", "phone"), headers=HEADERS)
    assert paid.status_code == 200
    assert (free.status_code, free.json()["message"]) == (200, NOT_FOUND)
    assert (refused.status_code, refused.json()) == OUT_OF_CREDITS_ANSWERS["402"]
    seen = stats(sim_url)
    assert (seen["credits_spent"], seen["credits_left"], seen["served"]) == (3, 0, 2)
    assert seen["out_of_credits_refusals"] == 1


async def test_calls_after_the_first_out_of_credits_refusal_are_counted_until_reset(
    sim_url: str,
) -> None:
    """Requests in flight when credits run out do not count; every call received after does."""
    configure(sim_url, daily_credits=3, latency_ms=1000)
    contacts = [find_contact(has_email, start=i * 50) for i in range(5)]
    async with httpx.AsyncClient(base_url=sim_url) as client:
        await _warm_pool(client, 5)
        # Five found emails at once: all received before the first answer, one is paid.
        burst = await asyncio.gather(
            *(client.post(ENRICH, json=body(c), headers=HEADERS) for c in contacts)
        )
        assert sorted(a.status_code for a in burst) == [200, 402, 402, 402, 402]
        assert stats(sim_url)["calls_after_out_of_credits"] == 0
        configure(sim_url, latency_ms=0)
        later = [
            await client.post(ENRICH, json=body(contacts[0]), headers=HEADERS),
            await client.post(ENRICH, json=body(contacts[0]), headers={"X-API-KEY": "nope"}),
            await client.post(ENRICH, json={"firstname": "Ada"}, headers=HEADERS),
        ]
    assert [a.status_code for a in later] == [402, 401, 400]
    seen = stats(sim_url)
    assert (seen["out_of_credits_refusals"], seen["calls_after_out_of_credits"]) == (5, 3)
    reset(sim_url)
    assert (
        stats(sim_url)["out_of_credits_refusals"],
        stats(sim_url)["calls_after_out_of_credits"],
    ) == (0, 0)


# --- faults ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "status", "message"),
    [("fault_503", 503, "Service unavailable"), ("fault_429", 429, "Too many requests")],
)
async def test_status_faults_answer_with_their_status_and_charge_nothing(
    sim_url: str, fault: str, status: int, message: str
) -> None:
    """At rate 1.0 every request gets the injected 503 or spurious 429, and no credit is spent."""
    configure(sim_url, **{fault: 1.0})
    contact = find_contact(has_email)
    async with httpx.AsyncClient(base_url=sim_url) as client:
        answers = [await client.post(ENRICH, json=body(contact), headers=HEADERS) for _ in range(3)]
    assert [(a.status_code, a.json()) for a in answers] == [(status, {"message": message})] * 3
    if status == 429:
        assert all(a.headers["retry-after"] == "1" for a in answers)
    seen = stats(sim_url)
    assert seen["faults"] == {"503": 0, "429": 0, "drop": 0, "truncate": 0} | {fault[6:]: 3}
    assert (seen["served"], seen["credits_spent"], seen["rate_limited"]) == (0, 0, 0)


async def test_drop_fault_closes_the_connection_without_an_answer(sim_url: str) -> None:
    """At fault_drop 1.0 the connection closes without a response, and nothing is charged."""
    configure(sim_url, fault_drop=1.0)
    contact = find_contact(has_email)
    async with httpx.AsyncClient(base_url=sim_url) as client:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            await client.post(ENRICH, json=body(contact), headers=HEADERS)
    seen = stats(sim_url)
    assert (seen["faults"]["drop"], seen["served"], seen["credits_spent"]) == (1, 0, 0)


async def test_truncate_fault_sends_full_length_headers_and_half_the_body(sim_url: str) -> None:
    """At fault_truncate 1.0 httpx raises; on the wire the body stops at half its Content-Length."""
    configure(sim_url, fault_truncate=1.0)
    contact = find_contact(has_email)
    async with httpx.AsyncClient(base_url=sim_url) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(ENRICH, json=body(contact), headers=HEADERS)
    payload = json.dumps(body(contact)).encode()
    host, port = sim_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            f"POST {ENRICH} HTTP/1.1\r\nHost: sim_url\r\nX-API-KEY: {KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, partial = received.partition(b"\r\n\r\n")
    length = int(
        next(
            line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
        ).split(b":")[1]
    )
    assert head.startswith(b"HTTP/1.1 200")
    assert len(partial) == length // 2
    with pytest.raises(json.JSONDecodeError):
        json.loads(partial)
    seen = stats(sim_url)
    assert (seen["faults"]["truncate"], seen["served"], seen["credits_spent"]) == (2, 0, 0)


async def test_seeded_faults_repeat_after_reset(sim_url: str) -> None:
    """With fault_503 at 0.5, the same seed gives the same sequence of 503s again after a reset."""
    configure(sim_url, fault_503=0.5)
    contact = find_contact(has_email)

    async def statuses() -> list[int]:
        async with httpx.AsyncClient(base_url=sim_url) as client:
            return [
                (await client.post(ENRICH, json=body(contact), headers=HEADERS)).status_code
                for _ in range(20)
            ]

    first = await statuses()
    reset(sim_url)
    again = await statuses()
    assert first == again
    assert set(first) == {200, 503}
    assert stats(sim_url)["faults"]["503"] == first.count(503)


# --- control endpoints -------------------------------------------------------------


async def test_keep_alive_serves_many_requests_on_one_connection(sim_url: str) -> None:
    """Ten sequential requests from one httpx client travel over one TCP connection."""
    contact = find_contact(has_email)
    async with httpx.AsyncClient(base_url=sim_url) as client:
        answers = [
            await client.post(ENRICH, json=body(contact), headers=HEADERS) for _ in range(10)
        ]
    assert [a.status_code for a in answers] == [200] * 10
    assert stats(sim_url)["connections"] == 1


async def test_stats_count_what_was_seen_and_reset_zeroes_them(sim_url: str) -> None:
    """Stats count calls, 200s per contact and credits; reset zeroes them and keeps the config."""
    configure(sim_url, rate=3, credits_per_email=1)
    contact = find_contact(has_email)
    async with httpx.AsyncClient(base_url=sim_url) as client:
        statuses = [
            (await client.post(ENRICH, json=body(contact), headers=HEADERS)).status_code
            for _ in range(4)
        ]
    assert statuses == [200, 200, 200, 429]
    seen = stats(sim_url)
    key = identity_key(contact["firstname"], "Lovelace", "engines.test")
    assert seen == {
        "calls": 4,
        "served": 3,
        "connections": 1,
        "by_contact": {key: 3},
        "open": 0,
        "serving": 0,
        "queued": 0,
        "peak_open": 1,
        "peak_serving": 1,
        "rate_limited": 1,
        "faults": {"503": 0, "429": 0, "drop": 0, "truncate": 0},
        "credits_spent": 3,
        "credits_left": 997,
        "max_calls_in_any_second": 4,
        **NO_COUNTERS,
        "by_type": {"email": 3, "phone": 0, "personal_email": 0},
        "requests": 4,
        "max_requests_in_any_second": 4,
        "charged_by_contact": {key: 3},
        "async": IDLE_ASYNC_LANE,
    }
    reset(sim_url)
    after = stats(sim_url)
    assert (after["calls"], after["served"], after["by_contact"], after["credits_spent"]) == (
        0,
        0,
        {},
        0,
    )
    assert (after["credits_left"], after["peak_open"], after["max_calls_in_any_second"]) == (
        1000,
        0,
        0,
    )
    config = current_config(sim_url)
    assert (config["rate"], config["credits_per_email"]) == (3, 1)


def test_config_update_is_partial_and_validated(sim_url: str) -> None:
    """POST /_simulator/config changes only the given fields; unknown or bad ones get 400."""
    changed = httpx.post(f"{sim_url}/_simulator/config", json={"latency_ms": 25, "max_open": 2})
    assert changed.status_code == 200
    assert httpx.get(f"{sim_url}/_simulator/config").json() == {
        **BASELINE,
        "latency_ms": 25,
        "max_open": 2,
    }
    unknown = httpx.post(f"{sim_url}/_simulator/config", json={"latency": 5, "rate": 3})
    assert unknown.status_code == 400
    assert unknown.json()["message"].startswith("Unknown config field(s): latency.")
    for bad, message in [
        ({"rate": "fast"}, "rate must be a whole number, not 'fast'."),
        ({"max_open": 0}, "max_open must be at least 1, not 0."),
        ({"fault_drop": 1.5}, "fault_drop must be a probability between 0 and 1, not 1.5."),
        (
            {"fault_503": 0.6, "fault_drop": 0.6},
            "The fault rates (fault_*) must add up to at most 1.",
        ),
        (
            {"retry_after_format": "soon"},
            "retry_after_format must be one of seconds, http-date, mixed, none, not 'soon'.",
        ),
        ({"rules": "future"}, "rules must be one of current, legacy, not 'future'."),
        ({"personal_email_consent": 1}, "personal_email_consent must be true or false, not 1."),
        (
            {"out_of_credits_form": "500"},
            "out_of_credits_form must be one of 402, 422, 200, not '500'.",
        ),
        ({"out_of_credits_form": 402}, "out_of_credits_form must be a string, not 402."),
        (
            {"credits_per_personal_email": -1},
            "credits_per_personal_email must be at least 0, not -1.",
        ),
    ]:
        answer = httpx.post(f"{sim_url}/_simulator/config", json=bad)
        assert (answer.status_code, answer.json()) == (400, {"message": message})
    # Refused updates changed nothing.
    assert httpx.get(f"{sim_url}/_simulator/config").json()["rate"] == 50


def test_health_unknown_paths_and_wrong_methods(sim_url: str) -> None:
    """/healthz answers ok; unknown paths get 404 and a wrong method 405, with a message."""
    assert httpx.get(f"{sim_url}/healthz").json() == {"ok": True}
    missing = httpx.get(f"{sim_url}/v2/nothing")
    assert (missing.status_code, missing.json()) == (404, {"message": "Not found: /v2/nothing"})
    wrong = httpx.get(f"{sim_url}{ENRICH}")
    assert (wrong.status_code, wrong.json()) == (405, {"message": "Method not allowed; use POST."})


def test_cli_options_and_environment_variables_set_the_config(started: StartedSimulator) -> None:
    """Flags (--api-key, --seed, --rules, --no-personal-email-consent) and PRONTO_SIM_*
    variables (credits, rate, out-of-credits form, personal email price) reach the config."""
    startup_config = started.startup_config
    assert (startup_config["api_key"], startup_config["seed"], startup_config["latency_ms"]) == (
        KEY,
        7,
        0,
    )
    assert (startup_config["daily_credits"], startup_config["rate"]) == (1234, 42)
    assert (startup_config["rules"], startup_config["personal_email_consent"]) == ("legacy", False)
    assert startup_config["out_of_credits_form"] == "200"
    assert startup_config["credits_per_personal_email"] == 25
    assert startup_config["max_open"] == 5


def test_defaults_follow_pronto_s_current_rules() -> None:
    """Unconfigured, the simulator follows the current rules, with consent and 402s."""
    config = SimulatorConfig()
    assert (config.rules, config.personal_email_consent, config.out_of_credits_form) == (
        "current",
        True,
        "402",
    )
    assert (config.credits_per_email, config.credits_per_phone) == (3, 30)
    assert config.credits_per_personal_email == 20


def test_process_announces_itself_and_exits_cleanly_on_sigterm(tmp_path: Path) -> None:
    """The command prints where it listens and with which key, and stops with exit code 0."""
    port = free_port()
    with serve_process(
        _simulator_command(port, "--api-key", "demo-key"),
        port=port,
        ready_path="/healthz",
        log_dir=tmp_path,
        name="simulator",
    ) as process:
        assert process.log().splitlines()[0] == (
            f"Pronto simulator listening on http://127.0.0.1:{port} (key: demo-key)"
        )
    assert process.process.returncode == 0
    assert "Traceback" not in process.log()


def test_bad_option_is_refused_with_a_message(tmp_path: Path) -> None:
    """An impossible option value stops the command with a message naming the option."""
    result = subprocess.run(
        [*_simulator_command(free_port(), "--fault-503", "0.7", "--fault-drop", "0.7")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "The fault rates (fault_*) must add up to at most 1." in result.stderr


def test_ctrl_c_stops_the_process_cleanly(tmp_path: Path) -> None:
    """SIGINT (Ctrl-C) ends the simulator with exit code 0 and no traceback."""
    port = free_port()
    log_path = tmp_path / "simulator-sigint.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            _simulator_command(port), stdout=log_file, stderr=subprocess.STDOUT
        )
        try:
            wait_until(lambda: _answers_health(port), timeout=30, what="the simulator")
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=10) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert "Traceback" not in log_path.read_text()


def _answers_health(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


async def test_serve_runs_in_process_until_cancelled() -> None:
    """`serve` answers once `ready` is set and stops listening when its task is cancelled."""
    port = free_port()
    ready = asyncio.Event()
    task = asyncio.create_task(serve(SimulatorConfig(latency_ms=0), "127.0.0.1", port, ready=ready))
    await asyncio.wait_for(ready.wait(), timeout=10)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        contact = find_contact(has_email)
        answer = await client.post(ENRICH, json=body(contact), headers={"X-API-KEY": "sim-key"})
        assert answer.json()["email"] == simulated_outcome(**contact).email
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(httpx.ConnectError):
            await client.get("/healthz")
