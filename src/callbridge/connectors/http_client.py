"""The HTTP client connectors are given: httpx's API, aiohttp's connections, all checked on egress.

Connectors keep httpx's ``AsyncClient`` (requests, responses and exceptions as before); the
transport under it sends through aiohttp, whose HTTP parser is C and whose pool hands out an idle
connection per host without scanning the others. httpcore's pool asked every pooled connection
whether it had expired on each request (a ``poll`` each), through anyio's socket wrappers and h11's
pure-Python parser: ~26 % of the server's CPU under load (bench/RESULTS.md, issue 17).

The egress policy (:mod:`callbridge.connectors.egress`) is applied as before: each request's URL
before anything is sent, and each new connection's address before the socket connects to it (the
socket is created for the address it will reach, so what is checked is what is connected to). A
name resolving to several addresses tries the allowed ones in turn; if none could be reached and
one was refused, the request fails with the refusal (``EgressRefused``, permanent).

aiohttp's errors become httpx's: a timeout while acquiring or opening a connection
``ConnectTimeout``, while waiting for or reading the answer ``ReadTimeout``, a connection that could
not be opened ``ConnectError``, a peer that hung up or answered something unparsable
``RemoteProtocolError``, another socket error ``ReadError``. Bodies are read whole before the
response is returned (connectors read every body whole), so the connection goes back to the pool at
once. Limits: no write timeout (a request body goes to the socket's buffer; connectors send a few
KiB); DNS answers are cached for 10 s (each connection's address is still checked).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import httpx
import yarl
from aiohttp.abc import AbstractResolver

from callbridge.connectors.egress import EgressPolicy, EgressRefused

# Headers aiohttp frames itself from the body it is given.
_FRAMING = frozenset({"content-length", "transfer-encoding"})
# httpx already set these (or the caller chose not to): aiohttp must not add its own.
_NOT_ADDED = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")


@dataclass
class _Target:
    """The request whose connection is being opened, and a refusal met while opening it."""

    host: str
    plain_http: bool
    refusal: EgressRefused | None = field(default=None)


# Set for each request; aiohttp opens a request's connection in the request's own task (or in
# tasks it starts from there, which copy the context), so the socket factory reads its target here.
_TARGET: ContextVar[_Target | None] = ContextVar("callbridge_egress_target", default=None)


class _RefusedAddress(OSError):
    """An address the policy refused: aiohttp then tries the name's next address, if any."""


class _Body(httpx.AsyncByteStream):
    """A response body already read in full."""

    def __init__(self, content: bytes) -> None:
        self._content = content

    async def __aiter__(self) -> AsyncIterator[bytes]:
        """Yield the body in one piece."""
        yield self._content


