"""The async lane's durable submissions, on every backend: memory, SQLite (a file) and
Firestore (the real async client against the emulator on 127.0.0.1).

A "restarted process" is a second store object on the same file or emulator.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from pronto_sheets.store.submissions import (
    MemorySubmissions,
    Submission,
    SubmissionState,
    SubmissionStore,
)
from pronto_sheets.store.submissions_firestore import FirestoreSubmissions
from pronto_sheets.store.submissions_sqlite import SqliteSubmissions
from tests.support.firestore import FirestoreEmulator

Factory = Callable[..., SubmissionStore]
NOW = 1_800_000_000.0


def submission(
    token: str, identity: str = "id-ada", types: tuple[str, ...] = ("email",)
) -> Submission:
    return Submission(
        token=token,
        identity=identity,
        types=types,
        state=SubmissionState.UNCONFIRMED,
        submitted_at=NOW,
        next_poll_at=NOW + 60,
    )


@pytest.fixture(params=["memory", "sqlite", "firestore"])
async def open_submissions(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Factory]:
    """A factory of submission stores on one file or emulator (memory: one shared object)."""
    opened: list[SubmissionStore] = []
    memory: dict[str, MemorySubmissions] = {}  # one per namespace, shared like a file
    if request.param == "firestore":
        emulator: FirestoreEmulator = request.getfixturevalue("firestore_emulator")
        monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", emulator.host)

    def make(namespace: str = "ns1") -> SubmissionStore:
        store: SubmissionStore
        if request.param == "memory":
            return memory.setdefault(namespace, MemorySubmissions(clock=lambda: NOW))
        if request.param == "firestore":
            store = FirestoreSubmissions(
                namespace, project="pronto-test", database="(default)", clock=lambda: NOW
            )
        else:
            store = SqliteSubmissions(tmp_path / "store.db", namespace, clock=lambda: NOW)
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.aclose()


async def test_a_restarted_process_finds_what_was_in_flight(open_submissions: Factory) -> None:
    """Submissions written by one process are found by identity and by id in the next,
    so a restart waits for them instead of submitting the contacts again."""
    first = open_submissions()
    await first.add(submission("t1", "id-ada"))
    await first.add(submission("t2", "id-bob", ("phone",)))
    await first.confirm("t1", "e-1", NOW + 30)
    second = open_submissions()
    active = await second.active_for(["id-ada", "id-bob", "id-eve"])
    assert sorted(active) == ["id-ada", "id-bob"]
    ada = active["id-ada"][0]
    assert (ada.state, ada.enrichment_id, ada.types) == (
        SubmissionState.SUBMITTED,
        "e-1",
        ("email",),
    )
    assert active["id-bob"][0].state is SubmissionState.UNCONFIRMED
    found = await second.by_enrichment_id("e-1")
    assert found is not None and found.token == "t1"


async def test_only_one_of_two_deliveries_settles(open_submissions: Factory) -> None:
    """A webhook and a poll (or a duplicated webhook) settling at once: exactly one wins,
    and a settled submission is no longer in flight nor due for polling."""
    first, second = open_submissions(), open_submissions()
    await first.add(submission("t1"))
    await first.confirm("t1", "e-1", NOW - 1)
    wins = await asyncio.gather(first.settle("t1", "e-1"), second.settle("t1", "e-1"))
    assert sorted(wins) == [False, True]
    assert await first.settle("t1", "e-1") is False
    assert await second.active_for(["id-ada"]) == {}
    assert await second.due(NOW, 10) == []
    settled = await second.by_enrichment_id("e-1")
    assert settled is not None and settled.state is SubmissionState.SETTLED


async def test_polls_come_due_in_order_and_back_off(open_submissions: Factory) -> None:
    """Only submitted ones whose poll time has come are due; a reschedule moves one out."""
    store = open_submissions()
    for token, poll_at in (("t1", NOW - 5), ("t2", NOW - 10), ("t3", NOW + 100)):
        await store.add(submission(token, f"id-{token}"))
        await store.confirm(token, f"e-{token}", poll_at)
    await store.add(submission("t4", "id-t4"))  # unconfirmed: no id to poll
    assert [s.token for s in await store.due(NOW, 10)] == ["t2", "t1"]
    await store.reschedule("t2", NOW + 50, 1)
    assert [s.token for s in await store.due(NOW, 10)] == ["t1"]


async def test_a_late_confirmation_never_undoes_a_settlement(open_submissions: Factory) -> None:
    """A webhook that adopted an unconfirmed submission by its token settles it; Pronto's
    answer to the submission, arriving after, leaves it settled."""
    store = open_submissions()
    await store.add(submission("t1"))
    assert await store.settle("t1", "e-1") is True
    await store.confirm("t1", "e-1", NOW - 1)
    found = await store.by_token("t1")
    assert found is not None and found.state is SubmissionState.SETTLED
    assert await store.due(NOW, 10) == []


async def test_unconfirmed_submissions_are_released_after_the_wait(
    open_submissions: Factory,
) -> None:
    """An unconfirmed submission is given up only once it is older than the wait; a
    refused one is dropped at once; confirmed ones stay."""
    store = open_submissions()
    await store.add(submission("old"))
    await store.add(submission("kept"))
    await store.confirm("kept", "e-kept", NOW + 60)
    await store.add(submission("refused"))
    await store.drop("refused")
    assert await store.by_token("refused") is None
    assert await store.release_unconfirmed(NOW) == []
    released = await store.release_unconfirmed(NOW + 1)
    assert [s.token for s in released] == ["old"]
    counts = await store.counts()
    assert counts == {"unconfirmed": 0, "submitted": 1, "settled": 0}


async def test_namespaces_do_not_see_each_other(open_submissions: Factory) -> None:
    """The simulator's submissions never answer for the real Pronto's."""
    ours, theirs = open_submissions("ns1"), open_submissions("ns2")
    await ours.add(submission("t1"))
    await ours.confirm("t1", "e-1", NOW - 1)
    assert await theirs.by_enrichment_id("e-1") is None
    assert await theirs.active_for(["id-ada"]) == {}
    assert await theirs.due(NOW, 10) == []
