"""What one request to the `Enricher` gives back: its results, figures and notices, and
the plans and estimates made without calling Pronto."""

from __future__ import annotations

from dataclasses import dataclass, field

from pronto_sheets.results import RowResult


@dataclass
class EnrichStats:
    """Figures for one request, returned as `stats` (counts are rows unless named)."""

    contacts: int = 0
    unique: int = 0
    invalid: int = 0
    cache_hits: int = 0  # rows answered entirely from the cache
    joined_in_flight: int = 0  # lookups of this request already under way for another
    upstream_calls: int = 0  # lookups this request started (one Pronto call each)
    pending: int = 0
    needs_linkedin: int = 0  # rows with a type not asked for lack of a LinkedIn URL
    paused: int = 0  # rows whose personal email waits for the account's consent
    credits_spent: int = 0
    credits_spent_today: int = 0
    credit_budget: int = 0

    def to_json(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Notice:
    """An account-level condition, said once per request (not once per row)."""

    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass
class EnrichOutcome:
    results: list[RowResult]
    stats: EnrichStats
    notices: list[Notice] = field(default_factory=list)


@dataclass(frozen=True)
class Estimate:
    """What asking some contacts' types would take, given what the cache already has."""

    cached: int  # (contact, type) answers the cache already has
    to_call: int  # Pronto calls: one per contact with something left to ask
    estimated_credits: int  # at most, if Pronto finds everything asked


@dataclass(frozen=True)
class Plan:
    """What a request would do, without calling Pronto (dry runs and estimates)."""

    rows: int
    invalid: int
    unique: int
    duplicates: int
    cached: int  # (contact, type) answers the cache already has
    to_call: int  # Pronto calls (one per contact with something left to ask)
    needs_linkedin: int  # rows with a type that cannot be asked without a LinkedIn URL
    estimated_credits: int  # at most, if Pronto finds everything asked
