"""A local Sheets API v4 (and the Drive slice gspread needs) for tests and offline runs.

Serve it with `python -m pronto_sheets_dev.sheets_emulator --port 8790`, point gspread at it
with `pronto_sheets.sheets.client.open_gspread_client(sheets_api_base_url=...)`, and drive
it from tests through the `/_emulator/` control API described in `control.py`.

Modules: `a1` (A1 notation), `cells` (input parsing and rendering), `formulas`, `grid`,
`store` (spreadsheets), `values` and `batch_update` and `metadata` and `drive` (the API
methods), `quota` (quotas, faults, counters), `control` (test hooks), `app` (HTTP).
"""

from __future__ import annotations

from .app import Emulator, create_app

__all__ = ["Emulator", "create_app"]
