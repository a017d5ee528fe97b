"""A dead sync replayed from the call's page, in Chromium, against a real server and HubSpot.

The HubSpot fake refuses every request with a 400 while the call arrives, so its sync fails for
good (a permanent refusal is not retried); once HubSpot answers again, the admin opens the call,
sees the failure and presses Replay, and the call's engagement lands in HubSpot, once.
Playwright's async API here: the server and the fake are async context managers of this loop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import async_playwright, expect

from callbridge.connectors.hubspot.fake import FakeHubSpot
from callbridge.testing.servers import eventually
from tests.connectors.hubspot.hubspot_server import HubSpotServer, serving
from tests.ui.browser import ARGS, CHROMIUM

pytestmark = pytest.mark.slow
NUMBER = "+33612345077"


async def _dead_of(server: HubSpotServer, client: httpx.AsyncClient) -> list[dict[str, Any]]:
    dead = (await client.get("/jobs/dead")).json()
    return [j for j in dead if j["payload"].get("integration_id") == server.integration_id]


async def _call_id(client: httpx.AsyncClient, provider_call_id: str) -> str:
    listed = (await client.get("/calls")).json()["calls"]
    return str(next(c["id"] for c in listed if c["provider_call_id"] == provider_call_id))


async def test_a_dead_sync_is_replayed_from_the_call_page(
    database_url: str, tmp_path: Path
) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    with FakeHubSpot() as fake:
        async with serving(database_url, tmp_path, fake) as server, server.client() as client:
            fake.state.force(400, times=1000)
            await server.send_call(client, "ui-dead", "incoming", NUMBER, answered=False)
            await eventually(lambda: _dead_of(server, client), "the HubSpot sync to die")
            fake.state.forced.clear()
            call_id = await _call_id(client, "ui-dead")
            assert server.engagements(call_id) == []
            await _replay_in_browser(server, call_id)
            await server.wait_settled(["ui-dead"])
            assert len(server.engagements(call_id)) == 1
            assert await _dead_of(server, client) == []


async def _replay_in_browser(server: HubSpotServer, call_id: str) -> None:
    """Sign in, open the call, press every Replay until no failure is left on the page."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = await browser.new_page()
            await page.goto(f"{server.url}/ui/")
            await page.get_by_label("Admin API key").fill(server.company.api_key)
            await page.get_by_role("button", name="Sign in").click()
            await page.wait_for_url(f"{server.url}/ui/integrations")
            await page.goto(f"{server.url}/ui/calls/{call_id}")
            await expect(page.get_by_role("heading", name="Failed for good")).to_be_visible()
            assert "HubSpot" in await page.locator("div.error").first.inner_text()
            while await page.get_by_role("button", name="Replay").count():
                await page.get_by_role("button", name="Replay").first.click()
                await expect(page.get_by_role("status")).to_contain_text("Replayed")
        finally:
            await browser.close()
