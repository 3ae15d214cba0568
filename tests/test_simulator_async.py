"""The Pronto simulator's async lane, served as a real process, with a real webhook receiver.

The simulator runs in its own process on 127.0.0.1; the receiver is a small HTTP server in
this process, also on 127.0.0.1, recording every POST and answering the statuses a test
asks for. Processing and webhook waits run on the async lane's clock, which tests move
forward with `POST /_simulator/clock` instead of waiting. Pronto's pages for the lane:
https://docs.prontohq.com/api-reference/endpoints/enrichments/single (single_enrich),
https://docs.prontohq.com/api-reference/endpoints/enrichments/batch (bulk_enrich),
https://docs.prontohq.com/api-reference/endpoints/contacts/single_enrich (GET /contacts/{id}).
"""

from __future__ import annotations

import json
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from pronto_sheets_dev.simulator import identity_key, simulated_outcome
from tests.support.servers import ServedProcess, free_port, serve_process, wait_until
from tests.test_simulator import (
    BASELINE,
    HEADERS,
    KEY,
    NEEDS_LINKEDIN,
    NO_CONSENT,
    find_contact,
    has_email,
    has_nothing,
    has_personal_email,
    has_phone,
    without_linkedin,
)

SINGLE = "/v2/contacts/single_enrich"
BULK = "/v2/contacts/bulk_enrich"
CONTACTS = "/v2/contacts/"
ONE_TYPE = (
    "The async endpoints take one enrichment type per request: send "
    '["email"], ["phone"] or ["personal_email"], one request per type.'
)
NEEDS_ANCHOR = (
    "domain or company_name is required when enrichment_type is email: "
    "add the company's website or name."
)
NO_CREDITS = "Insufficient credits: the daily credit limit is reached"
NO_CREDITS_200 = "Insufficient credits to perform this enrichment"
BULK_ID_404 = (
    "This is a bulk job's id, not a contact's: each contact's own enrichment_id comes in "
    "its webhook payload; to poll contacts one by one, submit them with single_enrich."
)
# Long enough that nothing settles unless a test moves the lane's clock.
HOUR_MS = 3_600_000.0
WAIT_S = 20.0


# --- a real webhook receiver on 127.0.0.1 ------------------------------------------


@dataclass
class Receiver:
    """Records each POST's path and JSON body; answers `statuses` in turn, then 200."""

    url: str = ""
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hook(self, secret: str = "s3cret") -> str:
        return f"{self.url}/webhooks/pronto/{secret}"

    def payloads(self) -> list[dict[str, Any]]:
        with self.lock:
            return [body for _, body in self.received]

    def clear(self, statuses: list[int] | None = None) -> None:
        with self.lock:
            self.received.clear()
            self.statuses[:] = statuses or []

    def record(self, path: str, body: dict[str, Any]) -> int:
        with self.lock:
            self.received.append((path, body))
            return self.statuses.pop(0) if self.statuses else 200


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            status = receiver.record(self.path, json.loads(self.rfile.read(length)))
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the tests read what was received, not a log

    return Handler


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    found.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()


# --- one simulator process for the module --------------------------------------------


@dataclass(frozen=True)
class Started:
    """The module's simulator process and the config it started with."""

    process: ServedProcess
    startup_config: dict[str, Any]


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Started]:
    port = free_port()
    command = [sys.executable, "-m", "pronto_sheets_dev.simulator", "--port", str(port)]
    command += ["--api-key", KEY, "--seed", "7", "--async-capacity", "7"]
    with serve_process(
        command,
        port=port,
        ready_path="/healthz",
        env={"PRONTO_SIM_WEBHOOK_RETRIES": "4"},
        log_dir=tmp_path_factory.mktemp("simulator-async"),
        name="simulator",
    ) as process:
        yield Started(process, httpx.get(f"{process.base_url}/_simulator/config").json())


@pytest.fixture
def served(started: Started) -> ServedProcess:
    return started.process


@pytest.fixture
def sim(served: ServedProcess, receiver: Receiver) -> Iterator[str]:
    """The simulator at BASELINE with zeroed counters, contacts taking an hour of lane time."""
    base_url = served.base_url
    configure(
        base_url, **{**BASELINE, "async_latency_ms": HOUR_MS, "webhook_retry_backoff_ms": 1000}
    )
    httpx.post(f"{base_url}/_simulator/reset").raise_for_status()
    receiver.clear()
    yield base_url
    httpx.post(f"{base_url}/_simulator/reset").raise_for_status()


def configure(base_url: str, **changes: Any) -> None:
    answer = httpx.post(f"{base_url}/_simulator/config", json=changes)
    assert answer.status_code == 200, answer.text


