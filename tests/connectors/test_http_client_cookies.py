"""The connectors' HTTP client keeps no cookie: one company's CRM cookies never reach another's."""

from __future__ import annotations

import asyncio

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.connectors.http_client import client
from tests.connectors.test_http_client import LOOPBACK, Answer, Server, _port, _serving

NAME = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=10)
VALUE = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=20)
ATTRIBUTES = st.sampled_from(["", "; Path=/", "; Path=/; HttpOnly", "; Max-Age=3600", "; Secure"])


@settings(max_examples=25)
@given(st.lists(st.tuples(NAME, VALUE, ATTRIBUTES), min_size=1, max_size=4))
def test_a_cookie_a_crm_sets_is_never_sent_back(cookies: list[tuple[str, str, str]]) -> None:
    """Whatever cookies an answer sets, the next request to that host carries none of them."""

    async def exchange() -> Server:
        set_cookies = [("set-cookie", f"{n}={v}{a}") for n, v, a in cookies]
        server = Server(Answer(headers=set_cookies, body=b"{}"))
        listening = await _serving(server.handle)
        try:
            async with client(LOOPBACK, httpx.Timeout(5.0)) as http:
                base = f"http://127.0.0.1:{_port(listening)}"
                await http.get(f"{base}/company-a")  # one company's integration
                await http.get(f"{base}/company-b")  # another's, to the same host
                assert not http.cookies
        finally:
            listening.close()
        return server

    server = asyncio.run(exchange())
    second_headers = dict(server.seen[1][2])
    assert "cookie" not in {name.lower() for name in second_headers}, second_headers
