"""The connectors' HTTP client: what is sent and answered, its errors, its pool, its egress checks.

Requests and answers are compared with what a loopback server parsed with h11 (an HTTP parser
independent of aiohttp's); error kinds with what httpx's own transport raises for the same fault.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import h11
import httpx
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.connectors.egress import EgressPolicy, EgressRefused
from callbridge.connectors.http_client import EgressTransport
from callbridge.errors import Permanent

LOOPBACK = EgressPolicy.parse("127.0.0.0/8")
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class Answer:
    """What the server answers: status, headers and the body as sent (maybe gzip-encoded)."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    gzip: bool = False


@dataclass
class Server:
    """A loopback HTTP/1.1 server parsing requests with h11, keeping connections alive."""

    answer: Answer = field(default_factory=Answer)
    seen: list[tuple[str, str, list[tuple[str, str]], bytes]] = field(default_factory=list)
    accepted: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer every request of a connection until the client closes it."""
        self.accepted += 1
        conn = h11.Connection(h11.SERVER)
        try:
            while await self._one(conn, reader, writer):
                conn.start_next_cycle()
        except (ConnectionError, h11.RemoteProtocolError):
            pass
        writer.close()

    async def _one(
        self, conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        request: Any = None
        body = b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(65536)
                if not data:
                    return False
                conn.receive_data(data)
            elif isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                break
        headers = [(k.decode(), v.decode()) for k, v in request.headers]
        self.seen.append((request.method.decode(), request.target.decode(), headers, body))
        payload = gzip.compress(self.answer.body) if self.answer.gzip else self.answer.body
        extra = [("content-encoding", "gzip")] if self.answer.gzip else []
        out = [*self.answer.headers, *extra, ("content-length", str(len(payload)))]
        writer.write(conn.send(h11.Response(status_code=self.answer.status, headers=out)) or b"")
        writer.write(conn.send(h11.Data(data=payload)) or b"")
        writer.write(conn.send(h11.EndOfMessage()) or b"")
        await writer.drain()
        return True


async def _serving(handler: Handler, host: str = "127.0.0.1", port: int = 0) -> asyncio.Server:
    return await asyncio.start_server(handler, host, port)


def _port(server: asyncio.Server) -> int:
    return int(server.sockets[0].getsockname()[1])


def _client(policy: EgressPolicy = LOOPBACK, **kwargs: Any) -> httpx.AsyncClient:
    timeout = kwargs.pop("timeout", httpx.Timeout(5.0))
    return httpx.AsyncClient(transport=EgressTransport(policy, **kwargs), timeout=timeout)


TOKEN = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
VALUE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30).map(str.strip)


@st.composite
def exchanges(draw: st.DrawFn) -> tuple[httpx.Request, Answer]:
    """Draw a request (method, path, query, headers, body) and the server's answer to it."""
    method = draw(st.sampled_from(["GET", "POST", "PATCH", "PUT", "DELETE"]))
    path = "/" + "/".join(draw(st.lists(TOKEN, max_size=4)))
    query = draw(st.dictionaries(TOKEN, VALUE, max_size=3))
    headers = draw(st.dictionaries(TOKEN.map(lambda t: "x-" + t), VALUE, max_size=4))
    body = draw(st.binary(max_size=3000)) if method != "GET" else b""
    request = httpx.Request(
        method, f"http://127.0.0.1:1{path}", params=query, headers=headers, content=body
    )
    answer = Answer(
        status=draw(st.sampled_from([200, 201, 204, 400, 404, 409, 429, 500, 502])),
        headers=[
            (k, v) for k, v in draw(st.dictionaries(TOKEN.map("x-a-".__add__), VALUE)).items()
        ],
    )
    if answer.status != 204:
        answer.body = draw(st.binary(max_size=5000))
        answer.gzip = draw(st.booleans())
    return request, answer


async def _exchange(
    request: httpx.Request, answer: Answer
) -> tuple[Server, httpx.Request, httpx.Response]:
    server = Server(answer)
    listening = await _serving(server.handle)
    try:
        async with _client() as http:
            url = request.url.copy_with(port=_port(listening))
            headers = {k: v for k, v in request.headers.items() if k.startswith("x-")}
            sent = http.build_request(request.method, url, headers=headers, content=request.content)
            response = await http.send(sent)
            await response.aread()
    finally:
        listening.close()
    return server, sent, response


@settings(max_examples=60)
@given(exchanges())
def test_what_is_sent_and_answered_arrives_unchanged(
    exchange: tuple[httpx.Request, Answer],
) -> None:
    server, sent, response = asyncio.run(_exchange(*exchange))
    [(method, target, headers, body)] = server.seen
    assert (method, target, body) == (sent.method, sent.url.raw_path.decode(), sent.content)
    named = [(k.lower(), v) for k, v in headers]
    for key, value in sent.headers.multi_items():  # httpx's own (host, user-agent…) included
        assert named.count((key.lower(), value)) == 1, (key, value, headers)
    answer = exchange[1]
    assert response.status_code == answer.status
    assert response.content == answer.body  # gzip decoded by httpx, as before
    for key, value in answer.headers:
        assert response.headers.get_list(key) == [value]


# Faults a CRM (or the network) can produce, each a handler of one connection.
async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    await reader.read()  # until the client gives up and closes
    writer.close()


async def _hangup(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.close()


async def _garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"NOT HTTP AT ALL\r\n\r\n")
    await writer.drain()
    writer.close()


async def _short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{}")
    await writer.drain()
    writer.close()


async def _reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.close()