def stats(base_url: str) -> dict[str, Any]:
    return httpx.get(f"{base_url}/_simulator/stats").json()  # type: ignore[no-any-return]


def lane(base_url: str) -> dict[str, Any]:
    return stats(base_url)["async"]  # type: ignore[no-any-return]


def advance(base_url: str, seconds: float) -> None:
    answer = httpx.post(f"{base_url}/_simulator/clock", json={"advance_s": seconds})
    assert answer.status_code == 200, answer.text


def settle(base_url: str, count: int, seconds: float = HOUR_MS / 1000) -> None:
    """Move the clock past the latency and wait until `count` contacts have settled."""
    advance(base_url, seconds)
    wait_until(lambda: lane(base_url)["settled"] >= count, timeout=WAIT_S, what=f"{count} settled")


def deliveries_done(base_url: str) -> bool:
    hooks = lane(base_url)["webhooks"]
    return bool(hooks["in_flight"] == 0)


def wait_received(receiver: Receiver, count: int) -> list[dict[str, Any]]:
    wait_until(lambda: len(receiver.payloads()) >= count, timeout=WAIT_S, what=f"{count} webhooks")
    return receiver.payloads()


def single(base_url: str, contact: dict[str, str], *kinds: str, **extra: Any) -> httpx.Response:
    body = {**contact, "enrichment_type": list(kinds or ("email",)), **extra}
    return httpx.post(f"{base_url}{SINGLE}", json=body, headers=HEADERS)


def poll(base_url: str, enrichment_id: str) -> httpx.Response:
    return httpx.get(f"{base_url}{CONTACTS}{enrichment_id}", headers=HEADERS)


def key_of(contact: dict[str, str]) -> str:
    return identity_key(
        contact["firstname"],
        contact["lastname"],
        contact.get("domain"),
        contact.get("company_name"),
        contact.get("linkedin_url"),
    )


def contacts(count: int, start: int = 0) -> list[dict[str, str]]:
    return [
        {"firstname": f"Grace{i}", "lastname": "Hopper", "domain": "navy.test"}
        for i in range(start, start + count)
    ]


def expected_finished(
    enrichment_id: str, contact: dict[str, str], kind: str, custom: Any = None
) -> dict[str, Any]:
    """What GET /contacts/{id} and the webhook say once `contact` is finished for `kind`."""
    outcome = simulated_outcome(
        contact["firstname"],
        contact["lastname"],
        contact.get("domain"),
        contact.get("company_name"),
        contact.get("linkedin_url"),
    )
    body: dict[str, Any] = {
        "enrichment_id": enrichment_id,
        "first_name": contact["firstname"],
        "last_name": contact["lastname"],
        "status": "finished",
    }
    if kind == "email":
        body["email"] = outcome.email
        body["email_status"] = outcome.email_status or "N/A"
    if kind == "personal_email":
        body["personal_email"] = outcome.personal_email
        body["personal_email_status"] = outcome.personal_email_status or "N/A"
    body["phone"] = list(outcome.phones) if kind == "phone" else []
    if custom is not None:
        body["custom"] = custom
    return body


# --- single_enrich and GET /contacts/{id} ----------------------------------------------


def test_single_enrich_answers_pending_at_once_and_get_says_pending(sim: str) -> None:
    """single_enrich answers at once with a fresh id and "pending", echoing custom; GET agrees."""
    contact = find_contact(has_email)
    answer = single(sim, contact, custom={"row": 47})
    assert answer.status_code == 200
    body = answer.json()
    uuid.UUID(body["enrichment_id"])
    pending = {
        "enrichment_id": body["enrichment_id"],
        "first_name": contact["firstname"],
        "last_name": "Lovelace",
        "status": "pending",
        "custom": {"row": 47},
    }
    assert body == pending
    assert poll(sim, body["enrichment_id"]).json() == pending
    seen = lane(sim)
    assert (seen["submitted_by_contact"], seen["processing"], seen["settled"]) == (
        {key_of(contact): 1},
        1,
        0,
    )
    assert seen["polls"] == {"pending": 1, "finished": 0, "unknown": 0}
    assert seen["credits_held"] == 3  # the email's price, held until it settles
    assert stats(sim)["credits_spent"] == 0


def test_finished_result_comes_by_webhook_and_get_with_the_sync_lane_s_answer(
    sim: str, receiver: Receiver
) -> None:
    """Once processed, the webhook gets the finished result (custom echoed), GET says the same,
    and the contact is charged once, the email's price."""
    contact = find_contact(has_email)
    submitted = single(sim, contact, custom={"row": 2}, webhook_url=receiver.hook()).json()
    settle(sim, 1)
    (payload,) = wait_received(receiver, 1)
    expected = expected_finished(submitted["enrichment_id"], contact, "email", {"row": 2})
    assert payload == expected
    assert payload["email"] == simulated_outcome(**contact).email
    assert receiver.received[0][0] == "/webhooks/pronto/s3cret"
    assert poll(sim, submitted["enrichment_id"]).json() == expected
    seen = stats(sim)
    assert (seen["credits_spent"], seen["charged_by_contact"]) == (3, {key_of(contact): 1})
    assert seen["async"]["credits_held"] == 0


