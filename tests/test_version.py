"""One version, written once (pyproject.toml's `version`) and followed everywhere else:
the package's `__version__`, the User-Agent Pronto sees, and openapi.yaml's `info.version`."""

from __future__ import annotations

import json
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
import yaml

import pronto_sheets
from pronto_sheets import version
from pronto_sheets.enrich.budget import CreditBudget
from pronto_sheets.enrich.contacts import Contact, EnrichmentTypes
from pronto_sheets.enrich.gate import Gate, Priority, Ticket
from pronto_sheets.enrich.pronto_client import ProntoClient
from tests.support.servers import REPO_ROOT

OPENAPI = REPO_ROOT / "function" / "pronto_sheets" / "http" / "openapi.yaml"


def project_version() -> str:
    with (REPO_ROOT / "pyproject.toml").open("rb") as file:
        version = tomllib.load(file)["project"]["version"]
    assert isinstance(version, str)
    return version


def test_the_package_reports_pyproject_s_version() -> None:
    """`pronto_sheets.__version__` is pyproject.toml's version."""
    assert pronto_sheets.__version__ == project_version()


def test_openapi_describes_the_same_version() -> None:
    """openapi.yaml's info.version is pyproject.toml's version: bump them together."""
    spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    assert spec["info"]["version"] == project_version()


def test_a_deployed_function_knows_its_version() -> None:
    """Deployed, nothing is installed and pyproject.toml is not uploaded: the version is
    read from the package's own openapi.yaml, which says the same."""
    assert version._deployed_version() == project_version()


class _Recorder(BaseHTTPRequestHandler):
    """A stand-in Pronto that writes down each call's User-Agent and finds nobody."""

    user_agents: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.user_agents.append(self.headers.get("user-agent", ""))
        body = json.dumps({"status": "error", "message": "Contact not found"}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[str]:
    _Recorder.user_agents = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


async def test_pronto_sees_the_version_in_the_user_agent(recorder: str) -> None:
    """Every call to Pronto says `pronto-sheets/<pyproject's version>` as its User-Agent."""
    client = ProntoClient(
        api_key="key",
        base_url=recorder,
        gate=Gate(50, 5),
        budget=CreditBudget(daily_budget=100, credits_per_type={"email": 1}),
        timeout_s=10,
        retry_attempts=1,
        retry_total_s=10,
    )
    contact = Contact.from_mapping({"firstname": "Ada", "lastname": "Lovelace", "domain": "a.io"})
    try:
        await client.enrich(contact, EnrichmentTypes.parse(["email"]), Ticket(Priority.BATCH))
    finally:
        await client.aclose()
    assert _Recorder.user_agents == [f"pronto-sheets/{project_version()}"]
