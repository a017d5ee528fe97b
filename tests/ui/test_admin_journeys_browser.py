"""The admin's and the agent's journeys of issue 16 in Chromium, against a real server.

An admin connects a CRM and switches its creation policy, then a call from an unknown number
creates a contact there; an admin grants the permission and turns manual selection on; an agent
arrives from a CRM page with a record id (click-to-dial) and the call's log goes there; another
company's ids in the screens' URLs are "Not found". The ``server`` and ``browser`` fixtures are
tests/ui/conftest.py's (a real server on SQLite and on PostgreSQL).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from callbridge.runtime import Runtime
from callbridge.service.bootstrap import CreatedCompany, create_company
from callbridge.settings import Settings
from callbridge.testing.webhooks import call_sequence, signed
from tests.e2e.e2e_server import Server, wait_synced
from tests.ui.browser import in_thread, offline_page, sign_in
from tests.ui.test_ui_tenancy import PARAM, screen_routes

pytestmark = pytest.mark.slow
UNKNOWN = "+33612345001"


def _api(server: Server, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {server.company.api_key}"}
    answer = httpx.request(method, server.url + path, headers=headers, timeout=30, **kwargs)
    assert answer.status_code < 300, f"{method} {path}: {answer.status_code} {answer.text}"
    return answer.json()


async def _call(server: Server, call_id: str, number: str, syncs: int = 1, **options: Any) -> None:
    """Deliver a whole incoming answered call from ``number`` and wait for its ``syncs``."""
    async with server.client() as client:
        for event in call_sequence(call_id, "incoming", number, answered=True, **options):
            assert (await server.send(client, event)).status_code == 200
        await wait_synced(client, call_id, syncs=syncs)


def test_an_admin_connects_a_crm_switches_its_policy_and_a_call_creates_a_contact(
    server: Server, browser: Browser
) -> None:
    base = server.url
    _api(
        server,
        "PATCH",
        f"/integrations/{server.company.integration_id}",
        json={"creation_policy": "none"},
    )
    with offline_page(browser, base) as (page, offline):
        sign_in(page, base, server.company.api_key)
        page.get_by_role("link", name="Connect a CRM").click()
        # Until the page's load event htmx has not processed the form (its script is deferred):
        # a change before it would swap nothing.
        page.wait_for_url(f"{base}/ui/integrations/new", wait_until="load")
        page.get_by_label("CRM", exact=True).select_option("local")
        # The first CRM listed asks for required fields; htmx swaps them out for the local CRM's
        # (none): submitting before the swap lands would be refused by the browser's validation.
        expect(page.locator("#connector-fields [required]")).to_have_count(0)
        page.get_by_label("Name", exact=True).fill("Second desk")
        page.get_by_role("button", name="Connect").click()
        page.wait_for_url(f"{base}/ui/integrations/*?saved=1")
        made = page.url.split("/ui/integrations/", 1)[1].split("?", 1)[0]
        page.get_by_label("All calls").check()
        page.get_by_role("button", name="Save").click()
        expect(page.locator("p.saved")).to_contain_text("Saved")
    assert not offline.refused, offline.refused
    assert _api(server, "GET", f"/integrations/{made}")["creation_policy"] == "all"
    crms = len(_api(server, "GET", "/integrations"))
    in_thread(_call(server, "ui-journey-new", UNKNOWN, syncs=crms))  # every CRM's sync ended
    created = _api(server, "GET", f"/integrations/{made}/records")["records"]
    assert [r["phones"] for r in created] == [[UNKNOWN]], created
    kept = _api(server, "GET", f"/integrations/{server.company.integration_id}/records")
    assert kept["records"] == [], "the first CRM's policy is none: it created nothing"


def test_an_admin_grants_the_permission_then_turns_manual_selection_on(
    server: Server, browser: Browser
) -> None:
    base = server.url
    edit = f"{base}/ui/integrations/{server.company.integration_id}"
    with offline_page(browser, base) as (page, offline):
        sign_in(page, base, server.company.api_key)
        page.goto(edit)
        expect(page.get_by_text("Offered once a team has the permission")).to_be_visible()
        expect(page.get_by_label("Agents choose the record(s) a call is logged to")).to_have_count(
            0
        )
        page.get_by_role("link", name="Teams and users").first.click()
        page.get_by_label("New team").fill("Sales")
        page.get_by_role("button", name="Create team").click()
        page.get_by_role("button", name="Grant Sales").click()
        expect(page.locator("tbody tr", has_text="Sales")).to_contain_text("Granted")
        page.goto(edit)
        page.get_by_label("Agents choose the record(s) a call is logged to").check()
        page.get_by_role("button", name="Save").click()
        expect(page.locator("p.saved")).to_contain_text("Saved")
    assert not offline.refused, offline.refused
    [team] = _api(server, "GET", "/teams")
    assert team["permissions"] == ["is_multicrm_sync"]
    stored = _api(server, "GET", f"/integrations/{server.company.integration_id}")
    assert stored["config"]["select_contact_manually"] is True


def test_click_to_dial_with_a_record_id_sends_the_log_to_that_record(
    server: Server, browser: Browser
) -> None:
    base = server.url
    records = f"/integrations/{server.company.integration_id}/records"
    phones = {"phones": ["+14155550177"], "object_type": "contact"}
    [first, second] = [_api(server, "POST", records, json={**phones, "name": n}) for n in "AB"]
    user = _api(server, "POST", "/users", json={"name": "Ann", "email": "ann@acme.test"})
    token = _api(server, "POST", f"/users/{user['id']}/tokens")["token"]
    with offline_page(browser, base) as (page, offline):
        page.goto(f"{base}/ui/dialer/sign-in")
        page.get_by_label("Agent token").fill(token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/ui/dialer")
        page.goto(f"{base}/ui/dialer?number=%2B14155550177&record={second['id']}")
        expect(page.get_by_role("heading", name="Click-to-dial")).to_be_visible()
        page.get_by_role("button", name="Confirm").click()
        expect(page.locator("#result")).to_contain_text("✓")
    assert not offline.refused, offline.refused
    outgoing = call_sequence(
        "ui-c2d", "outgoing", "+14155550177", answered=True, agent_email="ann@acme.test"
    )
    in_thread(_send_all(server, "ui-c2d", outgoing))
    logged = [
        len(_api(server, "GET", f"{records}/{r['id']}")["activities"]) for r in (first, second)
    ]
    assert logged == [0, 1], "the log goes to the record of the click, no question asked"


async def _send_all(server: Server, call_id: str, events: list[dict[str, Any]]) -> None:
    async with server.client() as client:
        for event in events:
            assert (await server.send(client, event)).status_code == 200
        await wait_synced(client, call_id)


async def _other_company(url: str, data: Path, server: Server) -> dict[str, str]:
    """Create another company on the server's database, with a call; return its ids by kind.

    ``data`` is the server's data directory: its secret key encrypts the new company's secrets.
    """
    runtime = Runtime.create(Settings(data_dir=data, database_url=url))
    try:
        other: CreatedCompany = await create_company(runtime, "Globex")
    finally:
        await runtime.close()
    headers = {"Authorization": f"Bearer {other.api_key}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as client:
        team = (await client.post("/teams", json={"name": "Theirs"})).json()
        user = (await client.post("/users", json={"name": "Bob", "team_id": team["id"]})).json()
        token = (await client.post(f"/users/{user['id']}/tokens")).json()
        for event in call_sequence("ui-theirs", "incoming", UNKNOWN, answered=False):
            body, signed_headers = signed(other.source_secret, event)
            await client.post(
                f"/webhooks/generic/{other.source_id}", content=body, headers=signed_headers
            )
        [call] = await wait_synced(client, "ui-theirs")
    return {
        "integration_id": other.integration_id,
        "source_id": other.source_id,
        "call_id": str(call["id"]),
        "team_id": str(team["id"]),
        "user_id": str(user["id"]),
        "token_id": str(token["id"]),
        "job_id": "1",
    }


def test_another_companys_ids_in_the_screens_urls_are_not_found(
    server: Server, browser: Browser, database_url: str, tmp_path: Path
) -> None:
    theirs = in_thread(_other_company(database_url, tmp_path, server))
    routes = in_thread(_routes(database_url, tmp_path / "routes"))
    pages = [p for m, p in routes if m == "GET" and not p.startswith("/ui/dialer/")]
    assert len(pages) >= 6, pages
    base = server.url
    with offline_page(browser, base) as (page, offline):
        sign_in(page, base, server.company.api_key)
        for path in pages:
            url = PARAM.sub(lambda m: theirs[m.group(1)], path)
            shown = page.goto(base + url)
            assert shown is not None and shown.status == 404, f"{url}: {shown and shown.status}"
            expect(page.get_by_role("alert")).to_be_visible()
            assert "Globex" not in page.content() and "Theirs" not in page.content()
    assert not offline.refused, offline.refused


async def _routes(url: str, data: Path) -> list[tuple[str, str]]:
    runtime = Runtime.create(Settings(data_dir=data, database_url=url))
    try:
        return screen_routes(runtime)
    finally:
        await runtime.close()
