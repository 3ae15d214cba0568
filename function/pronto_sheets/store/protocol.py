"""What a store does, and how one answer is written down in it.

A store keeps two things, both under a `namespace` (one per Pronto address, so the
simulator's made-up answers never reach a sheet enriched by the real Pronto):

- **Answers** by `answer_key(identity, type)`: Pronto's `success` or `not_found` for one
  contact and one enrichment type, with the time it expires (`expire_at`, seconds since
  the epoch). Keys carry the identity's version (`Contact.identity()` hashes "v2:…") and
  records carry `RECORD_FORMAT`: a change of normalisation or of the record's shape reads
  as a miss, never as a wrong answer.
- **Who each answer is about**, for erasure (POST /forget): `subjects` maps an identity to
  hashed ways of naming that person (name + domain, name + company, LinkedIn URL, each
  email and phone found: enrich/subjects.py), so a person can be found and forgotten from
  any one of them. Only hashes are kept, and they expire with the answers.
- **The day's credit ledger** (UTC days, "2026-12-02"): credits claimed against the daily
  budget, credits really spent, and whether Pronto closed the day (out of credits). A
  claim is atomic: whatever the number of processes sharing the store, the credits
  granted for one day never add up past the limit asked with each claim.

Every method raises `StoreError` (errors.py) when the store cannot be used, and nothing
else: callers fall back to memory (see guard.py).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pronto_sheets.results import Phone, Status, TypeResult

# Firestore collection groups (deploy.sh sets a TTL policy on `expire_at` for both).
ANSWERS_COLLECTION = "pronto_sheets_answers"
LEDGER_COLLECTION = "pronto_sheets_ledger"
# Subject hash -> identity, for erasure (deploy.sh sets the same TTL policy on it).
SUBJECTS_COLLECTION = "pronto_sheets_subjects"
# Bump when the record below changes shape: older records then read as misses.
RECORD_FORMAT = 1
# Ledger entries are kept two days past their own, then Firestore's TTL (or a purge) drops them.
LEDGER_KEEP_S = 2 * 86400


@dataclass(frozen=True)
class StoredAnswer:
    """One type's answer for one contact, and when it stops being served."""

    result: TypeResult
    expire_at: float  # seconds since the epoch


@dataclass(frozen=True)
class Claim:
    """What a claim got: `granted` credits (0 when refused), and the day as the store saw it
    just after (credits claimed by every process, whether Pronto closed the day)."""

    granted: int
    claimed: int
    closed: bool


@dataclass(frozen=True)
class LedgerDay:
    """One day's ledger: credits claimed (spent or set aside) and spent, by every process."""

    claimed: int = 0
    spent: int = 0
    closed: bool = False


class Store(Protocol):
    """Answers and the credit ledger; see the module docstring."""

    kind: str  # "memory", "sqlite" or "firestore"

    async def get_answers(self, keys: Collection[str]) -> dict[str, StoredAnswer]:
        """The unexpired answers among `keys`, in one round trip."""
        ...

    async def put_answers(
        self,
        answers: Mapping[str, StoredAnswer],
        subjects: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        """Keep these answers (replacing older ones), all in one write; `subjects`
        (identity -> subject hashes) indexes who they are about, until the latest
        `expire_at` among them."""
        ...

    async def find_identities(self, subjects: Collection[str]) -> set[str]:
        """The identities indexed under any of these subject hashes."""
        ...

    async def forget(self, keys: Collection[str], identities: Collection[str]) -> int:
        """Delete these answer keys and every subject entry of `identities`; return how
        many answers were deleted (those that were stored)."""
        ...

    async def claim_credits(self, day: str, *, wanted: int, minimum: int, limit: int) -> Claim:
        """Atomically grant up to `wanted` credits of `day`, keeping every claim of the day
        within `limit`; grant nothing when less than `minimum` is left or the day is closed."""
        ...

    async def release_credits(self, day: str, credits: int) -> None:
        """Give back credits this process claimed and will not spend (it is closing)."""
        ...

    async def record_spent(self, day: str, credits: int) -> None:
        """Add what a call really cost to the day's spending (for reports: claims already
        cover it)."""
        ...

    async def close_day(self, day: str) -> None:
        """Pronto said the account is out of credits: no claim succeeds for the rest of `day`."""
        ...

    async def ledger(self, day: str) -> LedgerDay:
        """The day's totals, read from the store."""
        ...

    async def aclose(self) -> None: ...


def subject_rows(
    answers: Mapping[str, StoredAnswer], subjects: Mapping[str, Collection[str]] | None
) -> list[tuple[str, str, float]]:
    """(subject, identity, expire_at) rows to index: each identity's subjects live as long
    as its longest-lived answer written with them (answer keys are `identity:type`)."""
    if not subjects:
        return []
    until: dict[str, float] = {}
    for key, answer in answers.items():
        identity = key.rpartition(":")[0]
        until[identity] = max(until.get(identity, 0.0), answer.expire_at)
    return [
        (subject, identity, until[identity])
        for identity, hashes in subjects.items()
        if identity in until
        for subject in hashes
    ]


def to_record(result: TypeResult) -> dict[str, Any]:
    """An answer as plain data (JSON, a Firestore map)."""
    return {
        "format": RECORD_FORMAT,
        "status": result.status.value,
        "value": result.value,
        "phones": [{"number": p.number, "type": p.type} for p in result.phones],
        "value_status": result.value_status,
        "message": result.message,
    }


def from_record(record: Mapping[str, Any]) -> TypeResult | None:
    """The answer a record holds; None when it is of another format or not an answer."""
    if record.get("format") != RECORD_FORMAT:
        return None
    try:
        status = Status(str(record.get("status")))
    except ValueError:
        return None
    if status not in (Status.SUCCESS, Status.NOT_FOUND):
        return None
    phones = tuple(
        Phone(str(p["number"]), p.get("type") if isinstance(p.get("type"), str) else None)
        for p in record.get("phones") or ()
        if isinstance(p, Mapping) and p.get("number")
    )
    return TypeResult(
        status,
        value=_text(record.get("value")),
        phones=phones,
        value_status=_text(record.get("value_status")),
        message=_text(record.get("message")),
    )


def decode_record(text: object) -> TypeResult | None:
    """The answer a record stored as JSON text holds; None when it is not one we can read
    (another format, or damaged): a miss, never an error."""
    if not isinstance(text, str):
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    return from_record(record) if isinstance(record, Mapping) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def grant(claimed: int, closed: bool, *, wanted: int, minimum: int, limit: int) -> int:
    """The credits one claim gets when `claimed` are already claimed (the rule every
    backend applies inside its own atomic step)."""
    if closed or wanted <= 0:
        return 0
    granted = min(wanted, limit - claimed)
    return granted if granted >= max(minimum, 1) else 0
