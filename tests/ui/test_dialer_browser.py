"""The agent's dialer in Chromium against a real server: a contact and a lead chosen before a
call, and the call's log lands on both."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, expect

from callbridge.testing.webhooks import call_sequence
from tests.e2e.e2e_server import Server, wait_synced
from tests.ui.browser import in_thread, offline_page, screenshot

pytestmark = pytest.mark.slow
NUMBER = "+14155550134"


async def _desk(server: Server) -> tuple[str, list[dict[str, Any]]]:
    """An agent allowed to choose, and three records matching NUMBER: its token, the records."""
    async with server.client() as client:
        team = await client.post(
            "/teams", json={"name": "Sales", "permissions": ["is_multicrm_sync"]}
        )
        body = {"name": "Ann", "email": "ann@acme.test", "team_id": team.json()["id"]}
        user = (await client.post("/users", json=body)).json()
        token = (await client.post(f"/users/{user['id']}/tokens")).json()["token"]
        config = {"select_contact_manually": True, "selection_grace_seconds": 30}
        await client.patch(
            f"/integrations/{server.company.integration_id}", json={"config": config}
        )
        made = []
        for name, kind in (("Jane", "contact"), ("Jane bis", "contact"), ("Jane Lead", "lead")):
            record = {"name": name, "object_type": kind, "phones": ["(415) 555-0134"]}
            made.append((await client.post(server.records_path, json=record)).json())
    return str(token), made


async def _call_and_count(server: Server, records: list[dict[str, Any]]) -> list[int]:
    """Send Ann's outgoing call to NUMBER; return each record's number of activities."""
    async with server.client() as client:
        events = call_sequence(
            "ui-pre", "outgoing", NUMBER, answered=True, agent_email="ann@acme.test"
        )
        for event in events:
            assert (await server.send(client, event)).status_code == 200
        await wait_synced(client, "ui-pre")
        counts = []
        for record in records:
            found = (await client.get(f"{server.records_path}/{record['id']}")).json()
            counts.append(len(found["activities"]))
    return counts


def test_an_agent_picks_a_contact_and_a_lead_and_the_log_lands_on_both(
    server: Server, browser: Browser
) -> None:
    token, records = in_thread(_desk(server))
    base = server.url
    with offline_page(browser, base) as (page, offline):
        page.goto(f"{base}/ui/dialer")
        page.get_by_label("Agent token").fill(token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/ui/dialer")
        page.get_by_label("Number").fill(NUMBER)
        page.get_by_role("button", name="Find records").click()
        expect(page.get_by_text("+3", exact=True)).to_be_visible()
        page.get_by_label("Jane bis").check()
        page.get_by_label("Jane Lead").check()
        page.get_by_role("button", name="Log my next call there").click()
        expect(page.locator("#result li")).to_have_count(2)
        expect(page.locator("#result")).to_contain_text("✓ Jane bis (contact)")
        expect(page.locator("#result")).to_contain_text("✓ Jane Lead (lead)")
    assert not offline.refused, f"requests left 127.0.0.1: {offline.refused}"
    assert in_thread(_call_and_count(server, records)) == [0, 1, 1]


def _settled(box: Locator) -> None:
    """Wait until htmx has settled what it swapped into ``box``.

    htmx binds the new content's own requests (the filter's change, the form's post) only when
    it settles, 20 ms after the swap: a test acting sooner would change a filter nobody listens
    to. (A person does not act within 20 ms.)
    """
    expect(box).not_to_have_class(re.compile(r"\bhtmx-settling\b"))


async def _send(server: Server, events: list[dict[str, Any]]) -> None:
    async with server.client() as client:
        for event in events:
            assert (await server.send(client, event)).status_code == 200


async def _synced_counts(server: Server, records: list[dict[str, Any]]) -> list[int]:
    async with server.client() as client:
        await wait_synced(client, "ui-live")
        counts = []
        for record in records:
            found = (await client.get(f"{server.records_path}/{record['id']}")).json()
            counts.append(len(found["activities"]))
    return counts


def test_a_ringing_call_shows_its_matches_live_and_the_agents_pick_gets_the_log(
    server: Server, browser: Browser
) -> None:
    token, records = in_thread(_desk(server))
    base = server.url
    ringing, *rest = call_sequence(
        "ui-live", "incoming", NUMBER, answered=True, agent_email="ann@acme.test"
    )
    with offline_page(browser, base) as (page, offline):
        page.goto(f"{base}/ui/dialer")
        page.get_by_label("Agent token").fill(token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/ui/dialer")
        page.wait_for_selector("#incoming[data-ready]", state="attached")  # the stream is open
        in_thread(_send(server, [ringing]))
        incoming = page.locator("#incoming")
        expect(incoming.locator(".badge")).to_have_text("+3", timeout=15_000)
        _settled(incoming)
        incoming.get_by_label("Object type").select_option("lead")
        expect(incoming.get_by_label("Jane", exact=True)).to_have_count(0)
        expect(incoming.locator(".badge")).to_have_text("+3")  # still every match, filtered
        _settled(incoming)
        incoming.get_by_label("Jane Lead").check()
        incoming.get_by_role("button", name="Log this call there").click()
        expect(page.locator("#result")).to_contain_text("✓ Jane Lead (lead)")
        # Filtered to one record, the page is the same at every run (two contacts of equal rank
        # may come in either order).
        screenshot(page, "ui-dialer")
    assert not offline.refused, f"requests left 127.0.0.1: {offline.refused}"
    in_thread(_send(server, rest))
    assert in_thread(_synced_counts(server, records)) == [0, 0, 1]
