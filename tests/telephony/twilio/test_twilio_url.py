"""The URL a webhook was posted to: CALLBRIDGE_PUBLIC_URL, else the request's, proxies trusted."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from callbridge.api.public_url import public_url
from callbridge.settings import Settings

PATH = "/webhooks/twilio/5f0c7a1e-2b6d-4c1a-9e3f-7d8a6b5c4e21"
FORWARDED = {"x-forwarded-proto": "https", "x-forwarded-host": "cb.example.com"}


def scope(peer: str = "10.0.0.7", query: bytes = b"", **more: Any) -> dict[str, Any]:
    """Return an ASGI scope of a webhook request from ``peer``."""
    return {
        "type": "http",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": query,
        "client": (peer, 51234),
        "server": ("10.0.0.2", 8000),
        **more,
    }


def settings(**values: Any) -> Settings:
    """Return settings with ``values`` (nothing read from the environment matters here)."""
    return Settings(**{"public_url": None, "trusted_proxies": "", **values})


HOST = {"host": "10.0.0.2:8000"}


def test_without_settings_the_request_url_as_received() -> None:
    assert public_url(scope(), HOST, settings()) == f"http://10.0.0.2:8000{PATH}"


def test_the_query_and_the_paths_escapes_are_kept() -> None:
    raw = scope(query=b"bodySHA256=ab%2Fc&x=1", raw_path=(PATH + "%2F").encode())
    assert (
        public_url(raw, HOST, settings()) == f"http://10.0.0.2:8000{PATH}%2F?bodySHA256=ab%2Fc&x=1"
    )


def test_public_url_wins_over_every_header() -> None:
    chosen = settings(public_url="https://calls.example.com/cb/", trusted_proxies="10.0.0.0/8")
    assert (
        public_url(scope(), {**HOST, **FORWARDED}, chosen) == f"https://calls.example.com/cb{PATH}"
    )


@pytest.mark.parametrize(
    "trusted", ["10.0.0.7", "10.0.0.0/8", "192.0.2.1, 10.0.0.0/24", "::1,10.0.0.7/32"]
)
def test_a_trusted_proxy_says_the_scheme_and_host(trusted: str) -> None:
    url = public_url(scope(), {**HOST, **FORWARDED}, settings(trusted_proxies=trusted))
    assert url == f"https://cb.example.com{PATH}"


@pytest.mark.parametrize("trusted", ["", "10.0.1.0/24", "192.0.2.1"])
def test_an_untrusted_peers_forwarded_headers_are_ignored(trusted: str) -> None:
    url = public_url(scope(), {**HOST, **FORWARDED}, settings(trusted_proxies=trusted))
    assert url == f"http://10.0.0.2:8000{PATH}"


def test_an_ipv4_proxy_seen_through_a_dual_stack_socket_is_trusted() -> None:
    url = public_url(
        scope(peer="::ffff:10.0.0.7"), {**HOST, **FORWARDED}, settings(trusted_proxies="10.0.0.7")
    )
    assert url == f"https://cb.example.com{PATH}"


def test_the_last_entry_is_the_one_our_proxy_wrote() -> None:
    headers = {
        **HOST,
        "x-forwarded-proto": "http, https",
        "x-forwarded-host": "evil.test, cb.example.com",
    }
    url = public_url(scope(), headers, settings(trusted_proxies="10.0.0.7"))
    assert url == f"https://cb.example.com{PATH}"


def test_an_odd_forwarded_scheme_is_ignored() -> None:
    headers = {**HOST, "x-forwarded-proto": "javascript"}
    assert public_url(scope(), headers, settings(trusted_proxies="10.0.0.7")).startswith("http://")


def test_a_peer_that_is_no_address_is_not_trusted() -> None:
    headers = {**HOST, **FORWARDED}
    unix = scope(peer="/run/callbridge.sock")
    assert public_url(unix, headers, settings(trusted_proxies="10.0.0.0/8")).startswith("http://10")
    assert public_url(
        scope(client=None), headers, settings(trusted_proxies="10.0.0.0/8")
    ).startswith("http://10")


def test_without_a_host_header_the_servers_address() -> None:
    assert public_url(scope(), {}, settings()) == f"http://10.0.0.2:8000{PATH}"


def test_a_trusted_proxies_entry_that_is_no_network_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match=r"proxy\.example\.com"):
        Settings(trusted_proxies="10.0.0.1, proxy.example.com")


@given(
    st.dictionaries(st.sampled_from(["host", "x-forwarded-proto", "x-forwarded-host"]), st.text())
)
def test_any_headers_give_a_url_of_this_path(headers: dict[str, str]) -> None:
    url = public_url(scope(), headers, settings(trusted_proxies="10.0.0.7"))
    assert url.endswith(PATH)
    assert url.split("://", 1)[0] in ("http", "https")
