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

# The Sheets API emulator's fixtures (sheets_emulator, emulated_gspread, ...).
pytest_plugins = ["tests.sheets_fixtures"]

LOG_DIR = Path(__file__).resolve().parent / "artifacts" / "logs"

# Tests in modules kept by others that measure a retry's wait itself (see real_backoff).
_MEASURE_WAITS = ("tests/test_pronto_client.py::test_429_waits_as_long_as_retry_after_says",)
# ... and those whose assertions depend on speed (rows per write, requests per second,
# requests arriving together): coverage's tracer would slow them 2-4x and a busy second
# worker would spread them out, so scripts/test.sh runs them alone, untraced.
_TIMING = (
    "tests/test_sheet_filler.py::test_a_big_messy_sheet_is_filled_exactly",
    "tests/test_sheet_filler.py::test_a_cancelled_run_writes_what_it_paid_for_and_the_next_run_finishes",
    "tests/test_sheet_filler.py::test_bursts_of_429_from_sheets_lose_no_write",
    "tests/test_sheet_filler.py::test_a_write_that_keeps_failing_stops_the_run_and_keeps_earlier_writes",
    "tests/test_sheet_filler.py::test_a_row_inserted_mid_run_never_gets_another_rows_result",
    "tests/test_sheet_filler.py::test_a_run_stopped_by_max_rows_continues_where_it_stopped",
    "tests/test_simulator.py::test_requests_past_the_rate_get_429_with_retry_after",
    "tests/test_simulator.py::test_requests_past_max_open_wait_in_a_queue_and_all_succeed",
)


@pytest.hookimpl(tryfirst=True)  # before `-m` selects on these marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        test = item.nodeid.split("[")[0]
        if test in _MEASURE_WAITS:
            item.add_marker(pytest.mark.real_backoff)
        if test in _TIMING:
            item.add_marker(pytest.mark.timing)


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
