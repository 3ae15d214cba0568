"""`python -m pronto_sheets.sheets_emulator [--host H] [--port N]`: serve the emulator.

Options also read SHEETS_EMULATOR_HOST and SHEETS_EMULATOR_PORT. Prints
`Sheets API emulator listening on http://HOST:PORT` once the socket accepts connections.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys

import uvicorn

from .app import create_app


class _Server(uvicorn.Server):
    """uvicorn's server, announcing the bound address once it really listens."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.should_exit:
            return
        host, port = self.config.host, self.config.port
        for server in getattr(self, "servers", []):
            for sock in server.sockets:
                host, port = sock.getsockname()[:2]
                break
        print(f"Sheets API emulator listening on http://{host}:{port}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pronto_sheets.sheets_emulator",
        description="Serve a local Sheets API v4 emulator (with the Drive calls gspread makes).",
    )
    parser.add_argument(
        "--host",
        default=os.environ.get("SHEETS_EMULATOR_HOST", "127.0.0.1"),
        help="address to bind (env SHEETS_EMULATOR_HOST, default 127.0.0.1)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("SHEETS_EMULATOR_PORT", "8790")),
        help="port to listen on, 0 for any free port (env SHEETS_EMULATOR_PORT, default 8790)",
    )
    args = parser.parse_args(argv)
    config = uvicorn.Config(
        create_app(), host=args.host, port=args.port, log_level="warning", access_log=False
    )
    asyncio.run(_Server(config).serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
