"""An admin's ``base_url`` cannot reach a private service, nor read its answers back.

A loopback "internal service" stands in for what an attacker would aim at: by default the
integration's credentials check never sends it a request; when the operator allowed loopback,
its error answers come back only as a short quote, never as the whole body.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.api.app import create_app
from callbridge.connectors.egress import QUOTE_LIMIT
from callbridge.runtime import Runtime
from callbridge.service.bootstrap import create_company
from callbridge.settings import Settings
from tests.api.api_tenant import Tenant

MARKER = "INTERNAL-ONLY"
# Printable, no spaces: a quote keeps its first QUOTE_LIMIT characters, the marker comes later.
PRINTABLE = st.characters(categories=("L", "N", "P", "S"))


class InternalService:
    """A loopback HTTP server answering every request with one configurable answer."""

    def __init__(self) -> None:
        self.requests = 0
        self.answer = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Listen on a free loopback port."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening."""
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def respond(self, status: int, body: bytes, content_type: str) -> None:
        """Answer every later request with ``status`` and ``body``."""
        head = f"HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\n"
        head += f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        self.answer = head.encode() + body

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return  # connected, then dropped before a byte was sent: not a request
        self.requests += 1
        writer.write(self.answer)
        await writer.drain()
        writer.close()


@pytest.fixture
async def internal() -> AsyncIterator[InternalService]:
    """The internal service, on loopback."""
    service = InternalService()
    await service.start()
    yield service
    await service.stop()


def _body(connector: str, base_url: str) -> dict[str, object]:
    credentials = {"access_token": "pat-x"} if connector == "hubspot" else {"token": "bcrm_pat_x"}
    return {
        "connector": connector,
        "name": "Mine",
        "config": {"base_url": base_url},
        "credentials": credentials,
    }


HOSTS = st.sampled_from(
    ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "2130706433", "0x7f.0.0.1", "127.1"]
)


@settings(max_examples=20)
@given(
    host=HOSTS,
    scheme=st.sampled_from(["http", "https"]),
    decoy=st.sampled_from(["", "api.hubapi.com@"]),
    connector=st.sampled_from(["hubspot", "bottlecrm"]),
)
async def test_by_default_a_private_base_url_is_refused_before_any_request(
    acme: Tenant, internal: InternalService, host: str, scheme: str, decoy: str, connector: str
) -> None:
    internal.respond(200, json.dumps({"results": [], "secret": MARKER}).encode(), "text/json")
    before = len((await acme.client.get("/integrations")).json())
    url = f"{scheme}://{decoy}{host}:{internal.port}"
    answer = await acme.client.post("/integrations", json=_body(connector, url))
    assert answer.status_code == 422, answer.text
    assert MARKER not in answer.text
    assert internal.requests == 0, "the internal service received a request"
    assert len((await acme.client.get("/integrations")).json()) == before


@pytest.fixture
async def allowing(migrated_url: str, tmp_path: Path) -> AsyncIterator[Tenant]:
    """A company on a server whose operator allowed loopback targets."""
    settings_ = Settings(
        data_dir=tmp_path, database_url=migrated_url, allowed_private_hosts="127.0.0.1"
    )
    runtime = Runtime.create(settings_)
    company = await create_company(runtime, "Self-hosted")
    transport = httpx.ASGITransport(app=create_app(runtime))
    headers = {"Authorization": f"Bearer {company.api_key}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://callbridge.test", headers=headers
    ) as client:
        yield Tenant(company, client)
    await runtime.close()


def _foreign(status: int, message: str, as_json: bool) -> tuple[bytes, str]:
    if as_json:
        body: dict[str, Any] = {
            "status": "error",
            "message": message,
            "category": "VALIDATION_ERROR",
        }
        body |= {"errors": {"phone": [message]}, "detail": message}
        return json.dumps(body).encode(), "application/json"
    return f"<html><body><pre>{message}</pre></body></html>".encode(), "text/html"


@settings(max_examples=20)
@given(
    status=st.sampled_from([400, 401, 403, 404, 409, 422, 500, 502]),
    prefix=st.text(
        st.characters(categories=("L", "N", "P", "S")), min_size=QUOTE_LIMIT, max_size=2000
    ),
    as_json=st.booleans(),
    connector=st.sampled_from(["hubspot", "bottlecrm"]),
)
async def test_an_allowed_host_s_error_body_comes_back_only_as_a_short_quote(
    allowing: Tenant,
    internal: InternalService,
    status: int,
    prefix: str,
    as_json: bool,
    connector: str,
) -> None:
    internal.respond(status, *_foreign(status, prefix + MARKER, as_json))
    url = f"http://127.0.0.1:{internal.port}"
    answer = await allowing.client.post("/integrations", json=_body(connector, url))
    assert answer.status_code in (422, 502), answer.text
    assert internal.requests > 0, "the allowed host was not reached"
    assert MARKER not in answer.text, "the foreign body came back"
    # The CRM's code, a short quote and our own words: bounded whatever the body's size.
    assert len(answer.text) < 8 * QUOTE_LIMIT, answer.text


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A proxy in the environment must not change where requests go (it is not used)."""
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    yield
