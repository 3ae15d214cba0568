"""pronto-sheets: contact enrichment for Google Sheets over Pronto's waterfall API.

The function (`function/main.py`, target `pronto`) serves the routes in `routes`; the
`Enricher` in `engine` ties the `Gate`, the `ResultCache`, the `CreditBudget` and the
`ProntoClient` together.
"""

from __future__ import annotations

from pronto_sheets.enrich.budget import CreditBudget
from pronto_sheets.enrich.cache import ResultCache
from pronto_sheets.enrich.contacts import Contact, EnrichmentTypes, normalize_domain
from pronto_sheets.enrich.engine import Enricher, EnrichOutcome, EnrichStats, Plan
from pronto_sheets.enrich.gate import Gate, Priority
from pronto_sheets.enrich.pronto_client import ProntoClient
from pronto_sheets.enrich.results import RowResult, Status
from pronto_sheets.settings import Settings

__all__ = [
    "Contact",
    "CreditBudget",
    "EnrichOutcome",
    "EnrichStats",
    "Enricher",
    "EnrichmentTypes",
    "Gate",
    "Plan",
    "Priority",
    "ProntoClient",
    "ResultCache",
    "RowResult",
    "Settings",
    "Status",
    "normalize_domain",
]
__version__ = "0.1.0"