def test_phone_comes_as_e164_strings_and_nothing_found_is_finished_and_free(
    sim: str, receiver: Receiver
) -> None:
    """A found phone is a list of "+E164" strings; a contact with nothing is "finished" with
    null / "N/A" / [] and costs nothing."""
    phone_contact = find_contact(has_phone)
    empty_contact = find_contact(has_nothing)
    phone_id = single(sim, phone_contact, "phone", webhook_url=receiver.hook()).json()
    empty_id = single(sim, empty_contact, webhook_url=receiver.hook()).json()
    settle(sim, 2)
    wait_received(receiver, 2)
    phone_body = poll(sim, phone_id["enrichment_id"]).json()
    assert phone_body == expected_finished(phone_id["enrichment_id"], phone_contact, "phone")
    assert phone_body["phone"] and all(number.startswith("+") for number in phone_body["phone"])
    empty_body = poll(sim, empty_id["enrichment_id"]).json()
    assert {k: empty_body[k] for k in ("status", "email", "email_status", "phone")} == {
        "status": "finished",
        "email": None,
        "email_status": "N/A",
        "phone": [],
    }
    seen = stats(sim)
    assert seen["credits_spent"] == 30  # the phone's price; the empty answer is free
    assert seen["charged_by_contact"] == {key_of(phone_contact): 1}


def test_personal_email_result_has_its_fields_and_its_price(sim: str, receiver: Receiver) -> None:
    """A personal email asked with a LinkedIn URL comes back with its status and costs its price."""
    contact = find_contact(has_personal_email)
    submitted = single(sim, contact, "personal_email", webhook_url=receiver.hook()).json()
    settle(sim, 1)
    (payload,) = wait_received(receiver, 1)
    assert payload == expected_finished(submitted["enrichment_id"], contact, "personal_email")
    assert payload["personal_email"] == simulated_outcome(**contact).personal_email
    assert stats(sim)["credits_spent"] == 20


def test_unknown_id_gets_404_with_a_sentence(sim: str) -> None:
    """GET on an id nobody submitted answers 404 and counts as an unknown poll."""
    answer = poll(sim, "00000000-0000-0000-0000-000000000000")
    assert answer.status_code == 404
    assert answer.json() == {
        "message": "No enrichment has the id '00000000-0000-0000-0000-000000000000': poll "
        "with an enrichment_id that single_enrich answered (or a webhook payload carried)."
    }
    assert lane(sim)["polls"]["unknown"] == 1


@pytest.mark.parametrize(
    ("extra", "kinds", "status", "message"),
    [
        ({}, ("email", "phone"), 400, ONE_TYPE),
        ({"webhook_url": 5}, ("email",), 400, "webhook_url must be a string: "
         "the URL the result is POSTed to."),
        ({"custom": "row 2"}, ("email",), 400, "custom must be an object."),
    ],
)  # fmt: skip
def test_single_enrich_refuses_malformed_bodies_with_400(
    sim: str, extra: dict[str, Any], kinds: tuple[str, ...], status: int, message: str
) -> None:
    """Two types at once, a webhook_url that is not a string, a custom that is not an object:
    400 with a sentence, nothing queued."""
    answer = single(sim, find_contact(has_email), *kinds, **extra)
    assert (answer.status_code, answer.json()) == (status, {"message": message})
    assert lane(sim)["submitted"] == 0


def test_more_types_per_request_when_configured(sim: str, receiver: Receiver) -> None:
    """With async_types_per_request=3, one request asks email and phone and gets both."""
    configure(sim, async_types_per_request=3)
    contact = find_contact(lambda o: o.email is not None and bool(o.phones))
    submitted = single(sim, contact, "email", "phone", webhook_url=receiver.hook()).json()
    settle(sim, 1)
    (payload,) = wait_received(receiver, 1)
    outcome = simulated_outcome(**contact)
    assert (payload["email"], payload["phone"]) == (outcome.email, list(outcome.phones))
    assert payload["enrichment_id"] == submitted["enrichment_id"]
    assert stats(sim)["credits_spent"] == 33


