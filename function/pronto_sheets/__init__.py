"""pronto-sheets: contact enrichment for Google Sheets over Pronto's waterfall API.

The function (`function/main.py`, target `pronto`) serves the routes in `http.routes`;
the `Enricher` in `enrich.engine` ties the `Gate`, the `ResultCache`, the `CreditBudget`
and the `ProntoClient` together; `sheets.filler` fills a whole sheet through gspread.
Errors are one tree rooted in `ProntoSheetsError` (errors.py); the sheet vocabulary shared
with Apps Script is vocabulary.json.
"""

from __future__ import annotations

from pronto_sheets.enrich.budget import CreditBudget
from pronto_sheets.enrich.cache import ResultCache
from pronto_sheets.enrich.contacts import Contact, EnrichmentTypes, normalize_domain
from pronto_sheets.enrich.engine import Enricher
from pronto_sheets.enrich.gate import Gate, Priority
from pronto_sheets.enrich.outcome import EnrichOutcome, EnrichStats, Plan
from pronto_sheets.enrich.pronto_client import ProntoClient
from pronto_sheets.errors import ProntoSheetsError
from pronto_sheets.results import RowResult, Status, TypeResult
from pronto_sheets.settings import Settings
from pronto_sheets.version import __version__

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
    "ProntoSheetsError",
    "ResultCache",
    "RowResult",
    "Settings",
    "Status",
    "TypeResult",
    "__version__",
    "normalize_domain",
]
