"""Session-wide real servers: one Pronto simulator and one function served against it.

Tests reset the simulator to the settings they need and use contacts of their own
(names carry the test's id), so the function's cache never leaks one test into another.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
