"""The public URL a webhook was posted to, as the platform saw it (Twilio signs the whole URL).

With ``CALLBRIDGE_PUBLIC_URL`` set, the URL is that base, the request's path and its query:
nothing a client sends changes it. Unset, it is the URL of the request as received, where a
reverse proxy listed in ``CALLBRIDGE_TRUSTED_PROXIES`` (and only such a proxy: anyone else could
write the headers) may say the scheme and host it was reached at with ``X-Forwarded-Proto`` and
``X-Forwarded-Host``. Users' docs: ``docs/telephony/twilio.md#behind-a-reverse-proxy``.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Mapping
from typing import Any

from callbridge.settings import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_SCHEMES = frozenset({"http", "https"})


def public_url(scope: Mapping[str, Any], headers: Mapping[str, str], settings: Settings) -> str:
    """Return the URL the request was sent to: scheme, host, path and query, as received."""
    path = _raw_path(scope)
    query = scope.get("query_string", b"").decode("latin-1")
    tail = f"{path}?{query}" if query else path
    return public_base(scope, headers, settings) + tail


def public_base(scope: Mapping[str, Any], headers: Mapping[str, str], settings: Settings) -> str:
    """Return the address the request reached Callbridge at (``scheme://host``, no slash)."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    scheme, host = scope.get("scheme", "http"), headers.get("host") or _server(scope)
    if _trusted(scope, settings.trusted_proxies):
        forwarded_scheme = _last(headers.get("x-forwarded-proto"))
        scheme = forwarded_scheme if forwarded_scheme in _SCHEMES else scheme
        host = _last(headers.get("x-forwarded-host")) or host
    return f"{scheme}://{host}"


def _raw_path(scope: Mapping[str, Any]) -> str:
    """Return the path as sent (its percent-escapes kept), which is what the sender signed."""
    raw = scope.get("raw_path")
    return raw.decode("latin-1") if isinstance(raw, bytes) else str(scope.get("path", "/"))


def _server(scope: Mapping[str, Any]) -> str:
    """Return the address the server listens on, for a request without a Host header."""
    server = scope.get("server")
    if not server:
        return "localhost"
    host, port = server
    return f"{host}:{port}" if port is not None else str(host)


def _last(value: str | None) -> str:
    """Return the last entry of a forwarded header: the one our own (trusted) proxy wrote."""
    return value.rsplit(",", 1)[-1].strip() if value else ""


def _trusted(scope: Mapping[str, Any], proxies: str) -> bool:
    """Tell whether the request's peer is one of the trusted proxies."""
    client = scope.get("client")
    networks = _networks(proxies)
    if not client or not networks:
        return False
    try:
        peer = ipaddress.ip_address(client[0])
    except ValueError:
        return False
    if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped is not None:
        peer = peer.ipv4_mapped  # an IPv4 proxy seen through a dual-stack socket
    return any(peer in network for network in networks)


@functools.lru_cache(maxsize=8)
def _networks(proxies: str) -> tuple[Network, ...]:
    """Parse ``CALLBRIDGE_TRUSTED_PROXIES`` (validated at start-up by the settings)."""
    items = (item.strip() for item in proxies.split(","))
    return tuple(ipaddress.ip_network(item, strict=False) for item in items if item)