def test_pronto_s_rules_refuse_with_422_and_queue_nothing(sim: str) -> None:
    """Phone or personal email without LinkedIn, personal email without consent, and an email
    without a domain or company are refused with 422 and queue nothing."""
    contact = find_contact(has_email)
    refusals = [
        single(sim, without_linkedin(contact), "phone"),
        single(sim, without_linkedin(contact), "personal_email"),
        single(sim, {"firstname": "Ada", "lastname": "L", "linkedin_url": "https://x.test/in/a"}),
    ]
    configure(sim, personal_email_consent=False)
    refusals.append(single(sim, contact, "personal_email"))
    assert [(r.status_code, r.json()["message"]) for r in refusals] == [
        (422, NEEDS_LINKEDIN),
        (422, NEEDS_LINKEDIN),
        (422, NEEDS_ANCHOR),
        (422, NO_CONSENT),
    ]
    seen = stats(sim)
    assert (seen["refused_without_linkedin"], seen["consent_refusals"]) == (2, 1)
    assert (seen["async"]["submitted"], seen["credits_spent"]) == (0, 0)


@pytest.mark.parametrize("form", ["402", "422", "200"])
def test_single_enrich_out_of_credits_in_each_of_the_three_forms(sim: str, form: str) -> None:
    """Credits are held at submission: once the day's credits cannot cover the next contact's
    price, single_enrich refuses it in the configured form and queues nothing."""
    configure(sim, daily_credits=7, out_of_credits_form=form)
    first, second, third = contacts(3)
    assert single(sim, first).status_code == 200
    assert single(sim, second).status_code == 200
    refused = single(sim, third, custom={"row": 9})
    if form == "200":
        assert refused.status_code == 200
        assert refused.json() == {
            "first_name": "Grace2",
            "last_name": "Hopper",
            "status": "error",
            "message": NO_CREDITS_200,
            "custom": {"row": 9},
        }
    else:
        assert (refused.status_code, refused.json()) == (int(form), {"message": NO_CREDITS})
    seen = stats(sim)
    assert (seen["async"]["submitted"], seen["async"]["credits_held"]) == (2, 6)
    assert seen["out_of_credits_refusals"] == 1
    single(sim, third)
    assert stats(sim)["calls_after_out_of_credits"] == 1


# --- bulk_enrich --------------------------------------------------------------------


def bulk(base_url: str, people: list[dict[str, Any]], *kinds: str, **extra: Any) -> httpx.Response:
    body = {"contacts": people, "enrichment_type": list(kinds or ("email",)), **extra}
    return httpx.post(f"{base_url}{BULK}", json=body, headers=HEADERS)


def test_bulk_enrich_answers_202_queued_and_posts_each_contact_with_its_custom(
    sim: str, receiver: Receiver
) -> None:
    """bulk_enrich answers 202 with the job's id and "queued"; each contact's result comes by
    its own webhook, with its own id and its own custom, each charged once."""
    people = [{**person, "custom": {"row": i}} for i, person in enumerate(contacts(5))]
    answer = bulk(sim, people, webhook_url=receiver.hook())
    assert answer.status_code == 202
    job = answer.json()
    assert set(job) == {"enrichment_id", "status"} and job["status"] == "queued"
    uuid.UUID(job["enrichment_id"])
    settle(sim, 5)
    payloads = wait_received(receiver, 5)
    by_row = {payload["custom"]["row"]: payload for payload in payloads}
    assert sorted(by_row) == [0, 1, 2, 3, 4]
    for row, payload in by_row.items():
        person = {k: v for k, v in people[row].items() if k != "custom"}
        assert payload == expected_finished(payload["enrichment_id"], person, "email", {"row": row})
        assert poll(sim, payload["enrichment_id"]).json() == payload
    assert len({payload["enrichment_id"] for payload in payloads} | {job["enrichment_id"]}) == 6
    seen = stats(sim)
    assert seen["async"]["bulk_jobs"] == 1
    assert seen["async"]["submitted_by_contact"] == {key_of(p): 1 for p in contacts(5)}
    assert all(count == 1 for count in seen["charged_by_contact"].values())


def test_bulk_job_id_is_not_a_contact_s_and_get_says_so(sim: str) -> None:
    """GET on the job's id answers 404 telling to poll per-contact ids or use single_enrich."""
    job = bulk(sim, contacts(2)).json()
    answer = poll(sim, job["enrichment_id"])
    assert (answer.status_code, answer.json()) == (404, {"message": BULK_ID_404})


