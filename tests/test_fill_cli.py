"""`pronto-sheets fill` as a person runs it: a real process, against the Pronto simulator
and the Sheets API emulator (SHEETS_API_BASE_URL set, no Google credentials anywhere)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pronto_sheets.enrich.contacts import EnrichmentTypes
from tests.sheets_fixtures import SheetsEmulator
from tests.support.servers import pronto_sheets_command
from tests.support.stack import Simulator
from tests.test_fill_route import write_service_account_key
from tests.test_sheet_filler import BOTH, expected_cells, padded, person, row_cells

# The emulator's fixtures (until conftest.py imports them for every module).

_GOOGLE_VARIABLES = ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CONFIG")


def run_fill(
    *args: str, sim: Simulator, emulator: SheetsEmulator, **env: str
) -> subprocess.CompletedProcess[str]:
    """`pronto-sheets fill ARGS` with the test servers in its environment."""
    full_env = {k: v for k, v in os.environ.items() if k not in _GOOGLE_VARIABLES}
    full_env.update(
        {
            "SHEETS_API_BASE_URL": emulator.base_url,
            "PRONTO_API_KEY": "sim-key",
            "PRONTO_BASE_URL": sim.url,
            "PYTHONUNBUFFERED": "1",
            "COLUMNS": "200",  # the progress bar on one line, whatever the numbers
            "PRONTO_STORE": "memory",  # never the user's cache directory
            **env,
        }
    )
    return subprocess.run(
        pronto_sheets_command("fill", *args),
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def leads(tag: str, count: int) -> tuple[list[list[Any]], list[dict[str, str]]]:
    """A sheet of `count` people, each with a LinkedIn URL (phones need one)."""
    people = [
        {**person(i, tag), "linkedin_url": f"https://www.linkedin.com/in/{tag}-{i}/"}
        for i in range(count)
    ]
    rows: list[list[Any]] = [["Prénom", "NOM", "Company Website", "LinkedIn"]]
    rows += [[p["firstname"], p["lastname"], p["domain"], p["linkedin_url"]] for p in people]
    return rows, people


FIELDS = ("firstname", "lastname", "domain", "linkedin_url")


def test_fill_shows_progress_and_fills_every_row(
    sim: Simulator, sheets_emulator: SheetsEmulator
) -> None:
    """The CLI fills the sheet, shows rows done of total, found and credits, and sums up."""
    rows, people = leads("cli", 60)
    sid = sheets_emulator.create_spreadsheet({"Leads": rows})

    done = run_fill(sid, "--type", "email,phone", sim=sim, emulator=sheets_emulator)

    assert done.returncode == 0, done.stderr
    wants = [expected_cells({k: p[k] for k in FIELDS}, BOTH) for p in people]
    found = sum(1 for w in wants if w["Pronto status"] == "success")
    credits = sum((3 if w.get("Email") else 0) + (30 if w.get("Phone") else 0) for w in wants)
    assert f"60/60 rows · {found} found · {credits} credits" in done.stderr
    assert re.fullmatch(
        re.escape(
            f'Filled "Leads": 60 rows enriched ({found} found, {60 - found} not found), '
            "0 already filled, 0 duplicates paid once, 0 invalid, 0 failed, 0 over budget; "
            f"{credits} credits, 60 Pronto calls; Sheets: "
        )
        + r"(3 reads, 1 write|4 reads, 2 writes); \d+\.\d s\. Found: \d+ email, \d+ phone\.\n",
        done.stdout,
    ), done.stdout
    grid = padded(sheets_emulator.cells(sid)["rows"], 9, 61)
    for r, want in enumerate(wants, start=1):
        assert row_cells(grid, r, tuple(want)) == want
    stats = sim.stats()  # served: a rare 429 retried is a call, not a payment
    assert (stats["served"], set(stats["by_contact"].values())) == (60, {1})


def test_dry_run_json_calls_nobody_and_writes_nothing(
    sim: Simulator, sheets_emulator: SheetsEmulator
) -> None:
    """--dry-run --json prints the plan as JSON; Pronto sees no call, the sheet no write."""
    rows, _ = leads("clidry", 12)
    sid = sheets_emulator.create_spreadsheet({"Leads": rows})

    plan = run_fill(sid, "--dry-run", "--json", sim=sim, emulator=sheets_emulator)

    assert plan.returncode == 0, plan.stderr
    body = json.loads(plan.stdout)
    assert (body["dry_run"], body["to_enrich"], body["to_call"]) == (True, 12, 12)
    assert body["estimated_credits"] == 36
    assert plan.stderr == ""
    assert sim.stats()["calls"] == 0
    assert sheets_emulator.counters()["writes"] == 0


def test_options_can_come_from_the_environment(
    sim: Simulator, sheets_emulator: SheetsEmulator
) -> None:
    """PRONTO_FILL_SHEET, PRONTO_FILL_TYPE and PRONTO_FILL_MAX_ROWS work like the options."""
    rows, people = leads("clienv", 20)
    sid = sheets_emulator.create_spreadsheet({"Other": [], "Leads": rows})

    done = run_fill(
        sid,
        "--json",
        sim=sim,
        emulator=sheets_emulator,
        PRONTO_FILL_SHEET="Leads",
        PRONTO_FILL_TYPE="phone",
        PRONTO_FILL_MAX_ROWS="5",
    )

    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert (body["sheet"], body["to_enrich"], body["remaining"]) == ("Leads", 5, 15)
    grid = padded(sheets_emulator.cells(sid, "Leads")["rows"], 8, 21)
    phone_only = EnrichmentTypes(("phone",))
    for r, p in enumerate(people[:5], start=1):
        want = expected_cells({k: p[k] for k in FIELDS}, phone_only)
        assert row_cells(grid, r, tuple(want)) == want
    assert grid[0][4:] == ["Phone", "Phone status", "Pronto status", ""]  # no Email column
    assert grid[6][4:] == [""] * 4


def test_an_unshared_sheet_names_the_account_of_the_key_file(
    sim: Simulator, sheets_emulator: SheetsEmulator, tmp_path: Path
) -> None:
    """Refused with one line naming the key file's service account, and exit status 1."""
    rows, _ = leads("clishare", 3)
    sid = sheets_emulator.create_spreadsheet({"Leads": rows})
    sheets_emulator.set_shared(sid, False)
    key = write_service_account_key(
        tmp_path / "sa.json", "filler@acme-sales.iam.gserviceaccount.com"
    )

    refused = run_fill(sid, "--credentials", str(key), sim=sim, emulator=sheets_emulator)

    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr == (
        "Error: Share the spreadsheet with filler@acme-sales.iam.gserviceaccount.com as an "
        "editor (Share button, top right), then run the fill again.\n"
    )
    assert sim.stats()["calls"] == 0


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ["not-an-id"],
            {},
            'Error: "not-an-id" is not a spreadsheet id. A spreadsheet id is the long code',
        ),
        (
            ["1" + "b" * 43],
            {},
            "Error: The spreadsheet was not found: check the id in its URL",
        ),
        (
            ["1" + "b" * 43],
            {"PRONTO_API_KEY": ""},
            "Error: PRONTO_API_KEY is not set: set it to your Pronto API key (or use --dry-run).",
        ),
        (
            ["1" + "b" * 43, "--type", "fax"],
            {},
            "Error: enrichment_type can only contain "
            '"email", "phone", "personal_email", not \'fax\'.',
        ),
    ],
)
def test_refusals_are_one_line_and_exit_1(
    args: list[str],
    env: dict[str, str],
    message: str,
    sim: Simulator,
    sheets_emulator: SheetsEmulator,
) -> None:
    """Each refusal prints one "Error:" line saying what to do, and exits with status 1."""
    refused = run_fill(*args, sim=sim, emulator=sheets_emulator, **env)
    assert refused.returncode == 1
    assert refused.stderr.startswith(message)
    assert refused.stderr.count("\n") == 1


def test_an_unreadable_key_file_says_how_to_get_one(
    sim: Simulator, sheets_emulator: SheetsEmulator, tmp_path: Path
) -> None:
    """Against Google (no SHEETS_API_BASE_URL), a broken key file is refused in one line."""
    key = tmp_path / "key.json"
    key.write_text('{"type": "service_account"}', encoding="utf-8")
    refused = run_fill(
        "1" + "c" * 43,
        "--credentials",
        str(key),
        sim=sim,
        emulator=sheets_emulator,
        SHEETS_API_BASE_URL="",
    )
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"Error: Cannot read the service-account key file {key} (")
    assert refused.stderr.endswith(
        "Download a JSON key for the service account from the Google Cloud console "
        "(IAM > Service accounts > Keys) and pass its path.\n"
    )
