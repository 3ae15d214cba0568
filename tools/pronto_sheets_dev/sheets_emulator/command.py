"""The emulator's command line: `pronto-sheets sheets-emulator` and
`python -m pronto_sheets_dev.sheets_emulator` both run `emulator_command`.

Options also read SHEETS_EMULATOR_HOST and SHEETS_EMULATOR_PORT. Prints
`Sheets API emulator listening on http://HOST:PORT` once the socket accepts connections.
"""

from __future__ import annotations

import asyncio
import socket

import click
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
        click.echo(f"Sheets API emulator listening on http://{host}:{port}")


def serve(host: str, port: int) -> None:
    """Serve a fresh emulator until interrupted."""
    # Idle connections stay open 75 s (uvicorn's default is 5 s). Clients keep theirs
    # for about as long as the server does (Node's fetch 4 s, with a coarse timer), so
    # with 5 s a request could leave on a socket the emulator was closing: "fetch failed"
    # in a test, for no fault of the code under test. Google's front ends keep idle
    # connections far longer than either.
    config = uvicorn.Config(
        create_app(),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        timeout_keep_alive=75,
    )
    asyncio.run(_Server(config).serve())


@click.command(name="sheets-emulator")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar="SHEETS_EMULATOR_HOST",
    help="Address to bind.",
)
@click.option(
    "--port",
    type=int,
    default=8790,
    show_default=True,
    envvar="SHEETS_EMULATOR_PORT",
    help="Port to listen on (0 picks a free one).",
)
def emulator_command(host: str, port: int) -> None:
    """Serve a local Sheets API v4 emulator (with the Drive calls gspread makes).

    Point the function or the CLI at it with SHEETS_API_BASE_URL=http://HOST:PORT; tests
    drive it through its /_emulator/ control API.
    """
    serve(host, port)
