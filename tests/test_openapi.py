"""The OpenAPI document (pronto_sheets/http/openapi.yaml) matches the function as served.

Schemathesis fuzzes POST /enrich and GET /healthz against the function served by
functions-framework and the Pronto simulator: no 5xx, and every answer, accepted or
refused, conforms to the document. POST /fill needs the Sheets emulator to succeed, so
here it only meets requests refused before any call to Google. Explicit cases check each
row status, every kind of refusal, and inputs the fuzzer is unlikely to find.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
import yaml
from jsonschema.validators import Draft202012Validator
from schemathesis.config import SchemathesisConfig

from tests.support.http_contract import (
    AUTH,
    AWKWARD,
    NEEDS_A_COMPANY,
    REFUSALS,
    SPEC,
    SPEC_TEXT,
    assert_documented,
    resolve,
    validator,
)
from tests.support.people import people
from tests.support.stack import Function, Simulator


def _fuzz_config(**generation: Any) -> SchemathesisConfig:
    """Modest and reproducible: the same generated requests on every run, no example database."""
    return SchemathesisConfig.from_dict(
        {
            "seed": 20240607,
            "generation": {
                "max-examples": 30,
                "deterministic": True,
                "database": "none",
                **generation,
            },
            # 413 is how the function refuses more than 1,000 contacts or 5 MB.
            "checks": {
                "negative_data_rejection": {
                    "expected-statuses": ["400", "401", "403", "404", "405", "413"]
                }
            },
        }
    )


# One operation per test function: schemathesis gives its items the function's node id, so
# two operations under one function would share an id (and pytest-xdist would keep one).
fuzzed = schemathesis.openapi.from_dict(yaml.safe_load(SPEC_TEXT), config=_fuzz_config())
fuzzed_enrich = fuzzed.include(path="/enrich")
fuzzed_healthz = fuzzed.include(path="/healthz")
# /fill only with requests the document says are wrong: refused before any call to Google.
fill_refusals = schemathesis.openapi.from_dict(
    yaml.safe_load(SPEC_TEXT), config=_fuzz_config(mode="negative")
).include(path="/fill")
FILL_REQUEST = {"$ref": "#/components/schemas/FillRequest"}
BEFORE_GOOGLE = {400, 401, 405, 413}


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_document_is_valid_openapi_3() -> None:
    """The shipped document passes the OpenAPI 3.1 meta-schema and names the three routes."""
    loaded = schemathesis.openapi.from_dict(yaml.safe_load(SPEC_TEXT))
    loaded.validate()
    assert SPEC["openapi"] == "3.1.0"
    assert sorted(op.ok().label for op in loaded.get_all_operations()) == [
        "GET /healthz",
        "POST /enrich",
        "POST /fill",
        "POST /forget",
        "POST /webhooks/pronto/{secret}",
    ]
    bearer = SPEC["components"]["securitySchemes"]["bearer"]
    assert (bearer["type"], bearer["scheme"]) == ("http", "bearer")
    assert SPEC["paths"]["/healthz"]["get"]["security"] == []


def test_every_reference_resolves_and_every_example_fits() -> None:
    """Each `$ref` points at something, each schema is valid JSON Schema, each example fits it."""
    refs = set(_refs(SPEC))
    assert "#/components/schemas/RowResult" in refs
    for ref in refs:
        assert isinstance(resolve({"$ref": ref}), dict), ref
    for schema in SPEC["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    checked = 0
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {}).get("application/json")
            for name, example in (content or {}).get("examples", {}).items():
                errors = list(validator(content["schema"]).iter_errors(example["value"]))
                assert errors == [], (method, path, name)
                checked += 1
    assert checked == 2


@pytest.fixture(scope="module")
def pending_requests(simulator: Simulator, function: Function) -> Iterator[list[dict[str, Any]]]:
    """Bodies of fuzzed requests answered `pending`; asked again at the end until all are done.

    A `pending` row's lookup goes on after the answer; asking again without `timeout_s`
    joins it, so once every such request is answered in full nothing is left running to
    reach the simulator during a later test.
    """
    simulator.reset()
    bodies: list[dict[str, Any]] = []
    yield bodies
    with function.client() as http:
        for body in bodies:
            again = http.post("/enrich", json={k: v for k, v in body.items() if k != "timeout_s"})
            assert again.status_code == 200, again.text
            assert "pending" not in {row["status"] for row in again.json()["results"]}


@fuzzed_enrich.parametrize()
def test_fuzzed_enrich_requests_get_documented_answers(
    case: schemathesis.Case, function: Function, pending_requests: list[dict[str, Any]]
) -> None:
    """Generated requests, valid or not, never get a 5xx and every answer matches the document."""
    response = case.call_and_validate(
        base_url=function.url, headers={"Authorization": f"Bearer {function.token}"}
    )
    answered = response.json() if response.status_code == 200 else {}
    if any(row["status"] == "pending" for row in answered.get("results", [])):
        pending_requests.append(case.body)


@fuzzed_healthz.parametrize()
def test_fuzzed_healthz_requests_get_documented_answers(
    case: schemathesis.Case, function: Function
) -> None:
    """Generated GET /healthz requests, with any headers, get the documented answer."""
    case.call_and_validate(base_url=function.url)


@fill_refusals.parametrize()
def test_fuzzed_fill_requests_are_refused_as_documented(
    case: schemathesis.Case, function: Function
) -> None:
    """Generated invalid /fill bodies are refused before Google is called, as documented."""
    if case.method.upper() == "POST" and validator(FILL_REQUEST).is_valid(case.body):
        # Negative only in a header (e.g. Content-Type: text/plain): the body would reach Google.
        return
    response = case.call_and_validate(
        base_url=function.url, headers={"Authorization": f"Bearer {function.token}"}
    )
    assert response.status_code in BEFORE_GOOGLE, (case.body, response.text)


def test_enrich_rows_of_every_answered_status_conform(function: Function, sim: Simulator) -> None:
    """success (with phones), not_found, invalid, needs_linkedin and pending rows all match
    the RowResult schema."""
    contacts = people(30, "openapi-statuses", linkedin=True) + people(2, "openapi-bare")
    rows = [*contacts, {"firstname": "Ada", "domain": "acme.io", "custom": {"row": 47}}]
    with function.client() as http:
        response = http.post("/enrich", json={"contacts": rows, "enrichment_type": "email,phone"})
    body = assert_documented(response, "/enrich", "POST")
    results = body["results"]
    assert {row["status"] for row in results[:30]} == {"success", "not_found"}
    assert any(row["phones"] for row in results[:30])
    bare = results[30:32]  # no LinkedIn URL: the phone is not asked, the email still is
    assert {row["types"]["phone"]["status"] for row in bare} == {"needs_linkedin"}
    assert all("Add a LinkedIn URL to look up a phone." in row["message"] for row in bare)
    assert results[32]["status"] == "invalid"
    assert results[32]["message"] == "Add the last name to this row."
    assert results[32]["custom"] == {"row": 47}
    assert body["stats"]["contacts"] == 33
    assert body["stats"]["invalid"] == 1
    assert body["stats"]["needs_linkedin"] == 2

    sim.reset(latency_ms=1500)
    late = people(1, "openapi-pending")
    with function.client() as http:
        first = http.post("/enrich", json={"contacts": late, "timeout_s": 0.05})
        pending = assert_documented(first, "/enrich", "POST")
        # Waits for the lookup still running, so it cannot reach the simulator in a later test.
        done = assert_documented(http.post("/enrich", json={"contacts": late}), "/enrich", "POST")
    assert pending["results"][0]["status"] == "pending"
    assert pending["stats"]["pending"] == 1
    assert done["results"][0]["status"] in {"success", "not_found"}


def test_healthz_conforms(function: Function) -> None:
    """GET /healthz, with no credentials, answers the documented object."""
    body = assert_documented(httpx.get(f"{function.url}/healthz"), "/healthz", "GET")
    assert body == {
        "ok": True,
        "store": "sqlite",
        "store_status": "ok",
        "store_message": None,
        "pronto_key_configured": True,
        "callers_configured": True,
        "credits_per_email": 3,
        "credits_per_personal_email": 30,
        "enrichment_types": ["email", "phone", "personal_email"],
        "credits_per_phone": 30,
        "async_lane": False,
    }


@pytest.mark.parametrize(
    ("method", "path", "authorization", "body", "status", "code", "words"),
    REFUSALS,
    ids=[f"{m} {p} {s} {c}: {w[:32]}" for m, p, _, _, s, c, w in REFUSALS],
)
def test_refusals_match_the_error_schema(
    function: Function,
    method: str,
    path: str,
    authorization: str | None,
    body: bytes,
    status: int,
    code: str,
    words: str,
) -> None:
    """Unauthenticated, wrong-method, malformed and oversize requests get the documented error."""
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = (
            f"Bearer {function.token}" if authorization == AUTH else authorization
        )
    response = httpx.request(
        method, f"{function.url}{path}", content=body, headers=headers, timeout=30
    )
    assert response.status_code == status, response.text
    error = assert_documented(response, path, method)["error"]
    assert error["code"] == code
    assert words in error["message"]
    if status == 405:
        assert response.headers["allow"] == ("GET, HEAD" if path == "/healthz" else "POST")


@pytest.mark.parametrize(
    ("what", "body", "status", "outcome"), AWKWARD, ids=[a[0] for a in AWKWARD]
)
def test_awkward_input_gets_a_documented_answer(
    function: Function, sim: Simulator, what: str, body: bytes, status: int, outcome: str
) -> None:
    """Input the fuzzer seldom generates is answered as documented, never with a 5xx."""
    with function.client() as http:
        response = http.post("/enrich", content=body)
    assert response.status_code == status, response.text
    answer = assert_documented(response, "/enrich", "POST")
    if status == 200:
        assert answer["results"][0]["status"] == outcome
        if outcome == "invalid":
            assert answer["results"][0]["message"] == NEEDS_A_COMPANY
    else:
        assert answer["error"]["code"] == outcome