def test_bulk_enrich_refuses_a_batch_of_the_wrong_size_with_400(sim: str) -> None:
    """One contact, or 101, is refused with a sentence saying what to send instead."""
    message = (
        "contacts must be a list of 2 to 100 contacts; send one contact to "
        "/v2/contacts/single_enrich and more than 100 in several batches."
    )
    for people in (contacts(1), contacts(101)):
        answer = bulk(sim, people)
        assert (answer.status_code, answer.json()) == (400, {"message": message})
    bad = bulk(sim, [*contacts(1), {"firstname": "Ada"}])
    assert (bad.status_code, bad.json()) == (400, {"message": "contacts[1]: lastname is required."})
    assert lane(sim)["submitted"] == 0


def test_bulk_enrich_rejects_the_whole_batch_with_422(sim: str) -> None:
    """A phone batch with one contact lacking LinkedIn, a personal email batch without consent,
    and a batch the credits cannot cover are refused whole with 422: nothing queued."""
    with_linkedin = [find_contact(has_phone), find_contact(has_phone, start=5000)]
    missing = bulk(sim, [with_linkedin[0], without_linkedin(with_linkedin[1])], "phone")
    assert (missing.status_code, missing.json()["message"]) == (
        422,
        f"contacts[1]: {NEEDS_LINKEDIN} No contact of the batch was queued.",
    )
    configure(sim, personal_email_consent=False)
    consent = bulk(sim, with_linkedin, "personal_email")
    assert (consent.status_code, consent.json()) == (422, {"message": NO_CONSENT})
    configure(sim, personal_email_consent=True, daily_credits=5, out_of_credits_form="402")
    credits = bulk(sim, contacts(2))  # 2 x 3 credits held > 5 left: refused whole
    assert (credits.status_code, credits.json()) == (422, {"message": NO_CREDITS})
    seen = stats(sim)
    assert (seen["async"]["submitted"], seen["out_of_credits_refusals"]) == (0, 1)


# --- capacity and latency -------------------------------------------------------------


def test_capacity_limits_contacts_processed_at_once_in_arrival_order(sim: str) -> None:
    """With a capacity of 2, five contacts are processed two at a time, first come first
    served: each latency's worth of lane time settles the next two."""
    configure(sim, async_capacity=2, async_latency_ms=10_000)
    ids = [single(sim, person).json()["enrichment_id"] for person in contacts(5)]
    first = lane(sim)
    assert (first["processing"], first["waiting"], first["settled"]) == (2, 3, 0)
    settle(sim, 2, 10)
    assert [poll(sim, i).json()["status"] for i in ids] == ["finished"] * 2 + ["pending"] * 3
    after_one = lane(sim)
    assert (after_one["processing"], after_one["waiting"]) == (2, 1)
    settle(sim, 4, 10)
    settle(sim, 5, 10)
    done = lane(sim)
    assert (done["settled"], done["peak_processing"], done["processing"]) == (5, 2, 0)


def test_a_higher_capacity_takes_effect_at_once(sim: str) -> None:
    """Raising async_capacity starts waiting contacts without waiting for a settlement."""
    configure(sim, async_capacity=1)
    for person in contacts(4):
        single(sim, person)
    assert (lane(sim)["processing"], lane(sim)["waiting"]) == (1, 3)
    configure(sim, async_capacity=3)
    wait_until(lambda: lane(sim)["processing"] == 3, timeout=WAIT_S, what="3 processing")
    assert lane(sim)["waiting"] == 1


def test_the_clock_only_moves_forward(sim: str) -> None:
    """POST /_simulator/clock refuses a negative or missing advance with a sentence."""
    for body in ({"advance_s": -1}, {}, {"advance_s": "soon"}):
        answer = httpx.post(f"{sim}/_simulator/clock", json=body)
        assert answer.status_code == 400
        assert answer.json()["message"].startswith('Send {"advance_s": N}')
    assert lane(sim)["clock_offset_s"] == 0.0


# --- webhook faults -------------------------------------------------------------------


def test_lost_webhooks_are_never_sent_and_get_still_answers(sim: str, receiver: Receiver) -> None:
    """With every webhook lost, nothing reaches the receiver; polling still finds each result."""
    configure(sim, webhook_lost=1.0)
    ids = [
        single(sim, person, webhook_url=receiver.hook()).json()["enrichment_id"]
        for person in contacts(3)
    ]
    settle(sim, 3)
    wait_until(lambda: deliveries_done(sim), timeout=WAIT_S, what="no delivery in flight")
    hooks = lane(sim)["webhooks"]
    assert (hooks["results"], hooks["lost"], hooks["sent"]) == (3, 3, 0)
    assert receiver.payloads() == []
    assert [poll(sim, i).json()["status"] for i in ids] == ["finished"] * 3


