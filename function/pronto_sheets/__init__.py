"""pronto-sheets: contact enrichment for Google Sheets over Pronto's waterfall API.

The function (`function/main.py`, target `pronto`) serves the routes in `routes`; the
`Enricher` in `engine` ties the `Gate`, the `ResultCache`, the `CreditBudget` and the
`ProntoClient` together.
"""

from __future__ import annotations

from .budget import CreditBudget
from .cache import ResultCache
from .contacts import Contact, EnrichmentTypes, normalize_domain
from .engine import Enricher, EnrichOutcome, EnrichStats, Plan
from .gate import Gate, Priority
from .pronto_client import ProntoClient
from .results import RowResult, Status
from .settings import Settings

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
