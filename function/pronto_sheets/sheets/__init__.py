"""Google Sheets: header detection, planning a fill, the filler that enriches a whole sheet
and writes the results back, and the gspread client (retries, credentials, the emulator's
session, Google's errors translated)."""
