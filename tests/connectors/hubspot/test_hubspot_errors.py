"""Each HubSpot failure leaves the connector as the error kind that says what to do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from callbridge.connectors.hubspot.client import _TOKENS
from callbridge.connectors.hubspot.fake import FakeHubSpot
from callbridge.domain.phone import parse_e164
from callbridge.domain.record import ContactDraft
from callbridge.errors import AuthFailed, Permanent, RateLimited, Transient
from callbridge.testing.contract import draft
from tests.connectors.hubspot.hubspot_setup import MakeConnector

PHONE = parse_e164("+14155550134")


async def test_a_wrong_token_is_auth_failed(make_connector: MakeConnector) -> None:
    connector = make_connector({"access_token": "pat-na1-revoked"})
    with pytest.raises(AuthFailed, match="Authentication credentials not found"):
        await connector.check()


async def test_missing_credentials_are_auth_failed(make_connector: MakeConnector) -> None:
    with pytest.raises(AuthFailed):
        await make_connector({}).find_by_phone(PHONE)


async def test_a_403_is_auth_failed(make_connector: MakeConnector, fake: FakeHubSpot) -> None:
    fake.state.force(403)
    with pytest.raises(AuthFailed, match="403"):
        await make_connector().find_by_phone(PHONE)


async def test_ten_secondly_429_is_a_short_reschedule(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    fake.state.force(429, policy="TEN_SECONDLY_ROLLING")
    with pytest.raises(RateLimited, match="TEN_SECONDLY_ROLLING") as caught:
        await make_connector().find_by_phone(PHONE)
    assert 0 < caught.value.retry_after <= 10


async def test_daily_429_waits_for_the_reset_and_tells_the_admin(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    fake.state.force(429, policy="DAILY")
    noon = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    with pytest.raises(RateLimited, match="daily API limit") as caught:
        await make_connector(clock=lambda: noon).find_by_phone(PHONE)
    assert caught.value.retry_after == pytest.approx(12 * 3600 + 5)
    assert "Admin" in str(caught.value)


async def test_5xx_is_transient(make_connector: MakeConnector, fake: FakeHubSpot) -> None:
    fake.state.force(502)
    with pytest.raises(Transient, match="502"):
        await make_connector().find_by_phone(PHONE)


async def test_unreachable_is_transient(make_connector: MakeConnector) -> None:
    connector = make_connector(base_url="http://127.0.0.1:9")
    with pytest.raises(Transient, match="unreachable"):
        await connector.find_by_phone(PHONE)


async def test_a_timeout_is_transient(make_connector: MakeConnector) -> None:
    connector = make_connector()

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    connector.client.http = httpx.AsyncClient(transport=httpx.MockTransport(slow))
    with pytest.raises(Transient, match="in time"):
        await connector.find_by_phone(PHONE)


async def test_other_4xx_is_permanent_with_hubspots_message(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    connector = make_connector()
    with pytest.raises(Permanent, match="only HTTPS"):
        await connector.client.request(
            "POST",
            "/crm/v3/objects/calls",
            json={"properties": {"hs_timestamp": "1", "hs_call_recording_url": "http://x"}},
        )
    contact = fake.state.add("contacts", {"phone": "+14155550134"})
    with pytest.raises(Permanent, match="404: resource not found"):
        await connector.update_call("999999", draft(contact["id"]))


async def test_without_consent_missing_properties_are_permanent_and_say_so(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    contact = fake.state.add("contacts", {"phone": "+14155550134"})
    connector = make_connector(create_custom_properties=False)
    with pytest.raises(Permanent, match="create_custom_properties"):
        await connector.log_call(draft(contact["id"]))
    assert "callbridge_external_id" not in fake.state.properties["calls"]


async def test_oauth_token_is_refreshed_before_expiry(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    _TOKENS.clear()
    fake.state.oauth_clients["app"] = "shh"
    fake.state.refresh_tokens.add("refresh-1")
    fake.state.tokens = {"oauth-old"}
    soon = datetime.now(UTC) + timedelta(minutes=2)  # inside the refresh margin
    credentials = {"access_token": "oauth-old", "refresh_token": "refresh-1"}
    credentials |= {"expires_at": soon.isoformat(), "client_id": "app", "client_secret": "shh"}
    connector = make_connector(credentials)
    fake.state.tokens.discard("oauth-old")  # HubSpot would refuse it any second now
    assert await connector.find_by_phone(PHONE) == []
    assert ("POST", "/oauth/v1/token") in fake.state.requests
    refreshes = fake.state.requests.count(("POST", "/oauth/v1/token"))
    await make_connector(credentials).find_by_phone(PHONE)  # another job: reuses the new token
    assert fake.state.requests.count(("POST", "/oauth/v1/token")) == refreshes


async def test_a_refused_refresh_is_auth_failed(make_connector: MakeConnector) -> None:
    _TOKENS.clear()
    credentials = {"access_token": "x", "refresh_token": "revoked", "client_id": "app"}
    credentials["expires_at"] = "2020-01-01T00:00:00+00:00"
    with pytest.raises(AuthFailed, match="refresh"):
        await make_connector(credentials).create_contact(ContactDraft("A", "+14155550134"))
