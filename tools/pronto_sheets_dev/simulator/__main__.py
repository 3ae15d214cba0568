"""`python -m pronto_sheets_dev.simulator --port 8090`: serve the simulated Pronto API."""

from __future__ import annotations

from .command import main

if __name__ == "__main__":
    main()
