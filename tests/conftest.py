"""Session-wide real servers: one Pronto simulator and one function served against it.

Tests reset the simulator to the settings they need and use contacts of their own
(names carry the test's id), so the function's cache never leaks one test into another.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import coverage
import pytest
import stamina

# Helpers that assert (tests/support/http_contract.py) get pytest's detailed messages too.
pytest.register_assert_rewrite("tests.support")

from tests.support.firestore import (  # noqa: E402 - after the rewrite hook
    FirestoreEmulator,
    run_firestore_emulator,
)
from tests.support.stack import (  # noqa: E402 - after the rewrite hook
    Function,
    Simulator,
    run_function,
    run_simulator,
)

# The Sheets API emulator's fixtures (sheets_emulator, emulated_gspread, ...), and the
# check that fails the run when a process a test started outlives the session.
pytest_plugins = ["tests.sheets_fixtures", "tests.support.leftovers"]

LOG_DIR = Path(__file__).resolve().parent / "artifacts" / "logs"


@pytest.fixture(autouse=True)
def _untraced_when_timing(request: pytest.FixtureRequest) -> Iterator[None]:
    """A `timing` test runs with coverage's tracer paused in this process (not its lines)."""
    measuring = coverage.Coverage.current()
    if measuring is None or not request.node.get_closest_marker("timing"):
        yield
        return
    measuring.stop()
    try:
        yield
    finally:
        measuring.start()


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


@pytest.fixture
def firestore_emulator(tmp_path: Path) -> Iterator[FirestoreEmulator]:
    """A Firestore emulator of this test's own (empty), on 127.0.0.1."""
    with run_firestore_emulator(tmp_path / "logs") as emulator:
        yield emulator
