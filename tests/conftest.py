"""Session-wide real servers: one Pronto simulator and one function served against it.

Tests reset the simulator to the settings they need and use contacts of their own
(names carry the test's id), so the function's cache never leaks one test into another.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import stamina

# Helpers that assert (tests/support/http_contract.py) get pytest's detailed messages too.
pytest.register_assert_rewrite("tests.support")

from tests.support.stack import (  # noqa: E402 - after the rewrite hook
    Function,
    Simulator,
    run_function,
    run_simulator,
)

# The Sheets API emulator's fixtures (sheets_emulator, emulated_gspread, ...).
pytest_plugins = ["tests.sheets_fixtures"]

LOG_DIR = Path(__file__).resolve().parent / "artifacts" / "logs"

# Tests in modules kept by others that measure a retry's wait itself (see real_backoff).
_MEASURE_WAITS = ("tests/test_pronto_client.py::test_429_waits_as_long_as_retry_after_says",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.split("[")[0] in _MEASURE_WAITS:
            item.add_marker(pytest.mark.real_backoff)


@pytest.fixture(autouse=True)
def _retries_do_not_wait(request: pytest.FixtureRequest) -> Iterator[None]:
    """stamina's testing mode: the same attempts, no waits between them.

    Not for a test that measures the waits (marked `real_backoff`, or using test_sheets_
    client's `waits` recorder). Processes the tests start retry as in production.
    """
    if request.node.get_closest_marker("real_backoff") or "waits" in request.fixturenames:
        yield
        return
    with stamina.set_testing(True, attempts=1_000_000, cap=True):
        yield


@pytest.fixture(scope="session")
def simulator() -> Iterator[Simulator]:
    with run_simulator(LOG_DIR, "--latency-ms", "0") as sim:
        yield sim


@pytest.fixture
def sim(simulator: Simulator) -> Simulator:
    """The session simulator, reset to quiet defaults (no latency, no faults)."""
    simulator.reset()
    return simulator


@pytest.fixture(scope="session")
def function(simulator: Simulator) -> Iterator[Function]:
    with run_function(LOG_DIR, simulator.url) as served:
        yield served