def test_a_fraction_of_webhooks_is_lost_as_seeded(sim: str, receiver: Receiver) -> None:
    """webhook_lost=0.5 loses about half the results, the same ones after a reset."""
    configure(sim, webhook_lost=0.5, async_capacity=40)

    def lost_rows() -> set[int]:
        receiver.clear()
        for row, person in enumerate(contacts(40)):
            single(sim, person, custom={"row": row}, webhook_url=receiver.hook())
        settle(sim, 40)
        sent = 40 - lane(sim)["webhooks"]["lost"]
        arrived = {payload["custom"]["row"] for payload in wait_received(receiver, sent)}
        return set(range(40)) - arrived

    first = lost_rows()
    assert 10 <= len(first) <= 30
    httpx.post(f"{sim}/_simulator/reset").raise_for_status()
    assert lost_rows() == first


def test_duplicated_webhooks_arrive_twice_and_are_charged_once(
    sim: str, receiver: Receiver
) -> None:
    """With every webhook duplicated, each result arrives twice, identical; each contact is
    still submitted once and charged once."""
    configure(sim, webhook_duplicated=1.0)
    people = [find_contact(has_email), find_contact(has_email, start=100)]
    for person in people:
        single(sim, person, webhook_url=receiver.hook())
    settle(sim, 2)
    payloads = wait_received(receiver, 4)
    assert len(payloads) == 4
    for enrichment_id in {payload["enrichment_id"] for payload in payloads}:
        copies = [payload for payload in payloads if payload["enrichment_id"] == enrichment_id]
        assert len(copies) == 2 and copies[0] == copies[1]
    seen = stats(sim)
    assert lane(sim)["webhooks"]["duplicated"] == 2
    assert seen["async"]["submitted_by_contact"] == {key_of(p): 1 for p in people}
    assert seen["charged_by_contact"] == {key_of(p): 1 for p in people}


def test_slow_webhooks_arrive_only_after_their_delay(sim: str, receiver: Receiver) -> None:
    """A slow webhook is sent webhook_slow_ms after the result, not before."""
    configure(sim, webhook_slow=1.0, webhook_slow_ms=60_000)
    single(sim, find_contact(has_email), webhook_url=receiver.hook())
    settle(sim, 1)
    advance(sim, 59)
    assert lane(sim)["webhooks"]["sent"] == 0  # the lane's clock has not reached the delay
    advance(sim, 1)
    wait_received(receiver, 1)
    assert lane(sim)["webhooks"]["slowed"] == 1


def arrival_order(sim: str, receiver: Receiver, count: int) -> list[int]:
    """Rows in the order their webhooks arrived, the clock moved a second at a time.

    Deliveries that fall due in the same step are sent together, so their order among
    themselves is the network's: within a step rows are listed in ascending order, and each
    step waits for its deliveries before the clock moves on."""
    receiver.clear()
    for row, person in enumerate(contacts(count)):
        single(sim, person, custom={"row": row}, webhook_url=receiver.hook())
    order: list[int] = []

    def take_step() -> None:
        wait_until(lambda: deliveries_done(sim), timeout=WAIT_S, what="deliveries")
        arrived = [payload["custom"]["row"] for payload in receiver.payloads()]
        order.extend(sorted(row for row in arrived if row not in order))

    for step in range(1, count + 1):  # one contact settles per second, in submission order
        settle(sim, step, 1)
        take_step()
    for _ in range(12):  # then the reorder window passes, a second at a time
        advance(sim, 1)
        take_step()
    wait_received(receiver, count)
    return order


def test_reordered_webhooks_arrive_out_of_completion_order_as_seeded(
    sim: str, receiver: Receiver
) -> None:
    """Without reordering, results arrive in completion order; with webhook_reorder_ms they
    arrive shuffled, in the same order again after a reset (the seed decides)."""
    configure(sim, async_capacity=1, async_latency_ms=1000)
    assert arrival_order(sim, receiver, 8) == list(range(8))
    httpx.post(f"{sim}/_simulator/reset").raise_for_status()
    configure(sim, webhook_reorder_ms=10_000)
    shuffled = arrival_order(sim, receiver, 8)
    assert sorted(shuffled) == list(range(8)) and shuffled != list(range(8))
    httpx.post(f"{sim}/_simulator/reset").raise_for_status()
    assert arrival_order(sim, receiver, 8) == shuffled


