"""Fidelity of the Sheets API emulator, measured against Google itself.

1. Replay: gspread's own test suite recorded real Google answers (tests/data/
   gspread-cassettes.tar.xz, MIT). Every cassette that works with cell values is replayed request
   by request against the emulator; status codes and JSON bodies must match, ids aside.
2. Schema: every 2xx JSON answer the emulator gives during the replays, and one answer of
   each values method, must validate against Google's discovery documents.

Which cassettes are "values-related" (the rule, applied by discovery so new cassettes join
automatically): the cassette sends at least one `/values` request, and none of its
`spreadsheets.batchUpdate` requests is a presentation-only kind (formats, borders, column
widths, notes, validation, protection, filters, row groups, hidden rows). The emulator keeps
values and the grid, not presentation; those cassettes test Sheets features this project
never touches. (gspread's WorksheetTest.setUp clears each sheet, which is why almost every
cassette touches `/values`.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import httpx
import jsonschema
import pytest

from tests.support.recorded import recorded_dir

if TYPE_CHECKING:
    from tests.sheets_fixtures import SheetsEmulator

# The emulator fixtures (one served process per session), whether or not conftest imports them.

# Kept in the repository (tests/data, compressed), so a fresh clone needs nothing beside it.
CASSETTE_DIR = recorded_dir("gspread-cassettes")
DISCOVERY_DIR = recorded_dir("google-discovery")

PRESENTATION_REQUESTS = frozenset(
    {
        "repeatCell",
        "updateCells",  # gspread uses it for notes
        "updateBorders",
        "autoResizeDimensions",
        "updateDimensionProperties",
        "addDimensionGroup",
        "deleteDimensionGroup",
        "setDataValidation",
        "addProtectedRange",
        "deleteProtectedRange",
        "setBasicFilter",
        "clearBasicFilter",
        "addConditionalFormatRule",
    }
)

# What the comparison ignores, and why. Everything else must be equal.
IGNORED_KEYS = {
    "defaultFormat": "the account's default cell look (cosmetic)",
    "spreadsheetTheme": "the account's theme colors and font (cosmetic)",
    "timeZone": "the account's time zone setting",
    "locale": "the account's locale setting",
    "createdTime": "Drive timestamps come from the clock",
    "modifiedTime": "Drive timestamps come from the clock",
}
# Drive file resources carry owners, permissions, links, etags and dates of the recording
# account; only what identifies the file is compared.
DRIVE_FILE_KEYS = ("kind", "id", "name", "title", "mimeType")
# Ids Google chose at random during the recording, learned from each answer and mapped.
ID_KEYS = ("spreadsheetId", "id", "sheetId", "namedRangeId")
REQUEST_ID_KEYS = ("sheetId", "sourceSheetId", "newSheetId", "namedRangeId")


def _interactions(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text(encoding="utf-8"))["interactions"])


def _batch_update_kinds(interactions: list[dict[str, Any]]) -> set[str]:
    kinds: set[str] = set()
    for interaction in interactions:
        request = interaction["request"]
        path = urlsplit(request["uri"]).path
        if path.endswith(":batchUpdate") and "/values" not in path and request["body"]:
            for item in json.loads(request["body"]).get("requests", []):
                kinds.update(item)
    return kinds


def exclusion_reason(path: Path) -> str | None:
    """Why a cassette is not replayed, or None when it is values-related."""
    interactions = _interactions(path)
    if not any("/values" in urlsplit(i["request"]["uri"]).path for i in interactions):
        return "never touches /values"
    presentation = _batch_update_kinds(interactions) & PRESENTATION_REQUESTS
    if presentation:
        return "presentation requests: " + ", ".join(sorted(presentation))
    return None


def values_cassettes() -> list[Path]:
    return [p for p in sorted(CASSETTE_DIR.glob("*.json")) if exclusion_reason(p) is None]


# -- discovery schemas --------------------------------------------------------------------------


def _json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A discovery schema as JSON Schema; objects reject keys the discovery doc lacks."""
    if "$ref" in schema:
        return {"$ref": f"#/$defs/{schema['$ref']}"}
    kind = schema.get("type")
    if kind == "object":
        out: dict[str, Any] = {
            "type": "object",
            "properties": {k: _json_schema(v) for k, v in schema.get("properties", {}).items()},
        }
        extra = schema.get("additionalProperties")
        out["additionalProperties"] = _json_schema(extra) if extra else False
        return out
    if kind == "array":
        return {"type": "array", "items": _json_schema(schema.get("items", {}))}
    if kind == "string":
        out = {"type": "string"}
        if "enum" in schema:
            out["enum"] = schema["enum"]
        return out
    if kind in ("integer", "number", "boolean"):
        return {"type": kind}
    return {}  # "any"


@cache
def _discovery(name: str) -> dict[str, Any]:
    return dict(json.loads((DISCOVERY_DIR / name).read_text(encoding="utf-8")))


