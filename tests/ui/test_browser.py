"""The admin screens in a real browser, against a real server, with nothing leaving 127.0.0.1."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from callbridge.testing.webhooks import call_sequence
from tests.e2e.e2e_server import Server, records, wait_synced
from tests.ui.browser import in_thread, offline_page, screenshot, sign_in

pytestmark = pytest.mark.slow


def _stored(server: Server) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {server.company.api_key}"}
    path = f"/integrations/{server.company.integration_id}"
    answer: dict[str, object] = httpx.get(server.url + path, headers=headers).json()
    return answer


async def _calls_from_unknown_numbers(server: Server) -> list[dict[str, Any]]:
    """Send an answered and a missed call from unknown numbers; return the CRM's records.

    Under the policy saved on the screen ("missed"), only the missed call creates a contact.
    """
    async with server.client() as client:
        answered = call_sequence("ui-answered", "incoming", "+33612345670", answered=True)
        missed = call_sequence("ui-missed", "incoming", "+33612345679", answered=False)
        for event in [*answered, *missed]:
            assert (await server.send(client, event)).status_code in (200, 202)
        await wait_synced(client, "ui-answered", "ui-missed")
        return await records(server, client)


def test_an_admin_signs_in_edits_a_setting_and_signs_out_offline(
    server: Server, browser: Browser
) -> None:
    base = server.url
    with offline_page(browser, base) as (page, offline):
        sign_in(page, base, server.company.api_key)
        expect(page.get_by_role("heading", name="Integrations")).to_be_visible()
        screenshot(page, "ui-integrations")
        page.get_by_role("link", name="Edit settings").first.click()

        page.get_by_label("Missed calls").check()
        template = page.get_by_label("Name of created contacts")
        template.fill("{default} {phone}")
        page.get_by_label("Language of created contacts").select_option("fr")
        expect(page.locator("#preview")).to_have_text(
            "Nouveau contact Callbridge +33 6 12 34 56 78"
        )
        page.get_by_role("button", name="Save").click()
        expect(page.locator("p.saved")).to_contain_text("Saved")
        screenshot(page, "ui-integration-settings")

        stored = _stored(server)
        assert stored["creation_policy"] == "missed"
        assert stored["name_template"] == "{default} {phone}"
        assert stored["language"] == "fr"
        created = in_thread(_calls_from_unknown_numbers(server))
        assert [r["name"] for r in created] == ["Nouveau contact Callbridge +33 6 12 34 56 79"]

        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(f"{base}/ui/sign-in")
        page.goto(f"{base}/ui/integrations")
        page.wait_for_url(f"{base}/ui/sign-in")
    assert offline.seen, "the route interception saw nothing"
    assert any(url.endswith("/ui/static/htmx.min.js") for url in offline.seen)
    assert not offline.refused, f"requests left 127.0.0.1: {offline.refused}"


def test_a_form_without_the_sessions_token_is_refused(server: Server, browser: Browser) -> None:
    base = server.url
    with offline_page(browser, base) as (page, offline):
        sign_in(page, base, server.company.api_key)
        page.goto(f"{base}/ui/integrations/{server.company.integration_id}")
        page.get_by_label("Name", exact=True).fill("Forged name")
        page.locator("form[action^='/ui/integrations/'] input[name=csrf]").evaluate(
            "input => { input.value = 'forged' }"
        )
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("heading", name="This form was refused")).to_be_visible()
        forged = page.request.post(
            f"{base}/ui/integrations/{server.company.integration_id}",
            form={"name": "Forged again"},
        )
        assert forged.status == 403
    assert _stored(server)["name"] not in ("Forged name", "Forged again")
    assert not offline.refused


@pytest.mark.parametrize(
    ("link", "heading", "setting"),
    [
        ("Français", "Intégrations", "Création de contacts pour les appels"),
        ("Español", "Integraciones", "Creación de contactos para las llamadas"),
    ],
)
def test_the_screens_switch_to_french_and_spanish(
    server: Server, browser: Browser, link: str, heading: str, setting: str
) -> None:
    base = server.url
    with offline_page(browser, base) as (page, offline):
        sign_in(page, base, server.company.api_key)
        page.get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        page.goto(f"{base}/ui/integrations/{server.company.integration_id}")
        expect(page.get_by_role("group", name=setting)).to_be_visible()
        assert page.locator("html").get_attribute("lang") == link[:2].lower()
    assert not offline.refused
