"""The call history's filters and the agent's My calls in Chromium against a real server.

An admin filters the history by agent and number (and pages on); the agent signs in to the
dialer and opens My calls: their own calls only, with the record found by number and the record
the log went to. Both pages pass axe-core's WCAG 2 A/AA checks, as filtered. The first test writes
docs/images/ui-calls.png (the history filtered by agent) and ui-call.png (a call's page).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from callbridge.testing.webhooks import call_sequence
from tests.e2e.e2e_server import Server, wait_synced
from tests.ui.browser import in_thread, offline_page, screenshot, sign_in
from tests.ui.test_accessibility import _violations

pytestmark = pytest.mark.slow
ANNS = ("+14155550134", "+14155550135")
BOBS = "+14155550199"
#: When the calls rang: fixed, a minute apart, so the screenshots are the same at every run.
RANG = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)


async def _calls(server: Server) -> str:
    """Two agents, a record for Ann's first number, Ann's two calls and Bob's; Ann's token."""
    async with server.client() as client:
        tokens = []
        for name in ("Ann", "Bob"):
            body = {"name": name, "email": f"{name.lower()}@acme.test"}
            user = (await client.post("/users", json=body)).json()
            tokens.append((await client.post(f"/users/{user['id']}/tokens")).json()["token"])
        record = {"name": "Jane", "object_type": "contact", "phones": ["(415) 555-0134"]}
        await client.post(server.records_path, json=record)
        sent = [(f"b-{n}", number, "ann") for n, number in enumerate(ANNS)] + [
            ("b-bob", BOBS, "bob")
        ]
        for n, (call_id, number, agent) in enumerate(sent):
            events = call_sequence(
                call_id,
                "incoming",
                number,
                answered=True,
                agent_email=f"{agent}@acme.test",
                start=RANG + timedelta(minutes=n),
            )
            for event in events:
                assert (await server.send(client, event)).status_code == 200
        await wait_synced(client, *(call_id for call_id, _, _ in sent))
    return str(tokens[0])


def _open_the_call(page: Page, base: str) -> None:
    """Open the one listed call's page: its events, Jane found and logged on, its CRM actions."""
    filtered = page.url
    page.locator("tbody tr a").click()
    page.wait_for_url(f"{base}/ui/calls/*")
    expect(page.get_by_role("heading", level=1)).to_contain_text(ANNS[0])
    expect(page.locator("ol li").first).to_be_visible()
    records = page.get_by_role("table").first
    expect(records).to_contain_text("Jane (contact)")
    expect(page.locator("td.status-done").first).to_be_visible()
    screenshot(page, "ui-call")
    page.goto(filtered)


def test_an_admin_filters_calls_and_an_agent_sees_their_own(
    server: Server, browser: Browser
) -> None:
    token = in_thread(_calls(server))
    base = server.url
    with offline_page(browser, base) as (page, offline):
        sign_in(page, base, server.company.api_key)
        page.goto(f"{base}/ui/calls")
        rows = page.locator("tbody tr")
        expect(rows).to_have_count(3)
        page.get_by_label("Agent", exact=True).select_option(label="Ann")
        page.get_by_role("button", name="Filter").click()
        expect(rows).to_have_count(2)
        expect(page.locator("tbody")).not_to_contain_text(BOBS)
        screenshot(page, "ui-calls")
        page.get_by_label("Number starts with").fill("+1 415 555 0134")
        page.get_by_role("button", name="Filter").click()
        expect(rows).to_have_count(1)
        expect(page.locator("tbody")).to_contain_text(ANNS[0])
        expect(page.get_by_label("Agent", exact=True).locator("option:checked")).to_have_text("Ann")
        _open_the_call(page, base)
        page.get_by_label("Sync status").select_option("failed")
        page.get_by_role("button", name="Filter").click()
        expect(page.locator("tbody")).to_contain_text("No call matches.")
    assert not offline.refused, f"requests left 127.0.0.1: {offline.refused}"
    with offline_page(browser, base) as (page, offline):
        page.goto(f"{base}/ui/dialer")
        page.get_by_label("Agent token").fill(token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/ui/dialer")
        page.get_by_role("link", name="My calls").click()
        page.wait_for_url(f"{base}/ui/dialer/my-calls")
        rows = page.locator("tbody tr")
        expect(rows).to_have_count(2)
        expect(page.locator("tbody")).not_to_contain_text(BOBS)
        expect(rows.filter(has_text=ANNS[0])).to_contain_text("Jane (contact)")
        expect(page.locator("a[href^='/ui/calls']")).to_have_count(0)
    assert not offline.refused, f"requests left 127.0.0.1: {offline.refused}"


def test_the_filtered_history_and_my_calls_pass_axe(server: Server, browser: Browser) -> None:
    token = in_thread(_calls(server))
    base = server.url
    # axe is injected inline: the pages' Content-Security-Policy would (rightly) block it.
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    try:
        sign_in(page, base, server.company.api_key)
        page.goto(f"{base}/ui/calls?number=%2B1415&status=done&since=2000-01-01&until=2999-01-01")
        report = {"calls": _violations(page)}
        page.goto(f"{base}/ui/dialer/sign-in")
        page.get_by_label("Agent token").fill(token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/ui/dialer")
        report["dialer"] = _violations(page)
        page.goto(f"{base}/ui/dialer/my-calls")
        report["my calls"] = _violations(page)
    finally:
        context.close()
    failing = {screen: found for screen, found in report.items() if found}
    assert not failing, failing