def _methods(resource: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from resource.get("methods", {}).values()
    for child in resource.get("resources", {}).values():
        yield from _methods(child)


@cache
def _method_table() -> list[tuple[str, re.Pattern[str], str, str]]:
    """(http method, path regex, response schema name, discovery file) for every method."""
    table = []
    for name in ("sheets.v4.json", "drive.v3.json"):
        doc = _discovery(name)
        prefix = doc["servicePath"]
        for method in _methods(doc):
            if "response" not in method:
                continue
            path = prefix + method.get("flatPath", method["path"])
            pattern = re.escape(path)
            pattern = re.sub(r"\\\{range\\\}", ".+", pattern)
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", pattern)
            table.append(
                (
                    method["httpMethod"],
                    re.compile(f"^/?{pattern}$"),
                    method["response"]["$ref"],
                    name,
                )
            )
    return table


@cache
def _validator(discovery: str, schema_name: str) -> jsonschema.protocols.Validator:
    doc = _discovery(discovery)
    schema = {
        "$ref": f"#/$defs/{schema_name}",
        "$defs": {name: _json_schema(s) for name, s in doc["schemas"].items()},
    }
    return jsonschema.Draft202012Validator(schema)


def schema_errors(method: str, path: str, body: Any) -> list[str] | None:
    """Discovery-schema violations of an answer, or None when no method matches the path."""
    for http_method, pattern, schema_name, discovery in _method_table():
        if http_method == method and pattern.match(unquote(path).lstrip("/")):
            validator = _validator(discovery, schema_name)
            return [
                f"{schema_name}: {'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in validator.iter_errors(body)
            ]
    return None


# -- replay -------------------------------------------------------------------------------------


class IdMap:
    """Recorded ids (chosen by Google) and the ones the emulator chose instead."""

    def __init__(self) -> None:
        self.strings: dict[str, str] = {}
        self.numbers: dict[int, int] = {}

    def learn(self, recorded: Any, actual: Any) -> None:
        """Walk a recorded answer and the emulator's side by side, pairing their ids."""
        if isinstance(recorded, dict) and isinstance(actual, dict):
            for key, value in recorded.items():
                if key not in actual:
                    continue
                if key in ID_KEYS and type(value) is type(actual[key]):
                    if isinstance(value, str) and value not in self.strings:
                        self.strings[value] = actual[key]
                    elif isinstance(value, int) and value not in self.numbers:
                        self.numbers[value] = actual[key]
                else:
                    self.learn(value, actual[key])
        elif isinstance(recorded, list) and isinstance(actual, list):
            for a, b in zip(recorded, actual, strict=False):
                self.learn(a, b)

    def to_emulator(self, text: str) -> str:
        for recorded, actual in self.strings.items():
            text = text.replace(recorded, actual)
        return text

    def request_body(self, body: str) -> str:
        text = self.to_emulator(body)
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            return text

        def walk(value: Any) -> Any:
            if isinstance(value, dict):
                return {
                    k: self.numbers.get(v, v)
                    if k in REQUEST_ID_KEYS and isinstance(v, int)
                    else walk(v)
                    for k, v in value.items()
                }
            if isinstance(value, list):
                return [walk(v) for v in value]
            return value

        return json.dumps(walk(parsed))

    def to_recorded(self, value: Any, key: str = "") -> Any:
        """The emulator's answer with its ids replaced by the recorded ones."""
        if isinstance(value, dict):
            return {k: self.to_recorded(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.to_recorded(v, key) for v in value]
        if isinstance(value, int) and key in ID_KEYS:
            back = {v: k for k, v in self.numbers.items()}
            return back.get(value, value)
        if isinstance(value, str):
            for recorded, actual in self.strings.items():
                value = value.replace(actual, recorded)
        return value


def comparable(value: Any) -> Any:
    """An answer without the fields IGNORED_KEYS lists; Drive files cut to DRIVE_FILE_KEYS."""
    if isinstance(value, dict):
        if value.get("kind") == "drive#file":
            value = {k: v for k, v in value.items() if k in DRIVE_FILE_KEYS}
        return {k: comparable(v) for k, v in value.items() if k not in IGNORED_KEYS}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return value


def _header(headers: dict[str, list[str]], name: str) -> str | None:
    for key, values in headers.items():
        if key.lower() == name.lower() and values:
            return values[0]
    return None


def replay(path: Path, emulator: SheetsEmulator) -> None:
    ids = IdMap()
    with httpx.Client(base_url=emulator.base_url, timeout=30.0) as http:
        for number, interaction in enumerate(_interactions(path)):
            request, recorded = interaction["request"], interaction["response"]
            parts = urlsplit(request["uri"])
            target = ids.to_emulator(parts.path + (f"?{parts.query}" if parts.query else ""))
            body = ids.request_body(request["body"]) if request["body"] else None
            headers = {}
            if content_type := _header(request["headers"], "Content-Type"):
                headers["Content-Type"] = content_type
            answer = http.request(
                request["method"],
                target,
                content=body.encode("utf-8") if body is not None else None,
                headers=headers,
            )
            where = f"{path.stem} #{number}: {request['method']} {unquote(request['uri'])}"
            assert answer.status_code == recorded["status"]["code"], f"{where}\n{answer.text}"
            expected_text = recorded["body"]["string"]
            try:
                expected = json.loads(expected_text)
            except json.JSONDecodeError:
                assert answer.text == expected_text, where
                continue
            actual = answer.json()
            ids.learn(expected, actual)
            assert comparable(ids.to_recorded(actual)) == comparable(expected), where
            if 200 <= answer.status_code < 300:
                problems = schema_errors(request["method"], urlsplit(str(answer.url)).path, actual)
                assert not problems, f"{where}\n" + "\n".join(problems or [])


# -- tests --------------------------------------------------------------------------------------


def test_the_shared_cassettes_and_discovery_documents_are_present() -> None:
    """The fidelity checks refuse to pass vacuously when the recorded data is missing."""
    assert CASSETTE_DIR.is_dir(), f"missing {CASSETTE_DIR}"
    assert (DISCOVERY_DIR / "sheets.v4.json").is_file(), f"missing {DISCOVERY_DIR}"
    assert len(values_cassettes()) >= 74


def test_only_presentation_or_value_free_cassettes_are_left_out() -> None:
    """Every cassette left out either never touches /values or tests presentation features."""
    reasons = {p.stem: exclusion_reason(p) for p in sorted(CASSETTE_DIR.glob("*.json"))}
    left_out = {name: why for name, why in reasons.items() if why is not None}
    assert all(
        why == "never touches /values" or why.startswith("presentation requests: ")
        for why in left_out.values()
    )
    assert "WorksheetTest.test_format" in left_out
    assert reasons["WorksheetTest.test_update_and_get"] is None
    assert reasons["WorksheetTest.test_append_row_with_empty_value_and_table_range"] is None


@pytest.mark.parametrize("cassette", values_cassettes(), ids=lambda p: p.stem)
def test_replaying_recorded_google_traffic_gets_googles_answers(
    cassette: Path, sheets_emulator: SheetsEmulator
) -> None:
    """Each recorded request gets the status and JSON body Google gave, ids aside."""
    replay(cassette, sheets_emulator)


def test_spreadsheets_create_and_get_answer_in_the_discovery_schema(
    sheets_emulator: SheetsEmulator,
) -> None:
    """spreadsheets.create makes the sheets asked for; create and get answer valid bodies."""
    body = {
        "properties": {"title": "Leads"},
        "sheets": [
            {"properties": {"title": "Q3", "gridProperties": {"rowCount": 5, "columnCount": 3}}}
        ],
    }
    with httpx.Client(base_url=sheets_emulator.base_url) as http:
        created = http.post("/v4/spreadsheets", json=body)
        assert created.status_code == 200
        assert schema_errors("POST", "/v4/spreadsheets", created.json()) == []
        book = created.json()["spreadsheetId"]
        fetched = http.get(f"/v4/spreadsheets/{book}")
    assert schema_errors("GET", f"/v4/spreadsheets/{book}", fetched.json()) == []
    assert fetched.json()["properties"]["title"] == "Leads"
    assert [s["properties"] for s in fetched.json()["sheets"]] == [
        {
            "sheetId": 0,
            "title": "Q3",
            "index": 0,
            "sheetType": "GRID",
            "gridProperties": {"rowCount": 5, "columnCount": 3},
        }
    ]


def test_every_values_method_answers_in_the_discovery_schema(
    sheets_emulator: SheetsEmulator,
) -> None:
    """get, batchGet, update, batchUpdate, append, clear and batchClear answer valid bodies."""
    book = sheets_emulator.create_spreadsheet({"Sheet1": [["a", "b"], ["1", "2"]]})
    base = f"/v4/spreadsheets/{book}"
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", f"{base}/values/Sheet1!A1:B2", None),
        (
            "GET",
            f"{base}/values/Sheet1!A1:B2?majorDimension=COLUMNS&valueRenderOption=FORMULA",
            None,
        ),
        ("GET", f"{base}/values:batchGet?ranges=A1:B1&ranges=Sheet1!A2:B", None),
        (
            "PUT",
            f"{base}/values/A3?valueInputOption=RAW&includeValuesInResponse=true",
            {"values": [["x", 3]]},
        ),
        (
            "POST",
            f"{base}/values:batchUpdate",
            {
                "valueInputOption": "USER_ENTERED",
                "includeValuesInResponse": True,
                "data": [
                    {"range": "A5", "values": [["=1+1"]]},
                    {"range": "C1:C2", "values": [[1], [2]]},
                ],
            },
        ),
        (
            "POST",
            f"{base}/values/Sheet1!A1:append?valueInputOption=RAW",
            {"values": [["new", "row"]]},
        ),
        ("POST", f"{base}/values/Sheet1!C1:C2:clear", None),
        ("POST", f"{base}/values:batchClear", {"ranges": ["A5", "Sheet1!B1:B2"]}),
        ("GET", f"{base}?includeGridData=true&ranges=A1:B2", None),
    ]
    with httpx.Client(base_url=sheets_emulator.base_url) as http:
        for method, path, body in calls:
            answer = http.request(method, path, json=body)
            assert answer.status_code == 200, f"{method} {path}: {answer.text}"
            problems = schema_errors(method, urlsplit(path).path, answer.json())
            assert problems == [], f"{method} {path}: {problems}"
