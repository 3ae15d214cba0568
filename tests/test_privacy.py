"""POST /forget: one person's answers erased from the durable store and from memory.

The function runs in this process (tests/support/in_process.py) against the Pronto
simulator, with its store on SQLite (a file) or on the Firestore emulator (the real
client over gRPC). Each test enriches two people, forgets one, and checks what a person
would notice: the count answered, the store no longer holding that person's answers,
the next lookup of that person paid again (the simulator's own count), and the other
person's answers untouched and still free.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from pronto_sheets.enrich.cache import answer_key
from pronto_sheets.enrich.contacts import Contact
from pronto_sheets.store.firestore import FirestoreStore
from pronto_sheets.store.protocol import Store
from pronto_sheets.store.selection import namespace_for
from pronto_sheets.store.sqlite import SqliteStore
from pronto_sheets_dev.simulator.outcomes import identity_key
from tests.support.firestore import FirestoreEmulator
from tests.support.in_process import serving
from tests.support.people import expected, people
from tests.support.stack import SIM_KEY, TOKEN, Simulator

TYPES = ["email", "phone"]


def found_both(tag: str, count: int) -> list[dict[str, Any]]:
    """`count` people for whom the simulated Pronto finds an email and a phone."""
    rows = [
        row
        for row in people(40, tag, linkedin=True)
        if (lambda e: e.email and e.phone)(expected(row, tuple(TYPES)))
    ]
    assert len(rows) >= count
    return rows[:count]


def calls_for(sim: Simulator, row: dict[str, Any]) -> int:
    """How many times Pronto (the simulator) answered a lookup of this person."""
    key = identity_key(row["firstname"], row["lastname"], domain=row["domain"])
    return int(sim.stats()["by_contact"].get(key, 0))


def keys_of(row: dict[str, Any]) -> list[str]:
    identity = Contact.from_mapping(row).identity()
    return [answer_key(identity, name) for name in TYPES]


Backend = tuple[dict[str, str], Callable[[str], Store]]


@pytest.fixture(params=["sqlite", "firestore"])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Backend:
    """The function's store settings, and a way to open the same store from the test."""
    if request.param == "firestore":
        emulator: FirestoreEmulator = request.getfixturevalue("firestore_emulator")
        monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", emulator.host)
        env = emulator.env()

        def open_firestore(namespace: str) -> Store:
            return FirestoreStore(
                namespace, project=env["GOOGLE_CLOUD_PROJECT"], database="(default)"
            )

        return env, open_firestore
    path = tmp_path / "store.db"
    return {"PRONTO_STORE": f"sqlite://{path}"}, lambda namespace: SqliteStore(path, namespace)


