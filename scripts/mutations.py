"""Remove each behaviour the product promises, one at a time, and expect a test to fail.

    .venv/bin/python scripts/mutations.py            # every mutation (a few minutes)
    .venv/bin/python scripts/mutations.py --only rawwrites,retryafter
    .venv/bin/python scripts/mutations.py --check    # each snippet still there, once

A test that guards a behaviour must fail when that behaviour is gone. Each mutation below
rewrites one exact snippet of the code (the snippet must exist: a refactor that moves it
makes this script say so, not pass), runs the tests named for it, and restores the file
whatever happens. The table at the end says which mutations the tests killed; the exit
status is 1 when one survived or could not be applied.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "function" / "pronto_sheets"


@dataclass(frozen=True)
class Mutation:
    key: str
    behaviour: str
    path: Path
    old: str
    new: str
    tests: tuple[str, ...]


MUTATIONS = (
    Mutation(
        "retryafter",
        "Retry-After honoured (the retry and the whole gate wait)",
        PACKAGE / "enrich" / "pronto_client.py",
        'retry_after = retry_wait(response.headers.get("Retry-After"))',
        "retry_after = None",
        (
            "tests/test_pronto_client.py::test_retry_after_is_honoured_by_the_retry_and_by_the_whole_gate",
        ),
    ),
    Mutation(
        "closedfortoday",
        "out of credits closes the day's spending",
        PACKAGE / "enrich" / "pronto_client.py",
        "self._budget.close_for_today()",
        "pass",
        (
            "tests/test_pronto_client.py::test_out_of_credits_in_every_form_closes_the_day",
            "tests/test_pronto_rules.py::test_each_out_of_credits_form_stops_the_day_at_once",
        ),
    ),
    Mutation(
        "singleflight",
        "single-flight: a contact already on its way is joined, not asked again",
        PACKAGE / "enrich" / "engine.py",
        "elif key in self._in_flight or self._join_other_lane(identity, wanted_type):",
        "elif self._join_other_lane(identity, wanted_type):",
        ("tests/test_enrich_api.py::test_concurrent_requests_for_one_contact_share_one_call",),
    ),
    Mutation(
        "promotion",
        "priority promotion of a queued lookup an interactive request shares",
        PACKAGE / "enrich" / "engine.py",
        "self.gate.promote(lookup.ticket, request.priority)",
        "pass",
        (
            "tests/test_enrich_api.py::test_an_interactive_request_promotes_the_queued_lookup_it_shares",
        ),
    ),
    Mutation(
        "rawwrites",
        "RAW writes: a value like =HYPERLINK(...) stays text",
        PACKAGE / "sheets" / "worksheet.py",
        '"valueInputOption": "RAW"',
        '"valueInputOption": "USER_ENTERED"',
        ("tests/test_sheet_filler.py::test_values_that_look_like_formulas_are_written_as_text",),
    ),
    Mutation(
        "editedrows",
        "a row edited or moved meanwhile is not written",
        PACKAGE / "sheets" / "writer.py",
        "if self._unchanged(self._snapshots[number], now.get(number, []))",
        "if True",
        ("tests/test_sheet_filler.py::test_a_row_inserted_mid_run_never_gets_another_rows_result",),
    ),
    Mutation(
        "reservation",
        "budget reservation: concurrent calls cannot overshoot",
        PACKAGE / "enrich" / "budget.py",
        "state.pool -= credits",
        "pass",
        (
            "tests/test_cache_and_budget.py::test_budget_reserves_the_worst_case_and_settles_to_the_real_cost",
        ),
    ),
    Mutation(
        "needslinkedin",
        "phone and personal email never sent without a LinkedIn URL",
        PACKAGE / "enrich" / "engine.py",
        "if not contact.can_ask(name):",
        "if False:",
        ("tests/test_pronto_rules.py::test_a_1000_row_fill_never_sends_a_phone_without_linkedin",),
    ),
    Mutation(
        "pertypedone",
        "done is per type: a sheet of emails asked for phones rebuys no email",
        PACKAGE / "sheets" / "cells.py",
        "return tuple(name for name in types if overwrite or not type_done(column_map, row, name))",
        "return tuple(types)",
        ("tests/test_pronto_rules.py::test_phones_added_to_a_sheet_of_emails_rebuy_nothing",),
    ),
    Mutation(
        "consentpause",
        "a consent refusal pauses personal emails (one refused call a minute)",
        PACKAGE / "enrich" / "engine.py",
        "self.consent.refused()",
        "pass",
        (
            "tests/test_pronto_rules.py::"
            "test_without_consent_personal_emails_pause_and_one_call_a_minute_is_refused",
        ),
    ),
    Mutation(
        "keepanswers",
        "an overwrite run never replaces a recorded answer with a non-answer",
        PACKAGE / "sheets" / "cells.py",
        "        elif name in done_before:\n            continue",
        "        elif False:\n            continue",
        ("tests/test_sheet_filler.py::test_an_overwrite_that_fails_keeps_the_answers_there",),
    ),
    Mutation(
        "durableanswers",
        "an answer is in the store before it is reported: a restart never pays again",
        PACKAGE / "enrich" / "engine.py",
        "await self.store.put_answers(durable, subjects)",
        "pass",
        (
            "tests/test_store_processes.py::"
            "test_a_function_served_again_pays_nothing_for_what_it_had",
        ),
    ),
    Mutation(
        "ledgerrestart",
        "the day's credit count lives in the store: a restart cannot spend the budget again",
        PACKAGE / "enrich" / "budget.py",
        "claim = await self._store.claim_credits(\n"
        "                day, wanted=wanted, minimum=minimum, limit=self.daily_budget\n"
        "            )",
        "claim = self._memory.claim_now(\n"
        "                day, wanted=wanted, minimum=minimum, limit=self.daily_budget\n"
        "            )",
        ("tests/test_store_processes.py::test_the_day_s_budget_survives_a_restart",),
    ),
    Mutation(
        "planoffloop",
        "a big sheet is planned off the event loop",
        PACKAGE / "sheets" / "filler.py",
        "plan = await asyncio.to_thread(plan_fill, values, request)",
        "plan = plan_fill(values, request)",
        (
            "tests/test_fill_deadline.py::"
            "test_an_interactive_formula_answers_while_a_100000_row_fill_is_planned",
        ),
    ),
    Mutation(
        "deadlinewait",
        "the fill's deadline is kept while waiting for Pronto",
        PACKAGE / "sheets" / "filler.py",
        "timeout = None if stop_at is None else max(0.0, stop_at - self.clock())",
        "timeout = None",
        ("tests/test_fill_deadline.py::test_the_deadline_is_kept_while_waiting_for_pronto",),
    ),
)


def run(mutation: Mutation) -> tuple[str, float]:
    """Apply, test, restore. Returns "killed", "SURVIVED" or "NOT APPLIED", and seconds."""
    original = mutation.path.read_text(encoding="utf-8")
    if original.count(mutation.old) != 1:
        return "NOT APPLIED", 0.0
    started = time.monotonic()
    try:
        mutation.path.write_text(original.replace(mutation.old, mutation.new), encoding="utf-8")
        done = subprocess.run(  # noqa: S603 - our own interpreter and tests
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
             "--timeout", "120", *mutation.tests],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
    finally:
        mutation.path.write_text(original, encoding="utf-8")
    return ("killed" if done.returncode != 0 else "SURVIVED"), time.monotonic() - started


def check() -> int:
    """After a refactor: every mutation's snippet is found exactly once in its file."""
    stale = 0
    for mutation in MUTATIONS:
        text = mutation.path.read_text(encoding="utf-8") if mutation.path.exists() else ""
        if text.count(mutation.old) != 1:
            stale += 1
            where = mutation.path.relative_to(ROOT)
            print(f"NOT APPLICABLE  {mutation.key}: {where} has it {text.count(mutation.old)}x")
    print(f"{len(MUTATIONS) - stale} of {len(MUTATIONS)} mutations apply.")
    return 1 if stale else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", help="comma-separated keys: " + ", ".join(m.key for m in MUTATIONS)
    )
    parser.add_argument(
        "--check", action="store_true", help="only say whether each snippet is there, once"
    )
    args = parser.parse_args()
    if args.check:
        return check()
    wanted = set(args.only.split(",")) if args.only else {m.key for m in MUTATIONS}
    rows = []
    for mutation in MUTATIONS:
        if mutation.key not in wanted:
            continue
        result, seconds = run(mutation)
        rows.append((mutation, result, seconds))
        print(f"{result:<12} {seconds:6.1f} s  {mutation.key}: {mutation.behaviour}", flush=True)
    print()
    print("| behaviour removed | mutation | result |")
    print("|---|---|---|")
    for mutation, result, _ in rows:
        print(f"| {mutation.behaviour} | `{mutation.key}` | {result} |")
    return 0 if all(result == "killed" for _, result, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
