"""The HTTP contract, in process: every status and error code of docs/http-api.md (openapi.yaml).

The function runs in this process (functions-framework's ASGI app for function/main.py,
called through httpx.ASGITransport), against the Pronto simulator on 127.0.0.1. The same
refusal table also runs against the served function in tests/test_openapi.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from pronto_sheets.enrich.engine import Enricher
from pronto_sheets.settings import SettingsError
from tests.support.http_contract import (
    AUTH,
    AWKWARD,
    NEEDS_A_COMPANY,
    REFUSALS,
    assert_documented,
)
from tests.support.in_process import build_app, serving
from tests.support.people import expected, observed, people
from tests.support.stack import SIM_KEY, TOKEN, Simulator

OLD_TOKEN = "old-token-rotating-out"


def function_env(sim: Simulator, **extra: str) -> dict[str, str]:
    """The settings of tests/support/stack.py's served function, for the in-process one."""
    return {
        "PRONTO_API_KEY": SIM_KEY,
        "PRONTO_BASE_URL": sim.url,
        "PRONTO_SHEETS_TOKENS": f"{OLD_TOKEN},{TOKEN}",
        "PRONTO_DAILY_CREDIT_BUDGET": "100000000",
        **extra,
    }


@pytest.fixture
async def client(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    """The in-process function with the served function's settings; no credentials sent."""
    async with serving(monkeypatch, function_env(sim)) as http:
        yield http


def _log_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


@pytest.mark.parametrize(
    ("method", "path", "authorization", "body", "status", "code", "words"),
    REFUSALS,
    ids=[f"{m} {p} {s} {c}: {w[:32]}" for m, p, _, _, s, c, w in REFUSALS],
)
async def test_refusals_carry_their_status_code_and_sentence(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    authorization: str | None,
    body: bytes,
    status: int,
    code: str,
    words: str,
) -> None:
    """Each refusal of the table: its status, its code, a sentence saying what to do."""
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = f"Bearer {TOKEN}" if authorization == AUTH else authorization
    response = await client.request(method, path, content=body, headers=headers)
    assert response.status_code == status, response.text
    error = assert_documented(response, path, method)["error"]
    assert error["code"] == code
    assert words in error["message"]
    if status == 405:
        assert response.headers["allow"] == ("GET, HEAD" if path == "/healthz" else "POST")


@pytest.mark.parametrize(
    ("what", "body", "status", "outcome"), AWKWARD, ids=[a[0] for a in AWKWARD]
)
async def test_awkward_input_never_gets_a_5xx(
    client: httpx.AsyncClient, what: str, body: bytes, status: int, outcome: str
) -> None:
    """Lone surrogates, deep nesting and broken URLs are answered as documented."""
    response = await client.post(
        "/enrich", content=body, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == status, response.text
    answer = assert_documented(response, "/enrich", "POST")
    if status == 200:
        assert answer["results"][0]["status"] == outcome
        if outcome == "invalid":
            assert answer["results"][0]["message"] == NEEDS_A_COMPANY
    else:
        assert answer["error"]["code"] == outcome


FIELD_REFUSALS: list[tuple[dict[str, Any], str, str]] = [
    # body (besides one good contact), code, words in the message
    (
        {"enrichment_type": ["fax"]},
        "invalid_field",
        'can only contain "email", "phone", "personal_email"',
    ),
    ({"enrichment_type": {"email": True}}, "invalid_field", "must be a list"),
    ({"enrichment_type": []}, "invalid_field", "enrichment_type is empty"),
    ({"priority": "urgent"}, "invalid_field", 'priority must be "interactive"'),
    ({"priority": 1}, "invalid_field", 'priority must be "interactive"'),
    ({"timeout_s": -1}, "invalid_field", "timeout_s must be a number of seconds between 0 and"),
    ({"timeout_s": 0}, "invalid_field", "timeout_s must be"),
    ({"timeout_s": 3601}, "invalid_field", "timeout_s must be"),
    ({"timeout_s": True}, "invalid_field", "timeout_s must be"),
    ({"timeout_s": "5"}, "invalid_field", "timeout_s must be"),
    ({"contacts": [{"firstname": "Ada"}, 7]}, "invalid_contacts", "Contact #2 is not an object"),
    ({"contacts": [{"firstname": True}]}, "invalid_contacts", "Contact #1: A contact field is"),
    ({"contacts": [{"lastname": ["x"]}]}, "invalid_contacts", "Contact #1: A contact field is"),
    ({"contacts": None}, "invalid_contacts", 'as "contacts": a list of objects'),
]


@pytest.mark.parametrize(
    ("fields", "code", "words"),
    FIELD_REFUSALS,
    ids=[f"{c}: {w[:30]}" for _, c, w in FIELD_REFUSALS],
)
async def test_malformed_fields_are_400_naming_the_field(
    client: httpx.AsyncClient, fields: dict[str, Any], code: str, words: str
) -> None:
    """A wrong enrichment_type, priority, timeout_s or contact is a 400 that names it."""
    body = {"contacts": people(1, "fields"), **fields}
    response = await client.post("/enrich", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 400, response.text
    error = assert_documented(response, "/enrich", "POST")["error"]
    assert (error["code"], words in error["message"]) == (code, True), error


async def test_an_oversize_body_without_a_length_is_refused_while_streaming(
    client: httpx.AsyncClient,
) -> None:
    """A chunked body past 5 MB is cut off at the limit with 413, not read whole."""
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(12):  # 12 MB if it were all read
            sent += 1
            yield b" " * (1024 * 1024)

    response = await client.post(
        "/enrich", content=chunks(), headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert "larger than 5 MB" in response.json()["error"]["message"]


async def test_enrich_answers_rows_in_order_for_either_token(
    client: httpx.AsyncClient, sim: Simulator
) -> None:
    """Both rotated tokens are accepted; each row holds the simulator's answer, in order."""
    contacts = people(6, "in-process")
    for token in (OLD_TOKEN, TOKEN):
        response = await client.post(
            "/enrich", json={"contacts": contacts}, headers={"Authorization": f"Bearer {token}"}
        )
        body = assert_documented(response, "/enrich", "POST")
        assert [observed(row) for row in body["results"]] == [expected(c) for c in contacts]
    assert sim.stats()["calls"] == 6  # the second pass came from the cache
    assert body["stats"]["cache_hits"] == 6


async def test_healthz_needs_no_credentials_and_head_is_allowed(
    client: httpx.AsyncClient,
) -> None:
    """GET and HEAD /healthz answer 200 without a token; the body says what is configured."""
    health = await client.get("/healthz")
    assert assert_documented(health, "/healthz", "GET") == {
        "ok": True,
        "pronto_key_configured": True,
        "callers_configured": True,
        "credits_per_email": 3,
        "credits_per_phone": 30,
        "credits_per_personal_email": 30,
        "enrichment_types": ["email", "phone", "personal_email"],
        "async_lane": False,
        **{k: health.json()[k] for k in ("store", "store_status", "store_message")},
    }
    assert health.json()["store_status"] == "ok"
    head = await client.head("/healthz")
    assert head.status_code == 200
    slash = await client.get("/healthz/")
    assert slash.status_code == 200


@pytest.mark.parametrize("method", ["PATCH", "OPTIONS"])
async def test_other_methods_get_405_with_allow(client: httpx.AsyncClient, method: str) -> None:
    """PATCH or OPTIONS on /enrich: 405, with the Allow header naming POST."""
    response = await client.request(method, "/enrich")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["error"]["code"] == "method_not_allowed"


async def test_every_request_logs_one_line_without_secrets(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """One JSON line per request: route, caller kind, status; never a token, key or name."""
    contacts = people(2, "log-line")
    await client.post(
        "/enrich", json={"contacts": contacts}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    await client.post(
        "/enrich", json={"contacts": []}, headers={"Authorization": "Bearer guess-123"}
    )
    await client.get("/elsewhere")
    out = capsys.readouterr().out
    lines = _log_lines(out)
    assert [(x["route"], x["caller"], x["status"]) for x in lines] == [
        ("/enrich", "token", 200),
        ("/enrich", "none", 401),
        ("(unknown)", "none", 404),
    ]
    assert lines[0]["contacts"] == 2
    assert lines[0]["severity"] == "INFO"
    for secret in (TOKEN, "guess-123", SIM_KEY, contacts[0]["lastname"]):
        assert secret not in out


async def test_an_unexpected_error_is_a_plain_500_without_details(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug inside the enrichment answers 500 "internal" with no stack trace or secret."""

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError(f"boom with {SIM_KEY}")

    monkeypatch.setattr(Enricher, "enrich", broken)
    response = await client.post(
        "/enrich",
        json={"contacts": people(1, "boom")},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "code": "internal",
            "message": "Something went wrong on our side. Try again in a minute.",
        }
    }
    assert SIM_KEY not in response.text
    out = capsys.readouterr().out
    error, line = _log_lines(out)
    assert (line["severity"], line["status"], line["route"]) == ("ERROR", 500, "/enrich")
    # The exception by type and place only: its message (here, the key) stays out.
    assert (error["severity"], error["error_type"]) == ("ERROR", "builtins.RuntimeError")
    assert re.fullmatch(r"http/routes\.py:\d+ in _enrich", error["where"])  # our last frame
    assert error["request_id"] == line["request_id"]
    assert SIM_KEY not in out and "boom" not in out


async def test_without_callers_configured_every_call_is_refused(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No token and no Google audience: 401 auth_not_configured, naming the variables."""
    async with serving(monkeypatch, function_env(sim, PRONTO_SHEETS_TOKENS="")) as http:
        answer = await http.post(
            "/enrich", json={"contacts": []}, headers={"Authorization": "Bearer x"}
        )
        health = await http.get("/healthz")
    assert answer.status_code == 401
    error = answer.json()["error"]
    assert error["code"] == "auth_not_configured"
    assert "Set PRONTO_SHEETS_TOKENS" in error["message"]
    assert health.json()["callers_configured"] is False


async def test_without_a_pronto_key_rows_fail_saying_so(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No PRONTO_API_KEY: healthz says so, and rows are `failed` naming the variable."""
    env = function_env(sim, PRONTO_API_KEY="")
    async with serving(monkeypatch, env, token=TOKEN) as http:
        health = (await http.get("/healthz")).json()
        body = (await http.post("/enrich", json={"contacts": people(1, "no-key")})).json()
    assert health["pronto_key_configured"] is False
    assert body["results"][0]["status"] == "failed"
    assert "PRONTO_API_KEY" in body["results"][0]["message"]
    assert sim.stats()["calls"] == 0


def test_a_malformed_setting_stops_the_app_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PRONTO_MAX_IN_FLIGHT=0 fails when the app is built, with the variable's name."""
    with pytest.raises(SettingsError, match="PRONTO_MAX_IN_FLIGHT must be at least 1"):
        build_app(monkeypatch, {"PRONTO_MAX_IN_FLIGHT": "0"})
