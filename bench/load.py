"""A lean HTTP/1.1 load generator: keep-alive connections over asyncio streams, spoken with h11.

httpx costs about 3.4 ms of CPU per POST on the benchmark machine, more than the server spends
answering it; with the load generator and the server sharing two CPUs, the benchmarks measured
httpx. This client costs a fraction of that, so the server is what is measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11

# Below uvicorn's 5 s keep-alive timeout, so an idle connection is not closed under a request.
IDLE_LIMIT = 2.0
READ_SIZE = 65536


@dataclass(frozen=True)
class Answer:
    """A response: its status and its body."""

    status: int
    body: bytes


class _Connection:
    """One keep-alive connection and its h11 state."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.protocol = h11.Connection(h11.CLIENT)
        self.idle_since = time.monotonic()

    async def exchange(self, request: h11.Request, body: bytes) -> Answer:
        """Send one request and read its whole response."""
        protocol = self.protocol
        for event in (request, h11.Data(data=body), h11.EndOfMessage()):
            self.writer.write(protocol.send(event) or b"")
        status, chunks = 0, []
        while True:
            event = protocol.next_event()
            if event is h11.NEED_DATA:
                data = await self.reader.read(READ_SIZE)
                if not data:
                    raise ConnectionResetError("the server closed the connection")
                protocol.receive_data(data)
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                protocol.start_next_cycle()
                self.idle_since = time.monotonic()
                return Answer(status, b"".join(chunks))

    def close(self) -> None:
        """Close the socket."""
        self.writer.close()


class LoadClient:
    """POSTs to one server over a pool of at most ``connections`` keep-alive connections."""

    def __init__(self, url: str, connections: int) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.authority = parts.netloc.encode()
        self.idle: list[_Connection] = []
        self.slots = asyncio.Semaphore(connections)

    async def post(self, path: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        """POST ``body`` to ``path``; a connection the server closed while idle is replaced once."""
        request = h11.Request(
            method="POST",
            target=path,
            headers=[
                ("host", self.authority),
                ("content-type", "application/json"),
                ("content-length", str(len(body))),
                *headers.items(),
            ],
        )
        async with self.slots, self._connection() as connection:
            return await connection.exchange(request, body)

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[_Connection]:
        connection = await self._take()
        try:
            yield connection
        except BaseException:
            connection.close()
            raise
        self.idle.append(connection)

    async def _take(self) -> _Connection:
        now = time.monotonic()
        while self.idle:
            connection = self.idle.pop()
            if now - connection.idle_since < IDLE_LIMIT:
                return connection
            connection.close()
        reader, writer = await asyncio.open_connection(self.host, self.port)
        return _Connection(reader, writer)

    async def aclose(self) -> None:
        """Close every idle connection."""
        for connection in self.idle:
            connection.close()
        self.idle.clear()

    async def __aenter__(self) -> LoadClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()