FAULTS: dict[str, Handler | None] = {
    "silent": _silent,
    "hangup": _hangup,
    "garbage": _garbage,
    "short body": _short,
    "reset": _reset,
    "nobody listening": None,
}
EXPECTED = {
    "silent": httpx.ReadTimeout,
    "hangup": httpx.RemoteProtocolError,
    "garbage": httpx.RemoteProtocolError,
    "short body": httpx.RemoteProtocolError,
    "reset": httpx.TransportError,
    "nobody listening": httpx.ConnectError,
}


async def _fault(fault: str, transport: httpx.AsyncBaseTransport) -> BaseException:
    handler = FAULTS[fault]
    listening = await _serving(handler or _hangup)
    port = _port(listening)
    if handler is None:
        listening.close()
        await listening.wait_closed()
    try:
        async with httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(0.5)) as http:
            with pytest.raises(httpx.HTTPError) as caught:
                await http.post(f"http://127.0.0.1:{port}/crm", json={"a": 1})
    finally:
        listening.close()
    return caught.value


def _kind(err: BaseException) -> str:
    """Tell what a connector makes of an error: a timeout, another transport error, or else."""
    if isinstance(err, httpx.TimeoutException):
        return "timeout"
    return "transport" if isinstance(err, httpx.TransportError) else type(err).__name__


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_each_fault_raises_httpx_s_error_of_the_same_kind_as_before(fault: str) -> None:
    ours = await _fault(fault, EgressTransport(LOOPBACK))
    before = await _fault(fault, httpx.AsyncHTTPTransport())
    assert isinstance(ours, EXPECTED[fault]), repr(ours)
    assert _kind(ours) == _kind(before), (repr(ours), repr(before))


async def test_a_full_pool_is_a_timeout() -> None:
    listening = await _serving(_silent)
    url = f"http://127.0.0.1:{_port(listening)}/"
    limits = httpx.Limits(max_connections=1)
    try:
        async with _client(
            limits=limits, timeout=httpx.Timeout(5.0, pool=0.2, connect=0.2)
        ) as http:
            holding = asyncio.ensure_future(http.get(url))
            await asyncio.sleep(0.1)
            started = asyncio.get_running_loop().time()
            with pytest.raises(httpx.ConnectTimeout):  # waiting for the pool and connecting
                await http.get(url)
            assert asyncio.get_running_loop().time() - started < 2
            holding.cancel()
            await asyncio.gather(holding, return_exceptions=True)
    finally:
        listening.close()


@pytest.mark.parametrize(("in_flight", "rounds"), [(1, 20), (50, 4)])
async def test_connections_are_kept_and_reused(in_flight: int, rounds: int) -> None:
    server = Server(Answer(body=b"{}"))
    listening = await _serving(server.handle)
    url = f"http://127.0.0.1:{_port(listening)}/search"
    try:
        async with _client() as http:
            for _ in range(rounds):
                answers = await asyncio.gather(*(http.post(url, json={}) for _ in range(in_flight)))
                assert {a.status_code for a in answers} == {200}
    finally:
        listening.close()
    assert len(server.seen) == in_flight * rounds
    assert server.accepted <= in_flight  # every later round reused the first round's connections


async def test_a_refused_name_never_sees_a_connection() -> None:
    server = Server()
    listening = await _serving(server.handle)
    try:
        async with _client(EgressPolicy()) as http:
            for scheme, why in (("https", "a loopback address"), ("http", "only https")):
                with pytest.raises(EgressRefused, match=why):
                    await http.get(f"{scheme}://localhost:{_port(listening)}/")
    finally:
        listening.close()
    assert server.accepted == 0
    assert issubclass(EgressRefused, Permanent)


class Fixed(AbstractResolver):
    """A resolver answering every name with the same addresses, in order."""

    def __init__(self, addresses: list[str]) -> None:
        self.addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Return the fixed addresses for ``host``."""
        return [
            ResolveResult(hostname=host, host=a, port=port, family=socket.AF_INET, proto=0, flags=0)
            for a in self.addresses
        ]

    async def close(self) -> None:
        """Nothing to release."""


ADDRESSES = [f"127.0.0.{n}" for n in range(2, 6)]


async def _name_with_addresses(
    resolved: list[str], allowed: list[str], listening: list[str]
) -> tuple[str, dict[str, int]]:
    servers = {a: Server(Answer(body=b"ok")) for a in listening}
    first = await _serving(servers[listening[0]].handle, listening[0])
    port = _port(first)  # every listener on the same port, as one service on several addresses
    started = [first] + [await _serving(servers[a].handle, a, port) for a in listening[1:]]
    transport = EgressTransport(EgressPolicy.parse(",".join(allowed)), resolver=Fixed(resolved))
    try:
        async with httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(2.0)) as http:
            try:
                outcome = (await http.get(f"http://crm.test:{port}/")).text
            except EgressRefused:
                outcome = "refused"
            except httpx.ConnectError:
                outcome = "unreachable"
    finally:
        for s in started:
            s.close()
    return outcome, {a: s.accepted for a, s in servers.items()}


@settings(max_examples=40)
@given(
    st.permutations(ADDRESSES).flatmap(lambda p: st.integers(1, len(p)).map(lambda n: p[:n])),
    st.sets(st.sampled_from(ADDRESSES)),
    st.sets(st.sampled_from(ADDRESSES), min_size=1),
)
def test_a_name_s_addresses_are_reached_only_when_allowed(
    resolved: list[str], allowed: set[str], listening: set[str]
) -> None:
    outcome, accepted = asyncio.run(
        _name_with_addresses(resolved, sorted(allowed), sorted(listening))
    )
    assert all(n == 0 for a, n in accepted.items() if a not in allowed), accepted
    reachable = [a for a in resolved if a in allowed and a in listening]
    if reachable:
        assert outcome == "ok"
    elif any(a not in allowed for a in resolved):
        assert outcome == "refused"
    else:
        assert outcome == "unreachable"