@asynccontextmanager
async def function(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    settings = {
        "PRONTO_API_KEY": SIM_KEY,
        "PRONTO_BASE_URL": sim.url,
        "PRONTO_SHEETS_TOKENS": TOKEN,
        "PRONTO_DAILY_CREDIT_BUDGET": "100000000",
        **env,
    }
    async with serving(monkeypatch, settings, token=TOKEN) as http:
        yield http


async def enrich(http: httpx.AsyncClient, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = await http.post("/enrich", json={"contacts": rows, "enrichment_type": TYPES})
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


async def stored(open_store: Callable[[str], Store], sim: Simulator, row: dict[str, Any]) -> int:
    """How many of this person's answers the durable store holds (read by a second client)."""
    store = open_store(namespace_for(sim.url))
    try:
        return len(await store.get_answers(keys_of(row)))
    finally:
        await store.aclose()


@pytest.mark.parametrize("named_by", ["email", "phone", "contact", "linkedin"])
async def test_forget_erases_one_person_and_the_next_lookup_pays_again(
    sim: Simulator,
    monkeypatch: pytest.MonkeyPatch,
    backend: Backend,
    named_by: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Named by an email or phone found, or by name + domain, or by LinkedIn URL alone,
    the person's two answers go from store and memory; the other person's stay."""
    env, open_store = backend
    ada, bob = found_both(f"forget-{named_by}", 2)
    async with function(sim, monkeypatch, env) as http:
        first = await enrich(http, [ada, bob])
        assert await stored(open_store, sim, ada) == 2
        assert await stored(open_store, sim, bob) == 2
        body: dict[str, Any] = {
            "email": {"email": first[0]["email"].upper()},  # as typed, not as found
            "phone": {"phone": "  " + first[0]["phones"][0]["number"].replace(" ", ".")},
            # Her row had a LinkedIn URL too: the index finds her without it.
            "contact": {"contact": {k: ada[k] for k in ("firstname", "lastname", "domain")}},
            "linkedin": {"contact": {"linkedin_url": ada["linkedin_url"]}},
        }[named_by]
        capsys.readouterr()
        forgot = await http.post("/forget", json=body)
        assert forgot.status_code == 200, forgot.text
        assert forgot.json() == {"deleted": 2}
        out = capsys.readouterr().out

        assert await stored(open_store, sim, ada) == 0
        assert await stored(open_store, sim, bob) == 2
        ada_calls, bob_calls = calls_for(sim, ada), calls_for(sim, bob)
        again = await enrich(http, [ada, bob])
        assert calls_for(sim, ada) == ada_calls + 1  # asked Pronto again, paid again
        assert calls_for(sim, bob) == bob_calls  # still answered from what was kept
        assert again[0]["email"] == first[0]["email"]
        assert again[1]["cached"] is True

    # The audit line: that it happened, who asked, how many; nothing about her.
    [audit] = [json.loads(line) for line in out.splitlines() if '"event": "forget"' in line]
    assert audit["severity"] == "NOTICE"
    assert (audit["caller"], audit["deleted"], audit["audit"]) == ("shared token", 2, True)
    assert audit["time"].endswith("+00:00")
    for value in (first[0]["email"], ada["lastname"], ada["linkedin_url"], ada["domain"], TOKEN):
        assert value not in out


async def test_forgetting_someone_never_seen_deletes_nothing(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch, backend: Backend
) -> None:
    """An unknown email answers {"deleted": 0} and leaves everyone else's answers alone."""
    env, open_store = backend
    [ada] = found_both("forget-unknown", 1)
    async with function(sim, monkeypatch, env) as http:
        await enrich(http, [ada])
        forgot = await http.post("/forget", json={"email": "nobody@nowhere.example"})
    assert forgot.status_code == 200
    assert forgot.json() == {"deleted": 0}
    assert await stored(open_store, sim, ada) == 2


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, "Nothing to forget was named."),
        ({"contact": {"firstname": "Ada"}}, "This contact does not say who to forget"),
        ({"contact": "Ada Lovelace"}, '"contact" must be an object.'),
        ({"email": 42}, '"email" must be a string.'),
    ],
    ids=["empty", "name-only", "contact-text", "email-number"],
)
async def test_a_request_that_names_nobody_is_refused_saying_how(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch, body: dict[str, Any], words: str
) -> None:
    """Bodies that name nobody get a 400 whose sentence shows how to name a person."""
    async with function(sim, monkeypatch, {"PRONTO_STORE": "memory"}) as http:
        response = await http.post("/forget", json=body)
    assert response.status_code == 400
    assert words in response.json()["error"]["message"]


async def test_forget_needs_the_token(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without credentials nobody can erase (or probe for) a person: 401."""
    async with function(sim, monkeypatch, {"PRONTO_STORE": "memory"}) as http:
        response = await http.post(
            "/forget", json={"email": "ada@acme.io"}, headers={"Authorization": ""}
        )
    assert response.status_code == 401


async def test_with_the_memory_store_forget_empties_memory(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a durable store the answers live in memory only: forget removes them there."""
    [ada] = found_both("forget-memory", 1)
    async with function(sim, monkeypatch, {"PRONTO_STORE": "memory"}) as http:
        first = await enrich(http, [ada])
        forgot = await http.post("/forget", json={"email": first[0]["email"]})
        assert forgot.json() == {"deleted": 2}
        calls = calls_for(sim, ada)
        await enrich(http, [ada])
        assert calls_for(sim, ada) == calls + 1


async def test_when_the_store_is_down_forget_says_nothing_was_deleted(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A store that cannot be opened: 503 store_unavailable, saying to try again, not "0"."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be")
    env = {"PRONTO_STORE": f"sqlite://{blocker}/store.db"}
    async with function(sim, monkeypatch, env) as http:
        response = await http.post("/forget", json={"email": "ada@acme.io"})
    assert response.status_code == 503
    assert response.json()["error"] == {
        "code": "store_unavailable",
        "message": "The store that keeps answers cannot be reached, so nothing was deleted "
        "from it. Try again in a few minutes; the answers still expire on their own.",
    }
