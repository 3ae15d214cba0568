"""`python -m pronto_sheets_dev.sheets_emulator [--host H] [--port N]`: serve the emulator."""

from __future__ import annotations

from .command import emulator_command

if __name__ == "__main__":
    emulator_command(prog_name="python -m pronto_sheets_dev.sheets_emulator")
