"""Where connectors may send requests: public HTTPS addresses, or hosts the operator allowed.

A connector's ``base_url`` is chosen by a company admin. Unchecked, it could point Callbridge at
its own loopback, the cloud's metadata service or any internal host, and an error message would
then carry that host's answer back to the admin. So every request of the connectors' HTTP client
(:func:`callbridge.connectors.http_client.client`, the runtime's) passes two checks:

1. **The URL**, before anything is sent: ``https`` only, no user name or password in it, and a
   host written as an address (IPv6, IPv4 in any spelling the system resolver accepts, such as
   ``2130706433``, ``0x7f.1`` or ``017700000001``, IPv4-mapped IPv6) must be public.
2. **The connection**, before its socket connects: the address the socket is created for, the
   one it will reach, must be public. This is what refuses a public name that resolves to
   127.0.0.1, and DNS rebinding: the address checked is the one connected to, not one resolved
   earlier, so there is no window between check and use.

The operator lists exceptions in ``CALLBRIDGE_ALLOWED_PRIVATE_HOSTS`` (comma-separated host
names, addresses or networks such as ``127.0.0.1,crm.internal,10.0.0.0/8``): a listed name may
resolve to any address; an address inside a listed network may be reached; ``http`` is accepted
only to a listed name or to an address inside a listed network (checked on the connection).

A refused address never sees a connection attempt. Proxy variables of the environment are not used
by this client. Names are resolved by the system resolver, as any connection's are.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass

import httpx

from callbridge.errors import Permanent

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
SETTING = "CALLBRIDGE_ALLOWED_PRIVATE_HOSTS"
# NAT64 gateways translate this prefix to the IPv4 address in its last 32 bits (RFC 6052).
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Characters of the numeric IPv4 spellings inet_aton accepts (decimal, octal, hex, 1-4 parts).
_NUMERIC = re.compile(r"[0-9a-fx.]+")
QUOTE_LIMIT = 200


class EgressRefused(Permanent):
    """A connector request to a target the egress policy does not allow; never retried."""


def quote(text: str, limit: int = QUOTE_LIMIT) -> str:
    """Return a foreign message fit to quote in an error: one line, printable, at most ``limit``."""
    flat = "".join(c if c.isprintable() else " " for c in " ".join(str(text).split()))
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def literal(host: str) -> Address | None:
    """Return the address a host written as an IP literal means, or None for a name."""
    bare = host.strip("[]").split("%", 1)[0].lower()  # brackets and an IPv6 zone id
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    if _NUMERIC.fullmatch(bare):
        try:  # what getaddrinfo would make of "2130706433", "0x7f.1", "0177.0.0.1"
            return ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None
    return None


def unwrap(address: Address) -> Address:
    """Return the IPv4 address an IPv4-mapped, 6to4 or NAT64 IPv6 address leads to, else itself."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return embedded
    return address


def kind(address: Address) -> str | None:
    """Return why an address is not public (``loopback``, ``private``…), or None when it is."""
    address = unwrap(address)
    for name in ("loopback", "link_local", "multicast", "unspecified", "private", "reserved"):
        if getattr(address, f"is_{name}"):
            return name.replace("_", "-")
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "site-local"
    return None if address.is_global else "non-global"


@dataclass(frozen=True)
class EgressPolicy:
    """The operator's exceptions to "public HTTPS only": host names and networks."""

    names: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, text: str) -> EgressPolicy:
        """Read a comma-separated list of names, addresses and networks; raise ValueError."""
        names: set[str] = set()
        networks: list[Network] = []
        for entry in (item.strip() for item in text.split(",")):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            if literal(entry) is not None or not re.fullmatch(r"[A-Za-z0-9_.-]+", entry):
                raise ValueError(f"{SETTING}: {entry!r} is not a host name, address or network")
            names.add(entry.lower().rstrip("."))
        return cls(frozenset(names), tuple(networks))

    def listed(self, address: Address) -> bool:
        """Tell whether an address falls in a network the operator allowed."""
        candidates = {address, unwrap(address)}
        return any(a in network for a in candidates for network in self.networks)

    def check_url(self, url: httpx.URL) -> None:
        """Refuse a URL before sending: a scheme, credentials or a literal address not allowed."""
        host = url.host.lower().rstrip(".")
        if url.userinfo:
            raise EgressRefused(f"{_shown(url)}: a URL with a user name or password is refused")
        if url.scheme not in ("http", "https") or not host:
            raise EgressRefused(f"{_shown(url)}: only https URLs with a host are allowed")
        address = literal(host)
        allowed = host in self.names or (address is not None and self.listed(address))
        if url.scheme == "http" and address is not None and not allowed:
            raise EgressRefused(f"{_shown(url)}: only https is allowed{_HINT}")
        if address is not None and not allowed and kind(address) is not None:
            raise EgressRefused(f"{_shown(url)}: {address} is a {kind(address)} address{_HINT}")

    def check_peer(self, host: str, peer: str, *, plain_http: bool = False) -> None:
        """Refuse a connection to ``host`` that reached ``peer``: not public, or http not listed."""
        host = host.lower().rstrip(".")
        if host in self.names:
            return
        address = literal(peer)
        if address is None:
            raise EgressRefused(f"{quote(host, 100)}: connected to an unknown address")
        if self.listed(address):
            return
        if plain_http:
            raise EgressRefused(f"http://{quote(host, 100)}: only https is allowed{_HINT}")
        if kind(address) is not None:
            raise EgressRefused(
                f"{quote(host, 100)} resolved to {address}, a {kind(address)} address{_HINT}"
            )


_HINT = f" (an operator may allow a private host in {SETTING})"


def check_base_url(value: str) -> str:
    """Return a connector's ``base_url`` without its trailing slash; raise ValueError if malformed.

    Only the URL's shape is checked here; whether its target may be reached is decided on every
    request, by the policy of the process that sends it.
    """
    if len(value) > 2000:
        raise ValueError("base_url is longer than 2000 characters")
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as err:
        raise ValueError(f"base_url is not a URL ({err})") from err
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("base_url must be an https:// URL with a host (http: allowed hosts only)")
    if url.userinfo:
        raise ValueError("base_url must not carry a user name or password")
    if url.query or url.fragment:
        raise ValueError("base_url must not have a query or a fragment")
    return value.rstrip("/")


def _shown(url: httpx.URL) -> str:
    """Return a URL for an error message: scheme, host and port only, never credentials."""
    port = f":{url.port}" if url.port else ""
    return quote(f"{url.scheme}://{url.host}{port}", 120)
