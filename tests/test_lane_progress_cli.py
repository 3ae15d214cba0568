"""`pronto-sheets fill` on the async lane (PRONTO_PUBLIC_URL set) as a person watches it: a
real process whose progress bar says, while it runs, how many rows wait for Pronto's
answer and, once sent, how many requests went to Pronto; the sync lane's bar is unchanged."""

from __future__ import annotations

import re
from pathlib import Path

from tests.sheets_fixtures import SheetsEmulator
from tests.support.servers import ServedProcess, free_port
from tests.support.stack import FAST_FUNCTION_ENV, Simulator
from tests.test_async_lane import (
    SECRET,
    assert_every_row_right,
    async_expected,
    async_sim,  # noqa: F401  (a fixture: the simulator's async knobs, quiet again after)
    people_sheet,
    serve_async_function,
)
from tests.test_fill_cli import run_fill

# Rich's cursor moves and colours, taken out to read the bar's frames as text.
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def test_an_async_cli_fill_shows_rows_waiting_for_pronto_then_rows_sent(
    async_sim: Simulator,  # noqa: F811
    sheets_emulator: SheetsEmulator,
    tmp_path: Path,
) -> None:
    """While Pronto works the bar says "20 waiting for Pronto"; at the end it says 20 sent to
    Pronto and 0 waiting, every row is right, and each contact was submitted once."""
    # Answers take 1.5 s: the bar is drawn (10 frames a second) while all 20 are on their way.
    async_sim.configure(async_latency_ms=1500)
    rows, people = people_sheet("cli-lane", 20)
    sid = sheets_emulator.create_spreadsheet({"Leads": rows})
    # The public URL is a port nobody serves: no webhook arrives, and polling
    # GET /v2/contacts/{id} brings every answer (a laptop's CLI run with the setting on).
    nobody = free_port()

    done = run_fill(
        sid,
        sim=async_sim,
        emulator=sheets_emulator,
        PRONTO_PUBLIC_URL=f"http://127.0.0.1:{nobody}",
        PRONTO_WEBHOOK_SECRET=SECRET,
        PRONTO_STORE=f"sqlite://{tmp_path / 'store.db'}",
        PRONTO_ASYNC_POLL_AFTER_S="1",
        TTY_COMPATIBLE="1",  # rich draws its live bar as in a terminal
        **FAST_FUNCTION_ENV,
    )

    assert done.returncode == 0, done.stderr
    frames = ANSI.sub("", done.stderr)
    found = sum(1 for p in people if async_expected(p)["Pronto status"] == "success")
    assert re.search(r"0/20 rows · 0 found · 20 waiting for Pronto · 0 credits", frames), frames
    assert re.search(
        rf"20/20 rows · {found} found · 20 sent to Pronto · 0 waiting for Pronto · \d+ credits",
        frames,
    ), frames
    assert "Async lane: 20 sent to Pronto" in done.stdout, done.stdout
    assert_every_row_right(sheets_emulator, sid, people)
    lane = async_sim.stats()["async"]
    assert (lane["submitted"], set(lane["submitted_by_contact"].values())) == (20, {1})


def test_a_sync_cli_fill_bar_says_nothing_of_the_async_lane(
    sim: Simulator, sheets_emulator: SheetsEmulator
) -> None:
    """Without a public URL the bar shows rows, found and credits only, as it always did."""
    rows, people = people_sheet("cli-sync-lane", 5)
    sid = sheets_emulator.create_spreadsheet({"Leads": rows})

    done = run_fill(sid, sim=sim, emulator=sheets_emulator)

    assert done.returncode == 0, done.stderr
    found = sum(1 for p in people if async_expected(p)["Pronto status"] == "success")
    assert re.search(rf"5/5 rows · {found} found · \d+ credits", done.stderr), done.stderr
    assert "sent to Pronto" not in done.stderr and "waiting for Pronto" not in done.stderr


def test_a_cli_fill_beside_the_function_takes_the_answers_the_function_settled(
    async_sim: Simulator,  # noqa: F811
    sheets_emulator: SheetsEmulator,
    sheets_emulator_process: ServedProcess,
    tmp_path: Path,
) -> None:
    """A fill job beside the deployed function (one store; Pronto's webhooks reach the
    function, not the job) ends with every row right, reading what the function settled,
    and nothing is submitted twice."""
    rows, people = people_sheet("cli-beside", 10)
    sid = sheets_emulator.create_spreadsheet({"Leads": rows})
    store = tmp_path / "store.db"
    port = free_port()
    with serve_async_function(port, async_sim, sheets_emulator_process, store):
        done = run_fill(
            sid,
            sim=async_sim,
            emulator=sheets_emulator,
            PRONTO_PUBLIC_URL=f"http://127.0.0.1:{port}",
            PRONTO_WEBHOOK_SECRET=SECRET,
            PRONTO_STORE=f"sqlite://{store}",
            **FAST_FUNCTION_ENV,
        )

    assert done.returncode == 0, done.stderr
    assert_every_row_right(sheets_emulator, sid, people)
    lane = async_sim.stats()["async"]
    assert (lane["submitted"], set(lane["submitted_by_contact"].values())) == (10, {1})
    # Every answer came by webhook to the function: the job never had to ask Pronto again.
    assert lane["polls"]["finished"] == 0, lane["polls"]
