"""Google Sheets: header detection, the gspread client, and the filler that enriches a
whole sheet and writes the results back."""
