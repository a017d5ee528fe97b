"""BottleCRM failures become Callbridge error kinds: bad token, throttle, bad input, outage."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from callbridge.connectors.bottlecrm.client import BottleCrmClient, raise_for_status
from callbridge.domain.phone import parse_e164
from callbridge.errors import AuthFailed, ConnectorError, Permanent, RateLimited, Transient
from callbridge.testing.bottlecrm_server import BottleCrm, BottleCrmOrg, Gunicorn
from callbridge.testing.servers import free_port
from tests.connectors.bottlecrm.bottlecrm_setup import bottlecrm_connector

pytestmark = pytest.mark.slow

NUMBER = parse_e164("+14155550134")


async def test_a_bad_token_is_auth_failed(http: httpx.AsyncClient, bottlecrm: BottleCrm) -> None:
    connector = bottlecrm_connector(http, bottlecrm.url, "bcrm_pat_not-a-real-token")
    with pytest.raises(AuthFailed, match="Organization context is required"):
        await connector.check()
    with pytest.raises(AuthFailed):
        await connector.find_by_phone(NUMBER)


async def test_no_token_at_all_is_auth_failed(http: httpx.AsyncClient) -> None:
    client = BottleCrmClient(http, "http://127.0.0.1:9", None)
    with pytest.raises(AuthFailed, match="no BottleCRM token"):
        await client.users()


async def test_the_throttled_duplicates_lookup_is_rate_limited_with_retry_after(
    http: httpx.AsyncClient, bottlecrm_throttled: Gunicorn, bottlecrm_org: BottleCrmOrg
) -> None:
    connector = bottlecrm_connector(http, bottlecrm_throttled.url, bottlecrm_org.token)
    gate = asyncio.Semaphore(8)

    async def lookup() -> ConnectorError | None:
        async with gate:
            try:
                await connector.find_by_phone(NUMBER)  # two throttled lookups: contacts, leads
            except ConnectorError as err:
                return err
            return None

    outcomes = await asyncio.gather(*(lookup() for _ in range(70)))
    refusals = [err for err in outcomes if err is not None]
    assert refusals, "140 lookups in a minute should pass BottleCRM's 120/min"
    assert all(isinstance(err, RateLimited) for err in refusals), refusals
    assert all(0 < err.retry_after <= 60 for err in refusals if isinstance(err, RateLimited))


async def test_refused_fields_are_permanent_and_named(
    http: httpx.AsyncClient, bottlecrm: BottleCrm, bottlecrm_org: BottleCrmOrg
) -> None:
    client = BottleCrmClient(http, bottlecrm.url, bottlecrm_org.token)
    with pytest.raises(Permanent, match=r"answered 400: .*phone: Enter a valid phone number"):
        await client.create("contacts", {"first_name": "A", "last_name": "B", "phone": "call me"})


async def test_an_unreachable_server_is_transient(http: httpx.AsyncClient) -> None:
    connector = bottlecrm_connector(http, f"http://127.0.0.1:{free_port()}", "bcrm_pat_x")
    with pytest.raises(Transient):
        await connector.find_by_phone(NUMBER)


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind"),
    [
        (403, {"detail": "Organization context is required. Please login again."}, {}, AuthFailed),
        (401, {"detail": "Invalid token."}, {}, AuthFailed),
        (403, {"error": True, "errors": "Only the person who logged this"}, {}, Permanent),
        (429, {"detail": "Request was throttled."}, {"Retry-After": "17"}, RateLimited),
        (500, {"detail": "boom"}, {}, Transient),
        (503, {}, {}, Transient),
        (404, {"detail": "No such record."}, {}, Permanent),
        (
            400,
            {"error": True, "errors": {"outcome": ['"x" is not a valid choice.']}},
            {},
            Permanent,
        ),
    ],
)
def test_each_status_becomes_one_error_kind(
    status: int, body: dict[str, object], headers: dict[str, str], kind: type[Exception]
) -> None:
    request = httpx.Request("POST", "http://crm.test/api/interactions/")
    response = httpx.Response(status, json=body, headers=headers, request=request)
    with pytest.raises(kind) as raised:
        raise_for_status(response, "POST /api/interactions/")
    if isinstance(raised.value, RateLimited):
        assert raised.value.retry_after == 17


async def test_a_timeout_is_transient(bottlecrm_org: BottleCrmOrg) -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(hang)) as slow:
        client = BottleCrmClient(slow, "http://crm.test", bottlecrm_org.token)
        with pytest.raises(Transient, match="timed out"):
            await client.users()
