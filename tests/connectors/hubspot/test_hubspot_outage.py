"""A HubSpot outage over HTTP: syncs wait together behind the breaker and all resume, none dead.

The server runs with short retry and breaker timings (its settings, from the environment), so
an outage of a few seconds stands for one of hours; the fake answers 502 to every request while
it lasts, then recovers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from callbridge.connectors.hubspot.fake import FakeHubSpot
from callbridge.testing.servers import eventually
from tests.connectors.hubspot.hubspot_server import HubSpotServer, serving

pytestmark = pytest.mark.slow

SHORT = {
    "CALLBRIDGE_RETRY_BASE_SECONDS": "0.2",
    "CALLBRIDGE_RETRY_CAP_SECONDS": "1",
    "CALLBRIDGE_RETRY_HORIZON_SECONDS": "120",
    "CALLBRIDGE_BREAKER_FAILURES": "3",
    "CALLBRIDGE_BREAKER_OPEN_SECONDS": "1",
    "CALLBRIDGE_BREAKER_MAX_OPEN_SECONDS": "2",
}
KNOWN = [f"+1415555{n:04d}" for n in range(700, 704)]
UNKNOWN = [f"+1415555{n:04d}" for n in range(800, 804)]
OUTAGE_SECONDS = 8


@pytest.fixture
async def short_server(
    database_url: str, tmp_path: Path, fake: FakeHubSpot, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[HubSpotServer]:
    """A server with retry and breaker timings in seconds, on SQLite and on PostgreSQL."""
    for name, value in SHORT.items():
        monkeypatch.setenv(name, value)
    async with serving(database_url, tmp_path, fake) as server:
        yield server


async def test_every_call_is_synced_once_after_an_outage_and_none_is_dead(
    short_server: HubSpotServer, fake: FakeHubSpot
) -> None:
    server = short_server
    for number in KNOWN:
        fake.state.add("contacts", {"firstname": "Known", "phone": number})
    calls = {f"outage-{i}": number for i, number in enumerate(KNOWN + UNKNOWN)}
    async with server.client() as client:
        fake.state.force(502, times=1_000_000)  # HubSpot is down
        for call_id, number in calls.items():
            await server.send_call(client, call_id, "incoming", number, True)
        await eventually(
            lambda: unreachable(server, client), "the CRM to show unreachable", within=30
        )
        shown = (await client.get(server.integration_path)).json()["crm_status"]
        assert shown["message"].startswith("CRM unreachable since ")
        waiting = await waiting_calls(server, client)
        assert waiting, "calls behind the open breaker say why they wait"

        await eventually(
            lambda: quiet(fake), "the breaker to hold syncs", within=OUTAGE_SECONDS + 30
        )
        requests_down = len(fake.state.requests)
        await asyncio.sleep(OUTAGE_SECONDS)
        during = len(fake.state.requests) - requests_down
        # Behind the breaker only probes reach HubSpot: a few per second at most, not every sync.
        assert during <= OUTAGE_SECONDS * 2, f"{during} requests in {OUTAGE_SECONDS} s"

        fake.state.forced.clear()  # HubSpot is back
        await server.wait_settled(calls, frozenset({"done"}), within=90)
        await server.wait_idle(client, within=60)
        dead = (await client.get("/jobs/dead")).json()
        assert [
            j for j in dead if j["payload"].get("integration_id") == server.integration_id
        ] == []
        assert (await client.get(server.integration_path)).json()["crm_status"]["state"] == (
            "reachable"
        )
        listed = (await client.get("/calls", params={"limit": 100})).json()["calls"]
    by_provider = {c["provider_call_id"]: c["id"] for c in listed}
    for call_id in calls:
        assert len(server.engagements(by_provider[call_id])) == 1, f"{call_id} logged once"
    for number in UNKNOWN:
        assert len(server.contacts(number)) == 1, f"one contact for {number}"


async def unreachable(server: HubSpotServer, client: httpx.AsyncClient) -> bool:
    """Tell whether the integration shows its CRM as unreachable."""
    shown = (await client.get(server.integration_path)).json()
    return bool(shown["crm_status"]["state"] in ("unreachable", "probing"))


async def waiting_calls(server: HubSpotServer, client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Return the HubSpot syncs whose call page says the CRM is unreachable."""
    listed = (await client.get("/calls", params={"limit": 100})).json()["calls"]
    found = []
    for call in listed:
        page = (await client.get(f"/calls/{call['id']}")).json()
        for sync in page["syncs"]:
            if sync["integration_id"] == server.integration_id and sync["crm_unreachable_since"]:
                assert sync["status"] in ("waiting", "failed"), sync
                assert sync["crm_status"].startswith("CRM unreachable since "), sync
                found.append(sync)
    return found


async def quiet(fake: FakeHubSpot) -> bool:
    """Tell whether HubSpot got at most a probe's requests in the last half second."""
    before = len(fake.state.requests)
    await asyncio.sleep(0.5)
    return len(fake.state.requests) - before <= 2