class EgressTransport(httpx.AsyncBaseTransport):
    """httpx's transport over aiohttp, checking each request's URL and each new connection."""

    def __init__(
        self,
        policy: EgressPolicy,
        limits: httpx.Limits | None = None,
        resolver: AbstractResolver | None = None,
    ) -> None:
        # Every connection may stay open: at 50 calls in flight (two searches each) a keep-alive
        # cap of 20 closed most of them after each request and opened new ones for the next.
        self.limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=100)
        self.policy = policy
        self._resolver = resolver
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}

    def _socket(self, addr_info: Any) -> socket.socket:
        """Return a socket for an address the policy allows the current request to reach."""
        target = _TARGET.get()
        address = str(addr_info[4][0])
        try:
            if target is None:
                raise EgressRefused(f"{address}: a connection opened outside a checked request")
            self.policy.check_peer(target.host, address, plain_http=target.plain_http)
        except EgressRefused as refusal:
            if target is not None:
                target.refusal = refusal
            raise _RefusedAddress(str(refusal)) from refusal
        return socket.socket(addr_info[0], addr_info[1], addr_info[2])

    def _open_session(self) -> aiohttp.ClientSession:
        """Return this event loop's session, opened on first use (aiohttp binds it to its loop)."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            connector = aiohttp.TCPConnector(
                limit=self.limits.max_connections or 0,
                keepalive_timeout=self.limits.keepalive_expiry,
                ssl=httpx.create_ssl_context(),
                # The system resolver, as any connection's (aiodns, if ever installed, is not).
                resolver=self._resolver or aiohttp.ThreadedResolver(),
                socket_factory=self._socket,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),  # httpx keeps the client's cookies
                auto_decompress=False,  # httpx decodes the body, as it did httpcore's
                skip_auto_headers=_NOT_ADDED,
            )
            self._loop = loop
        return self._session

    def _timeout(self, request: httpx.Request) -> aiohttp.ClientTimeout:
        """Return aiohttp's timeouts for httpx's: pool and connect, connect, read."""
        given = request.extensions.get("timeout", {})
        key = (given.get("pool"), given.get("connect"), given.get("read"))
        found = self._timeouts.get(key)
        if found is None:
            pool, connect, read = key
            found = aiohttp.ClientTimeout(
                total=None,
                connect=None if pool is None or connect is None else pool + connect,
                sock_connect=connect,
                sock_read=read,
            )
            self._timeouts[key] = found
        return found

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Check the URL, send through aiohttp's pool, return httpx's response with its body."""
        url = request.url
        self.policy.check_url(url)
        target = _Target(url.host.lower().rstrip("."), url.scheme == "http")
        headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() not in _FRAMING]
        body = await request.aread()
        token = _TARGET.set(target)
        try:
            with _translated(request, target):
                async with self._open_session().request(
                    request.method,
                    yarl.URL(str(url), encoded=True),
                    headers=headers,
                    data=body or None,
                    allow_redirects=False,
                    timeout=self._timeout(request),
                ) as answer:
                    content = await answer.read()
        finally:
            _TARGET.reset(token)
        version = answer.version or aiohttp.HttpVersion11
        return httpx.Response(
            answer.status,
            headers=list(answer.raw_headers),
            stream=_Body(content),
            extensions={
                "http_version": f"HTTP/{version.major}.{version.minor}".encode(),
                "reason_phrase": (answer.reason or "").encode("ascii", "replace"),
            },
        )

    async def aclose(self) -> None:
        """Close the pooled connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()


@contextmanager
def _translated(request: httpx.Request, target: _Target) -> Iterator[None]:
    """Raise httpx's exception for aiohttp's, and a refusal met while connecting as itself."""
    try:
        yield
    except aiohttp.ConnectionTimeoutError as err:
        raise httpx.ConnectTimeout(_text(err, "connect timed out"), request=request) from err
    except TimeoutError as err:  # aiohttp.ServerTimeoutError is one
        raise httpx.ReadTimeout(_text(err, "read timed out"), request=request) from err
    except aiohttp.ClientConnectorError as err:
        if target.refusal is not None:
            raise target.refusal from None
        raise httpx.ConnectError(_text(err, "cannot connect"), request=request) from err
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError) as err:
        raise httpx.RemoteProtocolError(_text(err, "server disconnected"), request=request) from err
    except aiohttp.ClientResponseError as err:  # an answer aiohttp could not parse
        raise httpx.RemoteProtocolError(_text(err, "malformed answer"), request=request) from err
    except (aiohttp.ClientOSError, aiohttp.ClientConnectionError) as err:
        raise httpx.ReadError(_text(err, "connection failed"), request=request) from err
    except aiohttp.ClientError as err:
        raise httpx.TransportError(_text(err, type(err).__name__), request=request) from err


def _text(err: BaseException, fallback: str) -> str:
    """Return an error's message, or ``fallback`` when it has none."""
    return str(err) or fallback


class _NoCookies(httpx.Cookies):
    """A cookie store that keeps nothing: a response's cookies are not even parsed."""

    def extract_cookies(self, response: httpx.Response) -> None:
        """Keep none of the response's cookies."""

    def set(self, name: str, value: str, domain: str = "", path: str = "/") -> None:
        """Keep no cookie set by hand either."""


class CookielessClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` that keeps no cookie, at no cost per response.

    httpx hands every response to the client's cookie jar; even a jar whose policy refuses
    everything parses the response and builds a ``urllib`` request for it (~4 % of the CPU of
    a synced call, profiled at 50 calls in flight).
    """

    _NONE = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        """Return the empty cookie store: nothing is kept, nothing is sent."""
        return self._NONE

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        """Refuse cookies set on the client: they would go to every company's CRM."""
        raise TypeError("the connectors' HTTP client keeps no cookie")


def client(policy: EgressPolicy, timeout: httpx.Timeout) -> httpx.AsyncClient:
    """Return the HTTP client connectors are given: every request checked by ``policy``.

    It keeps no cookie: one client serves every company's integrations, so a cookie one CRM
    account set would otherwise go back with another company's requests to the same host.
    """
    # A transport given explicitly also keeps httpx from routing through environment proxies,
    # which would make the connection's peer the proxy rather than the target.
    return CookielessClient(transport=EgressTransport(policy), timeout=timeout)