def test_a_non_2xx_answer_is_retried_with_backoff_until_delivered(
    sim: str, receiver: Receiver
) -> None:
    """Answered 500 then 503, the webhook is tried again after 1 s then 2 s of lane time,
    and delivered on the third try."""
    receiver.clear([500, 503])
    single(sim, find_contact(has_email), webhook_url=receiver.hook())
    settle(sim, 1)
    wait_received(receiver, 1)
    wait_until(lambda: deliveries_done(sim), timeout=WAIT_S, what="first try")
    advance(sim, 1)
    wait_received(receiver, 2)
    wait_until(lambda: deliveries_done(sim), timeout=WAIT_S, what="second try")
    advance(sim, 1.5)
    assert lane(sim)["webhooks"]["sent"] == 2  # the second back-off is 2 s, not 1.5
    advance(sim, 0.5)
    wait_received(receiver, 3)
    wait_until(lambda: lane(sim)["webhooks"]["delivered"] == 1, timeout=WAIT_S, what="delivery")
    hooks = lane(sim)["webhooks"]
    assert (hooks["sent"], hooks["retried"], hooks["gave_up"]) == (3, 2, 0)
    assert hooks["answers"] == {"500": 1, "503": 1, "200": 1}


def test_a_webhook_that_keeps_failing_is_given_up_after_its_retries(
    sim: str, receiver: Receiver
) -> None:
    """A receiver answering 500 every time gets 1 + webhook_retries tries, then none."""
    configure(sim, webhook_retries=2, webhook_retry_backoff_ms=0)
    receiver.clear([500] * 10)
    single(sim, find_contact(has_email), webhook_url=receiver.hook())
    settle(sim, 1)
    wait_until(lambda: lane(sim)["webhooks"]["gave_up"] == 1, timeout=WAIT_S, what="give up")
    hooks = lane(sim)["webhooks"]
    assert (hooks["sent"], hooks["retried"], hooks["delivered"]) == (3, 2, 0)
    assert len(receiver.payloads()) == 3


def test_a_refused_connection_is_retried_too(sim: str) -> None:
    """A webhook URL where nothing listens counts as a failed try and is retried."""
    configure(sim, webhook_retries=1, webhook_retry_backoff_ms=0)
    nobody = f"http://127.0.0.1:{free_port()}/webhooks/pronto/s3cret"
    single(sim, find_contact(has_email), webhook_url=nobody)
    settle(sim, 1)
    wait_until(lambda: lane(sim)["webhooks"]["gave_up"] == 1, timeout=WAIT_S, what="give up")
    hooks = lane(sim)["webhooks"]
    assert (hooks["sent"], hooks["retried"], hooks["answers"]) == (2, 1, {"error": 2})


def test_webhooks_go_to_127_0_0_1_only_and_the_log_keeps_the_path_out(
    sim: str, served: ServedProcess
) -> None:
    """A webhook URL off this machine is accepted with the contact but never called; the log
    names its host, never its path (which may carry a secret)."""
    answer = single(
        sim, find_contact(has_email), webhook_url="https://hooks.example.com/webhooks/pronto/s3cret"
    )
    assert answer.status_code == 200
    settle(sim, 1)
    hooks = lane(sim)["webhooks"]
    assert (hooks["refused"], hooks["sent"]) == (1, 0)
    wait_until(lambda: "hooks.example.com" in served.log(), timeout=WAIT_S, what="log line")
    assert "https://hooks.example.com refused" in served.log().replace("webhook to ", "")
    assert "s3cret" not in served.log()


# --- limits shared with the sync lane ---------------------------------------------------


def test_every_endpoint_counts_in_the_same_rate_per_key(sim: str) -> None:
    """With a rate of 3, a single_enrich, a bulk_enrich and a GET use the second up: the
    fourth request, whichever endpoint, gets 429."""
    configure(sim, rate=3, retry_after_s=0)
    submitted = single(sim, contacts(1)[0])
    assert submitted.status_code == 200
    assert bulk(sim, contacts(2, start=1)).status_code == 202
    assert poll(sim, submitted.json()["enrichment_id"]).status_code == 200
    limited = single(sim, contacts(1, start=3)[0])
    assert limited.status_code == 429
    seen = stats(sim)
    assert (seen["rate_limited"], seen["requests"], seen["max_requests_in_any_second"]) == (1, 4, 4)
    assert seen["async"]["submitted"] == 3


def test_async_requests_wait_for_the_same_open_call_slots(sim: str) -> None:
    """With one slot held by a slow sync call, a single_enrich waits in the queue, then is
    served: the five open calls are Pronto's for every endpoint."""
    configure(sim, max_open=1, latency_ms=1500)
    with httpx.Client(base_url=sim, headers=HEADERS, timeout=30) as client:
        outcome: dict[str, httpx.Response] = {}
        sync = threading.Thread(
            target=lambda: outcome.__setitem__(
                "sync",
                client.post(
                    "/v2/contacts/sync_single_enrich",
                    json={**contacts(1)[0], "enrichment_type": ["email"]},
                ),
            )
        )
        sync.start()
        wait_until(lambda: stats(sim)["serving"] == 1, timeout=WAIT_S, what="sync served")
        waiting = threading.Thread(
            target=lambda: outcome.__setitem__("async", single(sim, contacts(1, start=1)[0]))
        )
        waiting.start()
        wait_until(lambda: stats(sim)["queued"] == 1, timeout=WAIT_S, what="async queued")
        assert lane(sim)["submitted"] == 0  # not accepted while it waits for the slot
        sync.join(WAIT_S)
        waiting.join(WAIT_S)
    assert (outcome["sync"].status_code, outcome["async"].status_code) == (200, 200)
    assert (stats(sim)["peak_open"], lane(sim)["submitted"]) == (2, 1)


