"""The store's contract, run on both backends: SQLite (a file) and Firestore (the real
google-cloud-firestore async client against the emulator, over gRPC on 127.0.0.1).

Each test opens its stores through a factory, so a "second process" is a second store
object with its own connection or client on the same file or emulator.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from pronto_sheets.errors import StoreError
from pronto_sheets.results import Phone, Status, TypeResult
from pronto_sheets.store.firestore import FirestoreStore
from pronto_sheets.store.protocol import (
    ANSWERS_COLLECTION,
    RECORD_FORMAT,
    Store,
    StoredAnswer,
    decode_record,
    from_record,
    to_record,
)
from pronto_sheets.store.sqlite import SqliteStore
from tests.support.firestore import FirestoreEmulator

DAY = "2026-12-02"
FOUND = TypeResult(
    Status.SUCCESS,
    phones=(Phone("+33 6 12 34 56 78", "mobile"), Phone("+1 555 0100")),
    value_status="valid",
)
EMAIL = TypeResult(Status.SUCCESS, value="ada@acme.io", value_status="deliverable")
NOTHING = TypeResult(Status.NOT_FOUND, message="No email or phone found for this profile")

StoreFactory = Callable[..., Store]


@pytest.fixture(params=["sqlite", "firestore"])
async def open_store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[StoreFactory]:
    """A factory of stores on one backing file or emulator; all closed after the test."""
    opened: list[Store] = []
    if request.param == "firestore":
        emulator: FirestoreEmulator = request.getfixturevalue("firestore_emulator")
        monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", emulator.host)

        def make(namespace: str = "ns1") -> Store:
            store = FirestoreStore(namespace, project="pronto-test", database="(default)")
            opened.append(store)
            return store
    else:

        def make(namespace: str = "ns1") -> Store:
            store = SqliteStore(tmp_path / "store.db", namespace)
            opened.append(store)
            return store

    yield make
    for store in opened:
        await store.aclose()


async def test_answers_come_back_as_they_were_kept(open_store: StoreFactory) -> None:
    """Found (phones, statuses) and not-found answers read back equal, from another store
    object on the same backing, in one call; keys never kept are simply absent."""
    later = time.time() + 3600
    await open_store().put_answers(
        {
            "id1:phone": StoredAnswer(FOUND, later),
            "id1:email": StoredAnswer(EMAIL, later),
            "id2:email": StoredAnswer(NOTHING, later),
        }
    )
    got = await open_store().get_answers(["id1:phone", "id1:email", "id2:email", "id3:email"])
    assert {key: answer.result for key, answer in got.items()} == {
        "id1:phone": FOUND,
        "id1:email": EMAIL,
        "id2:email": NOTHING,
    }
    assert abs(got["id1:email"].expire_at - later) < 0.01


async def test_an_expired_answer_is_a_miss(open_store: StoreFactory) -> None:
    """Past its expire_at an answer is not served, even before the TTL policy deletes it;
    writing it again with a new expiry brings it back."""
    store = open_store()
    await store.put_answers({"old:email": StoredAnswer(EMAIL, time.time() - 1)})
    assert await store.get_answers(["old:email"]) == {}
    await store.put_answers({"old:email": StoredAnswer(NOTHING, time.time() + 60)})
    assert (await store.get_answers(["old:email"]))["old:email"].result == NOTHING


async def test_namespaces_do_not_see_each_other(open_store: StoreFactory) -> None:
    """The simulator's answers and credits (one Pronto address) never reach another's."""
    simulated, real = open_store("simulator"), open_store("pronto")
    await simulated.put_answers({"id1:email": StoredAnswer(EMAIL, time.time() + 60)})
    await simulated.claim_credits(DAY, wanted=50, minimum=1, limit=100)
    assert await real.get_answers(["id1:email"]) == {}
    assert (await real.ledger(DAY)).claimed == 0


async def test_many_answers_are_read_in_one_call(open_store: StoreFactory) -> None:
    """600 keys (a big request's misses) come back from one get_answers."""
    store = open_store()
    keys = [f"id{i}:email" for i in range(600)]
    await store.put_answers({key: StoredAnswer(EMAIL, time.time() + 60) for key in keys[::2]})
    got = await store.get_answers(keys)
    assert sorted(got) == sorted(keys[::2])


async def test_concurrent_claims_from_two_stores_never_pass_the_limit(
    open_store: StoreFactory,
) -> None:
    """Two store objects (two connections or clients) claiming 7 credits at a time, 60
    claims at once against a limit of 300: exactly 42 succeed (294 credits), never more."""
    first, second = open_store(), open_store()
    claims = await asyncio.gather(
        *(
            (first if i % 2 else second).claim_credits(DAY, wanted=7, minimum=7, limit=300)
            for i in range(60)
        )
    )
    granted = [claim.granted for claim in claims]
    assert sum(granted) == 294
    assert set(granted) == {0, 7}
    assert (await open_store().ledger(DAY)).claimed == 294


async def test_a_claim_gets_what_is_left_when_that_is_enough(open_store: StoreFactory) -> None:
    """Asking a block of 50 with 20 left grants 20 when the call needs 3, nothing when it
    needs 30."""
    store = open_store()
    assert (await store.claim_credits(DAY, wanted=80, minimum=1, limit=100)).granted == 80
    assert (await store.claim_credits(DAY, wanted=50, minimum=30, limit=100)).granted == 0
    claim = await store.claim_credits(DAY, wanted=50, minimum=3, limit=100)
    assert (claim.granted, claim.claimed, claim.closed) == (20, 100, False)


async def test_credits_given_back_can_be_claimed_by_another(open_store: StoreFactory) -> None:
    """A closing process gives back 30 of its 50: another gets them, never more."""
    first, second = open_store(), open_store()
    assert (await first.claim_credits(DAY, wanted=50, minimum=1, limit=50)).granted == 50
    assert (await second.claim_credits(DAY, wanted=50, minimum=1, limit=50)).granted == 0
    await first.release_credits(DAY, 30)
    claim = await second.claim_credits(DAY, wanted=50, minimum=1, limit=50)
    assert (claim.granted, claim.claimed) == (30, 50)
    assert (await open_store().ledger(DAY)).claimed == 50


async def test_a_closed_day_refuses_every_claim_and_counts_what_was_spent(
    open_store: StoreFactory,
) -> None:
    """Pronto's "out of credits" recorded by one store stops the other's claims; spending
    recorded by both adds up."""
    first, second = open_store(), open_store()
    assert (await first.claim_credits(DAY, wanted=50, minimum=3, limit=1000)).granted == 50
    assert (await second.claim_credits(DAY, wanted=50, minimum=3, limit=1000)).granted == 50
    await first.record_spent(DAY, 33)
    await second.record_spent(DAY, 3)
    await first.close_day(DAY)
    claim = await second.claim_credits(DAY, wanted=50, minimum=3, limit=1000)
    assert (claim.granted, claim.closed) == (0, True)
    assert await open_store().ledger(DAY) == type(await first.ledger(DAY))(100, 36, True)
    assert (await first.ledger("2026-12-03")).claimed == 0  # the next day starts afresh


def test_records_of_another_format_read_as_misses() -> None:
    """A record written by another version of the record's shape, or damaged, is never
    served and never an error."""
    record: dict[str, Any] = to_record(FOUND)
    assert from_record(record) == FOUND
    assert from_record(record | {"format": RECORD_FORMAT + 1}) is None
    assert from_record(record | {"status": "failed"}) is None
    assert decode_record(json.dumps(record)) == FOUND
    assert decode_record('{"format": 1, "status": "succ') is None
    assert decode_record("[1, 2]") is None


async def test_a_damaged_row_in_sqlite_is_a_miss(tmp_path: Path) -> None:
    """A row whose record cannot be read (a disk error, a hand edit) reads as a miss."""
    store = SqliteStore(tmp_path / "store.db", "ns")
    await store.put_answers({"id:email": StoredAnswer(EMAIL, time.time() + 60)})
    with sqlite3.connect(tmp_path / "store.db") as db:
        db.execute("UPDATE answers SET record = 'not json'")
    assert await store.get_answers(["id:email"]) == {}
    await store.aclose()


async def test_a_damaged_document_in_firestore_is_a_miss(
    firestore_emulator: FirestoreEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Documents whose record is not JSON, or that lack a field (a hand edit in the
    console), read as misses beside a good one; the good one is still served."""
    from google.cloud import firestore

    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", firestore_emulator.host)
    store = FirestoreStore("damaged", project="pronto-test", database="(default)")
    later = time.time() + 60
    keys = ["bad:email", "norecord:email", "noexpiry:email", "good:email"]
    await store.put_answers({key: StoredAnswer(EMAIL, later) for key in keys})
    client = firestore.AsyncClient(project="pronto-test")
    answers = client.collection(ANSWERS_COLLECTION)
    expiry = dt.datetime.fromtimestamp(later, dt.UTC)
    record = json.dumps(to_record(EMAIL))
    # Deleted, then written whole: the emulator merges a plain set() into what is there and
    # ignores DELETE_FIELD (Firestore itself replaces the document).
    for doc_id, fields in (
        ("damaged:bad:email", {"record": "not json", "expire_at": expiry}),
        ("damaged:norecord:email", {"expire_at": expiry}),
        ("damaged:noexpiry:email", {"record": record}),
    ):
        await answers.document(doc_id).delete()
        await answers.document(doc_id).set(fields)
    got = await store.get_answers(keys)
    assert {key: answer.result for key, answer in got.items()} == {"good:email": EMAIL}
    await store.aclose()


async def test_an_unreachable_firestore_fails_with_a_sentence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing listening: a StoreError within the time limit, saying Firestore and why."""
    from tests.support.servers import free_port

    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{free_port()}")
    store = FirestoreStore("ns", project="p", database="(default)", timeout_s=1.0)
    started = time.monotonic()
    with pytest.raises(StoreError) as caught:
        await store.get_answers(["id:email"])
    assert time.monotonic() - started < 5
    assert caught.value.message.startswith("Firestore ")
    await store.aclose()


async def test_an_unusable_sqlite_path_fails_with_a_sentence(tmp_path: Path) -> None:
    """A path under a regular file: a StoreError naming the path."""
    (tmp_path / "file").write_text("not a folder")
    store = SqliteStore(tmp_path / "file" / "store.db", "ns")
    with pytest.raises(StoreError) as caught:
        await store.claim_credits(DAY, wanted=1, minimum=1, limit=1)
    assert str(tmp_path / "file" / "store.db") in caught.value.message
    await store.aclose()
