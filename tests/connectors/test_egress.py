"""Connectors reach public https targets only, unless the operator allowed a private host.

The non-public addresses are drawn from IANA's special-purpose registries (an oracle independent
of the code under test), written in every spelling a URL or the system resolver accepts.
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass

import httpx
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from callbridge.connectors import egress, http_client
from callbridge.connectors.bottlecrm.config import BottleCrmConfig
from callbridge.connectors.egress import EgressPolicy, EgressRefused, check_base_url, quote
from callbridge.connectors.hubspot.config import HubSpotConfig
from callbridge.errors import Permanent

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# IANA IPv4/IPv6 special-purpose address registries: none of these is a public target.
NOT_PUBLIC_V4 = [
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/29", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
]  # fmt: skip
NOT_PUBLIC_V6 = [
    "::1/128", "::/128", "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10", "ff00::/8",
    "2001::/23",
]  # fmt: skip
PUBLIC_V4 = ["8.8.8.0/24", "1.1.1.0/24", "93.184.216.0/24", "151.101.0.0/16", "52.0.0.0/10"]
PUBLIC_V6 = ["2606:4700::/32", "2a00:1450::/32", "2600:1f18::/32"]


def _in(networks: list[str]) -> st.SearchStrategy[Address]:
    """Draw addresses anywhere inside one of ``networks``."""

    def inside(text: str) -> st.SearchStrategy[Address]:
        net = ipaddress.ip_network(text)
        first, last = int(net.network_address), int(net.broadcast_address)
        if net.version == 4:
            return st.integers(first, last).map(ipaddress.IPv4Address)
        return st.integers(first, last).map(ipaddress.IPv6Address)

    return st.sampled_from(networks).flatmap(inside)


def _v4_spellings(address: ipaddress.IPv4Address) -> st.SearchStrategy[str]:
    """Write an IPv4 address as dotted, integer, hex, octal, short forms, or inside IPv6."""
    n = int(address)
    octets = list(address.packed)
    forms = [
        str(address),
        str(n),
        hex(n),
        hex(n).upper().replace("0X", "0x"),
        ".".join(f"0{o:o}" for o in octets),
        ".".join(hex(o) for o in octets),
        f"{octets[0]}.{octets[1]}.{n & 0xFFFF}",
        f"{octets[0]}.{n & 0xFFFFFF}",
        f"[::ffff:{address}]",
        f"[::ffff:{n >> 16:x}:{n & 0xFFFF:x}]",
        f"[2002:{n >> 16:x}:{n & 0xFFFF:x}::1]",  # 6to4
        f"[64:ff9b::{address}]",  # NAT64
    ]
    return st.sampled_from(forms)


def _spellings(address: Address) -> st.SearchStrategy[str]:
    if isinstance(address, ipaddress.IPv4Address):
        return _v4_spellings(address)
    return st.sampled_from([f"[{address}]", f"[{address.exploded}]", f"[{str(address).upper()}]"])


@dataclass(frozen=True)
class Target:
    """A URL aimed at ``address``, however it is written."""

    address: Address
    url: str


@st.composite
def targets(draw: st.DrawFn, networks: st.SearchStrategy[Address]) -> Target:
    """Draw a URL at an address of ``networks``: any scheme spelling, port, decoy user, path."""
    address = draw(networks)
    host = draw(_spellings(address))
    scheme = draw(st.sampled_from(["https", "http", "HTTPS"]))
    port = draw(st.sampled_from(["", ":443", ":80", ":8111"]))
    path = draw(st.sampled_from(["", "/", "/crm/v3/objects/contacts", "/api/users/"]))
    return Target(address, f"{scheme}://{host}{port}{path}")


NOT_PUBLIC = st.one_of(_in(NOT_PUBLIC_V4), _in(NOT_PUBLIC_V6))
PUBLIC = st.one_of(_in(PUBLIC_V4), _in(PUBLIC_V6))


def parsable(url: str) -> bool:
    """Tell whether httpx can send to ``url`` at all (it refuses "00.00.00.00", for one)."""
    try:
        httpx.URL(url)
    except httpx.InvalidURL:
        return False
    return True


def refused(policy: EgressPolicy, url: str) -> bool:
    """Tell whether ``policy`` refuses ``url`` before anything is sent."""
    try:
        policy.check_url(httpx.URL(url))
    except (EgressRefused, httpx.InvalidURL):
        return True
    return False


@settings(max_examples=600)
@given(targets(NOT_PUBLIC))
def test_every_non_public_address_is_refused_however_it_is_written(target: Target) -> None:
    assert refused(EgressPolicy(), target.url), target


@settings(max_examples=300)
@given(targets(NOT_PUBLIC), st.sampled_from(["exact", "network"]))
def test_an_allowed_address_is_reached_over_http_and_https(target: Target, how: str) -> None:
    assume(parsable(target.url))
    address = egress.unwrap(target.address)  # the operator lists the address traffic reaches
    prefix = address.max_prefixlen if how == "exact" else address.max_prefixlen - 8
    listed = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    assert not refused(EgressPolicy.parse(f"203.0.113.7, {listed}"), target.url), target


@settings(max_examples=200)
@given(PUBLIC, st.sampled_from(["", ":443", ":8443"]))
def test_a_public_address_is_reached_over_https_only(address: Address, port: str) -> None:
    host = f"[{address}]" if address.version == 6 else str(address)
    assert not refused(EgressPolicy(), f"https://{host}{port}/x")
    assert refused(EgressPolicy(), f"http://{host}{port}/x")


@settings(max_examples=300)
@given(targets(NOT_PUBLIC), st.sampled_from(["public.example", "api.hubapi.com", "a:b"]))
def test_a_user_name_in_front_never_hides_the_host(target: Target, decoy: str) -> None:
    scheme, rest = target.url.split("://", 1)
    tricked = f"{scheme}://{decoy}@{rest}"
    assert refused(EgressPolicy(), tricked)
    # Even an allowed host is refused with credentials in the URL: they would be sent.
    assert refused(EgressPolicy.parse(str(egress.unwrap(target.address))), tricked)


@settings(max_examples=400)
@given(NOT_PUBLIC, st.sampled_from(["crm.example.com", "api.hubapi.com", "rebind.test."]))
def test_a_public_name_that_reached_a_private_address_is_refused(
    address: Address, name: str
) -> None:
    with pytest.raises(EgressRefused, match="resolved to"):
        EgressPolicy().check_peer(name, str(address))
    EgressPolicy.parse(name.rstrip(".").upper()).check_peer(name, str(address))  # listed by name
    EgressPolicy.parse(str(egress.unwrap(address))).check_peer(name, str(address))


@settings(max_examples=200)
@given(PUBLIC, st.sampled_from(["crm.example.com", "api.hubapi.com"]))
def test_a_public_peer_is_fine_over_https_only(address: Address, name: str) -> None:
    EgressPolicy().check_peer(name, str(address))
    with pytest.raises(EgressRefused, match="only https"):
        EgressPolicy().check_peer(name, str(address), plain_http=True)


def test_a_refusal_is_permanent_and_the_setting_is_read_strictly() -> None:
    assert issubclass(EgressRefused, Permanent)  # never retried until the horizon
    policy = EgressPolicy.parse(" 127.0.0.1 , crm.internal., 10.0.0.0/8,[::1],")
    assert policy.names == {"crm.internal"}
    assert len(policy.networks) == 3
    for bad in ("2130706433", "http://x", "a b", "0x7f.1"):
        with pytest.raises(ValueError, match="ALLOWED_PRIVATE_HOSTS"):
            EgressPolicy.parse(bad)


@settings(max_examples=200)
@given(st.text(max_size=3000))
def test_a_quoted_foreign_message_is_one_short_printable_line(text: str) -> None:
    quoted = quote(text)
    assert len(quoted) <= egress.QUOTE_LIMIT
    assert quoted.isprintable()
    assert "\n" not in quoted
    words = " ".join(text.split())
    if words.isprintable():  # nothing was replaced: the quote is the message's beginning
        assert words.startswith(quoted.removesuffix("…"))


@settings(max_examples=200)
@given(targets(st.one_of(NOT_PUBLIC, PUBLIC)), st.sampled_from(["user@", "a:b@", ""]))
def test_config_base_url_keeps_only_well_formed_urls(target: Target, userinfo: str) -> None:
    scheme, rest = target.url.split("://", 1)
    url = f"{scheme}://{userinfo}{rest}"
    assume(parsable(url))
    for config in (HubSpotConfig, BottleCrmConfig):
        if userinfo:
            with pytest.raises(ValueError, match="user name or password"):
                config.model_validate({"base_url": url})
        else:
            assert config.model_validate({"base_url": url}).base_url == url.rstrip("/")
    for bad in ("ftp://crm.example.com", "crm.example.com", "https://x.test/?a=1", "https://"):
        with pytest.raises(ValueError, match="base_url"):
            check_base_url(bad)


class Listener:
    """A loopback HTTP server that counts the connections it accepted."""

    def __init__(self) -> None:
        self.accepted = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()


async def _fetch(policy: EgressPolicy, url_of: str) -> tuple[str, int]:
    """Send one GET through the connectors' client to a fresh listener; return outcome, accepts."""
    listener = Listener()
    server = await asyncio.start_server(listener.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with http_client.client(policy, httpx.Timeout(5.0)) as http:
            try:
                answer = await http.get(url_of.replace("PORT", str(port)))
                outcome = answer.text
            except (EgressRefused, httpx.InvalidURL) as err:  # httpx refuses "0177.00.00.01"
                outcome = f"refused: {err}"
    finally:
        server.close()
        await server.wait_closed()
    return outcome, listener.accepted


@settings(max_examples=25)
@given(_v4_spellings(ipaddress.IPv4Address("127.0.0.1")), st.sampled_from(["http", "https"]))
def test_the_client_never_connects_to_a_refused_loopback_spelling(host: str, scheme: str) -> None:
    outcome, accepted = asyncio.run(_fetch(EgressPolicy(), f"{scheme}://{host}:PORT/"))
    assert outcome.startswith("refused"), outcome
    assert accepted == 0


@pytest.mark.parametrize(
    ("allowed", "url", "reached"),
    [
        ("", "https://localhost:PORT/", False),  # a name resolving to 127.0.0.1: checked on connect
        ("", "http://localhost:PORT/", False),
        ("127.0.0.1", "http://localhost:PORT/", True),  # the address reached is listed
        ("localhost", "http://localhost:PORT/", True),
        ("127.0.0.1", "http://127.0.0.1:PORT/", True),
        ("10.0.0.0/8", "http://localhost:PORT/", False),
    ],
)
def test_the_address_reached_decides(allowed: str, url: str, reached: bool) -> None:
    outcome, _ = asyncio.run(_fetch(EgressPolicy.parse(allowed), url))
    assert (outcome == "ok") is reached, outcome