def test_a_wrong_key_is_refused_on_every_async_endpoint(sim: str) -> None:
    """single_enrich, bulk_enrich and GET /contacts/{id} all answer 401 to a wrong key."""
    bad = {"X-API-KEY": "nope"}
    person = {**contacts(1)[0], "enrichment_type": ["email"]}
    answers = [
        httpx.post(f"{sim}{SINGLE}", json=person, headers=bad),
        httpx.post(f"{sim}{BULK}", json={"contacts": contacts(2)}, headers=bad),
        httpx.get(f"{sim}{CONTACTS}some-id", headers=bad),
    ]
    assert [(a.status_code, a.json()) for a in answers] == [
        (401, {"message": "Invalid API key"})
    ] * 3


def test_a_faulted_submission_is_not_queued_and_not_charged(sim: str) -> None:
    """A 503 (or a dropped connection) on single_enrich means nothing was queued."""
    configure(sim, fault_503=1.0)
    assert single(sim, contacts(1)[0]).status_code == 503
    configure(sim, fault_503=0.0, fault_drop=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        single(sim, contacts(1)[0])
    seen = stats(sim)
    assert (seen["faults"]["503"], seen["faults"]["drop"], seen["async"]["submitted"]) == (1, 1, 0)


# --- counts and resets ------------------------------------------------------------------


def test_counts_show_each_contact_submitted_once_and_charged_once_across_lanes(
    sim: str, receiver: Receiver
) -> None:
    """A contact paid on the sync lane and again on the async lane shows 2 in
    charged_by_contact: the count a test of "never pay twice" asserts on."""
    twice, once = find_contact(has_email), find_contact(has_email, start=200)
    sync = httpx.post(
        f"{sim}/v2/contacts/sync_single_enrich",
        json={**twice, "enrichment_type": ["email"]},
        headers=HEADERS,
    )
    assert sync.status_code == 200
    single(sim, twice, webhook_url=receiver.hook())
    single(sim, once, webhook_url=receiver.hook())
    settle(sim, 2)
    seen = stats(sim)
    assert seen["charged_by_contact"] == {key_of(twice): 2, key_of(once): 1}
    assert seen["async"]["submitted_by_contact"] == {key_of(twice): 1, key_of(once): 1}
    assert seen["async"]["settled_by_contact"] == {key_of(twice): 1, key_of(once): 1}
    assert seen["credits_spent"] == 9


def test_reset_forgets_jobs_holds_and_pending_webhooks(sim: str, receiver: Receiver) -> None:
    """After a reset, an old id is unknown, nothing is held, and its webhook never comes."""
    configure(sim, webhook_slow=1.0, webhook_slow_ms=10_000)
    old = single(sim, contacts(1)[0], webhook_url=receiver.hook()).json()["enrichment_id"]
    settle(sim, 1)
    httpx.post(f"{sim}/_simulator/reset").raise_for_status()
    advance(sim, 20)
    assert poll(sim, old).status_code == 404
    seen = lane(sim)
    assert (seen["credits_held"], seen["webhooks"]["sent"], seen["submitted"]) == (0, 0, 0)
    assert receiver.payloads() == []


def test_async_config_is_validated_and_set_from_the_command_line(
    sim: str, started: Started
) -> None:
    """Bad async or webhook settings get 400 with a sentence; --async-capacity and
    PRONTO_SIM_WEBHOOK_RETRIES reached the process's starting config."""
    startup = started.startup_config
    assert (startup["async_capacity"], startup["webhook_retries"]) == (7, 4)
    for bad, message in [
        ({"async_capacity": 0}, "async_capacity must be at least 1, not 0."),
        ({"async_types_per_request": 4}, "async_types_per_request must be at most 3, not 4."),
        ({"webhook_lost": 2}, "webhook_lost must be a probability between 0 and 1, not 2."),
        ({"webhook_retries": -1}, "webhook_retries must be at least 0, not -1."),
        ({"webhook_timeout_s": 0}, "webhook_timeout_s must be greater than 0."),
    ]:
        answer = httpx.post(f"{sim}/_simulator/config", json=bad)
        assert (answer.status_code, answer.json()) == (400, {"message": message})
