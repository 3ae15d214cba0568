"""`pronto-sheets forget`: erasure from the command line, on a served function or locally.

The remote path calls the function served by functions-framework (tests/support/stack.py)
on 127.0.0.1 with the shared token; the local path opens the SQLite store the CLI's own
commands use. Both print how many stored answers were deleted.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

from pronto_sheets.enrich.cache import answer_key
from pronto_sheets.enrich.contacts import Contact
from pronto_sheets.enrich.subjects import subjects_of
from pronto_sheets.results import Status, TypeResult
from pronto_sheets.settings import DEFAULT_PRONTO_BASE_URL
from pronto_sheets.store.protocol import StoredAnswer
from pronto_sheets.store.selection import namespace_for
from pronto_sheets.store.sqlite import SqliteStore
from pronto_sheets_cli.cli import cli
from pronto_sheets_dev.simulator.outcomes import identity_key
from tests.support.people import people
from tests.support.stack import TOKEN, Function, Simulator


def test_forget_on_a_served_function_deletes_and_the_next_lookup_pays(
    function: Function, sim: Simulator
) -> None:
    """--url and the token: the function forgets the person; asking again reaches Pronto."""
    ada = people(1, "CliForget")[0]
    first = function.enrich([ada])["results"][0]
    assert first["status"] == "success", first
    key = identity_key(ada["firstname"], ada["lastname"], domain=ada["domain"])
    calls = sim.stats()["by_contact"][key]

    done = CliRunner().invoke(
        cli,
        ["forget", "--url", function.url, "--email", first["email"]],
        env={"PRONTO_FUNCTION_TOKEN": TOKEN},
    )
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[-1] == (f"Forgot: 1 stored answer deleted from {function.url}.")
    function.enrich([ada])
    assert sim.stats()["by_contact"][key] == calls + 1


def test_a_wrong_token_is_reported_in_the_functions_words(function: Function) -> None:
    """The function's refusal sentence reaches the person, with exit status 1."""
    done = CliRunner().invoke(
        cli,
        ["forget", "--url", function.url, "--email", "ada@acme.io"],
        env={"PRONTO_FUNCTION_TOKEN": "not-the-token"},
    )
    assert done.exit_code == 1
    assert done.output.startswith("Error: The function refused: ")


def test_forget_on_the_local_store_deletes_from_the_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --url, the person's answers go from the SQLite store this machine uses."""
    path = tmp_path / "store.db"
    ada = Contact.from_mapping({"firstname": "Ada", "lastname": "Lovelace", "domain": "acme.io"})
    found = TypeResult(Status.SUCCESS, value="ada@acme.io")
    key = answer_key(ada.identity(), "email")

    async def keep() -> None:
        store = SqliteStore(path, namespace_for(DEFAULT_PRONTO_BASE_URL))
        subjects = {ada.identity(): sorted(subjects_of(ada, {"email": found}))}
        await store.put_answers({key: StoredAnswer(found, 4e9)}, subjects)
        await store.aclose()

    async def held() -> int:
        store = SqliteStore(path, namespace_for(DEFAULT_PRONTO_BASE_URL))
        try:
            return len(await store.get_answers([key]))
        finally:
            await store.aclose()

    asyncio.run(keep())
    for name in ("PRONTO_BASE_URL", "PRONTO_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    env = {"PRONTO_STORE": f"sqlite://{path}"}
    args = ["forget", "--firstname", "ADA", "--lastname", "lovelace", "--domain", "acme.io"]
    done = CliRunner().invoke(cli, args, env=env)
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[-1] == "Forgot: 1 stored answer deleted from the local store."
    assert asyncio.run(held()) == 0


def test_forget_without_naming_anyone_says_how() -> None:
    """No option naming a person: a usage error listing the ways to name one."""
    done = CliRunner().invoke(cli, ["forget"])
    assert done.exit_code == 2
    assert "Name the person: --email, --phone, --linkedin-url" in done.output
