"""The HTTP contract as data: what the OpenAPI document promises, and every refusal.

Shared by tests/test_openapi.py (against the served function) and tests/test_routes.py
(in-process), so both check the same table of statuses, codes and sentences.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import httpx
import yaml
from jsonschema.validators import Draft202012Validator

from tests.support.people import expected

SPEC_TEXT = (
    resources.files("pronto_sheets.http").joinpath("openapi.yaml").read_text(encoding="utf-8")
)
SPEC: dict[str, Any] = yaml.safe_load(SPEC_TEXT)


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """`node`, or what its local `$ref` points at."""
    while "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A validator for one schema of the document, its `#/components/...` refs resolvable."""
    return Draft202012Validator(schema | {"components": SPEC["components"]})


def assert_documented(response: httpx.Response, path: str, method: str) -> Any:
    """Check `response` is JSON matching what the document promises for it; return the body."""
    status = str(response.status_code)
    if status == "405":
        documented = SPEC["components"]["responses"]["MethodNotAllowed"]
        for name, header in documented["headers"].items():
            assert not header["required"] or name in response.headers, (name, response.headers)
    elif status == "404" and path not in SPEC["paths"]:
        documented = SPEC["components"]["responses"]["NotFound"]
    else:
        responses = SPEC["paths"][path][method.lower()]["responses"]
        assert status in responses, f"{method} {path} answered {status}, not in the document"
        documented = resolve(responses[status])
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    schema = documented["content"]["application/json"]["schema"]
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator(schema).iter_errors(body)]
    assert errors == [], f"{method} {path} answered {status} off the document: {errors}"
    return body


AUTH = "auth"  # stands for the function's real token in the table below
NO_TOKEN = "No access token was sent. Paste the function's token in Pronto ▸ Settings."
BAD_TOKEN = "The access token is not valid. Copy the current token into Pronto ▸ Settings."
NEEDS_ID = '"spreadsheet_id" is required.'
SHEET_ID = b"1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms"
REFUSALS: list[tuple[str, str, str | None, bytes, int, str, str]] = [
    # method, path, authorization, body, status, code, words in the message
    ("POST", "/enrich", None, b'{"contacts": []}', 401, "unauthenticated", NO_TOKEN),
    ("POST", "/enrich", "Bearer wrong", b'{"contacts": []}', 401, "unauthenticated", BAD_TOKEN),
    ("POST", "/enrich", "Basic dXNlcjpwdw==", b"{}", 401, "unauthenticated", NO_TOKEN),
    ("POST", "/fill", None, b'{"spreadsheet_id": "x"}', 401, "unauthenticated", NO_TOKEN),
    ("POST", "/fill", "Bearer wrong", b'{"spreadsheet_id": "x"}', 401, "unauthenticated",
     BAD_TOKEN),
    ("GET", "/enrich", AUTH, b"", 405, "method_not_allowed", "/enrich only accepts POST"),
    ("PUT", "/enrich", None, b"{}", 405, "method_not_allowed", "/enrich only accepts POST"),
    ("GET", "/fill", AUTH, b"", 405, "method_not_allowed", "/fill only accepts POST"),
    ("DELETE", "/healthz", None, b"", 405, "method_not_allowed", "/healthz only accepts GET"),
    ("POST", "/healthz", None, b"{}", 405, "method_not_allowed", "/healthz only accepts GET"),
    ("GET", "/nowhere", None, b"", 404, "not_found", "Use POST /enrich, POST /fill or GET"),
    ("POST", "/enrich", AUTH, b"{contacts", 400, "malformed_json", "not valid JSON"),
    ("POST", "/enrich", AUTH, b'{"contacts": "Ada"}', 400, "invalid_contacts", '"contacts"'),
    ("POST", "/fill", AUTH, b"{spreadsheet", 400, "malformed_json", "not valid JSON"),
    ("POST", "/fill", AUTH, b'["spreadsheet_id"]', 400, "malformed_json", "a JSON object"),
    ("POST", "/fill", AUTH, b"{}", 400, "invalid_spreadsheet_id", NEEDS_ID),
    ("POST", "/fill", AUTH, b'{"spreadsheet_id": 42}', 400, "invalid_spreadsheet_id", NEEDS_ID),
    ("POST", "/fill", AUTH, b'{"spreadsheet_id": "Leads"}', 400, "invalid_spreadsheet_id",
     '"Leads" is not a spreadsheet id.'),
    ("POST", "/fill", AUTH, b'{"spreadsheet_id": "%s", "tab": "Leads"}' % SHEET_ID, 400,
     "invalid_field", "Unknown field(s): tab."),
    ("POST", "/fill", AUTH, b'{"spreadsheet_id": "%s", "overwrite": "yes"}' % SHEET_ID, 400,
     "invalid_field", '"overwrite" must be true or false.'),
    ("POST", "/fill", AUTH, b'{"spreadsheet_id": "%s", "max_rows": 0}' % SHEET_ID, 400,
     "invalid_field", '"max_rows" must be a whole number of rows, at least 1.'),
    ("POST", "/fill", AUTH, b" " * (6 * 1024 * 1024), 413, "payload_too_large", "than 5 MB"),
    ("POST", "/enrich", AUTH, b'{"contacts": [' + b",".join([b"{}"] * 1001) + b"]}", 413,
     "too_many_contacts", "send at most 1000 per call"),
]  # fmt: skip


NEEDS_A_COMPANY = "Add a company name, a company website or a LinkedIn URL to this row."
AWKWARD: list[tuple[str, bytes, int, str]] = [
    # what, body, status, the row's status (200) or the error code: no 5xx for any of them
    ("domain is a lone [", b'{"contacts": [{"firstname": "Ada", "lastname": "Byron", '
     b'"domain": "["}]}', 200, "invalid"),
    ("linkedin_url is http://[", b'{"contacts": [{"firstname": "Ada", "lastname": "Byron", '
     b'"company_name": "Acme", "linkedin_url": "http://["}]}', 200,
     expected({"firstname": "Ada", "lastname": "Byron", "company_name": "Acme"}).status),
    ("lone surrogate in a name", b'{"contacts": [{"firstname": "\\ud800", "lastname": "Byron", '
     b'"domain": "acme.io"}]}', 400, "malformed_json"),
    ("lone surrogate in custom", b'{"contacts": [{"firstname": "Ada", "lastname": "Byron", '
     b'"domain": "acme.io", "custom": "\\udfff"}]}', 400, "malformed_json"),
    ("JSON nested 100,000 deep", b'{"contacts": [], "x": ' + b"[" * 100_000 + b"]" * 100_000
     + b"}", 400, "malformed_json"),
]  # fmt: skip
