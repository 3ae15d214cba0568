"""Cloud Functions entry point: target `pronto` (HTTP, served by functions-framework).

Thin on purpose: the routes, auth and enrichment live in the `pronto_sheets` package.
"""

from pronto_sheets.http.entry import pronto

__all__ = ["pronto"]
