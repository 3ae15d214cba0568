"""HTTP/1.1 on asyncio streams with h11: keep-alive, and byte-level control for faults.

`SimulatorServer` owns the listening socket and one task per connection. Each task
reads one request at a time (h11 parses), asks `SimulatedPronto` for a `Reply` and
writes it: whole, not at all (a dropped connection), or with the full Content-Length
but only half the body (a truncated answer), closing the connection after a fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import logging
from dataclasses import dataclass
from http import HTTPStatus

import h11

from .config import SimulatorConfig
from .service import ENRICH_PATH, Reply, SimulatedPronto

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20
READ_CHUNK = 64 * 1024
# Bursts of hundreds of connections must queue in the kernel, not be refused.
LISTEN_BACKLOG = 2048


class _BodyTooLarge(Exception):
    pass


class SimulatorServer:
    """The simulated Pronto API served over HTTP/1.1 until `close()`."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.pronto = SimulatedPronto(config)
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.port: int | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen on `host:port` (0 picks a free port); return the bound port."""
        self._server = await asyncio.start_server(
            self._serve_connection, host, port, backlog=LISTEN_BACKLOG, reuse_address=True
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def close(self) -> None:
        """Stop listening and end every open connection."""
        if self._server is not None:
            self._server.close()
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.pronto.aclose()
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        connection = _Connection(h11.Connection(h11.SERVER), reader, writer)
        try:
            while await self._serve_one(connection):
                connection.protocol.start_next_cycle()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away: nothing left to answer
        except asyncio.CancelledError:
            pass  # close() ends this connection; asyncio would log a cancelled callback task
        finally:
            self._connections.discard(task)
            writer.close()
            # Cancelled again by close(): the connection is going either way, quietly.
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()

    async def _serve_one(self, connection: _Connection) -> bool:
        """Answer one request; True if the connection can carry another one."""
        conn, writer = connection.protocol, connection.writer
        try:
            received = await _read_request(conn, connection.reader, writer)
        except h11.RemoteProtocolError as exc:
            reply = Reply(exc.error_status_hint, {"message": f"Bad request: {exc}"})
            _send(conn, writer, reply, close=True)
            return False
        except _BodyTooLarge:
            reply = Reply(413, {"message": f"The body must be at most {MAX_BODY_BYTES} bytes."})
            _send(conn, writer, reply, close=True)
            return False
        if received is None:
            return False
        request, body = received
        headers = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in request.headers
        }
        path = request.target.decode("latin-1").split("?", 1)[0]
        if path == ENRICH_PATH and not connection.carried_enrichment:
            connection.carried_enrichment = True
            self.pronto.connection_opened()
        reply = await self.pronto.handle(request.method.decode("ascii"), path, headers, body)
        if not _send(conn, writer, reply, close=False):
            return False
        await writer.drain()
        return conn.our_state is h11.DONE and conn.their_state is h11.DONE


@dataclass
class _Connection:
    """One client connection; `carried_enrichment` once it has counted in the stats."""

    protocol: h11.Connection
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    carried_enrichment: bool = False


async def _read_request(
    conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> tuple[h11.Request, bytes] | None:
    """The next whole request, or None once the client closed the connection."""
    request: h11.Request | None = None
    body = bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await reader.read(READ_CHUNK))
        elif isinstance(event, h11.Request):
            request = event
            if conn.they_are_waiting_for_100_continue:  # curl does this for larger bodies
                writer.write(conn.send(h11.InformationalResponse(status_code=100, headers=[])))
        elif isinstance(event, h11.Data):
            body += event.data
            if len(body) > MAX_BODY_BYTES:
                raise _BodyTooLarge
        elif isinstance(event, h11.EndOfMessage):
            assert request is not None
            return request, bytes(body)
        else:  # ConnectionClosed (or PAUSED, which cannot happen between cycles)
            return None


def _send(conn: h11.Connection, writer: asyncio.StreamWriter, reply: Reply, *, close: bool) -> bool:
    """Write `reply` as its delivery says; True if the connection stays usable."""
    if reply.delivery == "drop":
        writer.close()
        return False
    if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
        return False
    payload = b"" if reply.body is None else json.dumps(reply.body).encode("utf-8")
    headers = [
        ("content-type", "application/json"),
        ("content-length", str(len(payload))),
        ("date", email.utils.formatdate(usegmt=True)),
        ("server", "pronto-simulator"),
        *reply.headers,
    ]
    if close:
        headers.append(("connection", "close"))
    try:
        phrase = HTTPStatus(reply.status).phrase.encode("ascii")
    except ValueError:
        phrase = b""
    head = conn.send(h11.Response(status_code=reply.status, headers=headers, reason=phrase))
    if reply.delivery == "truncate":
        # Full Content-Length, half the body: the client sees an incomplete message.
        writer.write(head + payload[: len(payload) // 2])
        writer.close()
        return False
    writer.write(head + conn.send(h11.Data(data=payload)) + conn.send(h11.EndOfMessage()))
    return not close
