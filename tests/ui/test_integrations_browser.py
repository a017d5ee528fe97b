"""An integration's life and its connector's own fields, in Chromium against a real server.

The ``server`` and ``browser`` fixtures are tests/ui/conftest.py's."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.e2e_server import Server
from tests.ui.browser import offline_page, sign_in
from tests.ui.test_accessibility import AXE, RULES

pytestmark = pytest.mark.slow


def _status(server: Server) -> int | str:
    headers = {"Authorization": f"Bearer {server.company.api_key}"}
    path = f"/integrations/{server.company.integration_id}"
    answer = httpx.get(server.url + path, headers=headers)
    return str(answer.json()["status"]) if answer.status_code == 200 else answer.status_code


def _axe(page: Page) -> list[str]:
    """Return the ids of axe-core's WCAG 2 A/AA violations on the page."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("rules => axe.run(document, rules)", RULES)
    assert result["passes"], "axe checked nothing"
    return [f"{v['id']}: {[n['html'] for n in v['nodes']][:2]}" for v in result["violations"]]


def test_disable_enable_then_delete_after_confirming(server: Server, browser: Browser) -> None:
    base = server.url
    with offline_page(browser, base) as (page, offline):
        sign_in(page, base, server.company.api_key)
        page.get_by_role("button", name="Disable").click()
        expect(page.locator("p.saved")).to_contain_text("Done")
        expect(page.locator("td.health")).to_contain_text("Disabled")
        assert _status(server) == "disabled"
        page.get_by_role("button", name="Enable").click()
        expect(page.locator("td.health")).to_contain_text("Active")
        assert _status(server) == "active"

        page.get_by_role("link", name="Delete…").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Delete")
        expect(page.locator("#lost")).to_contain_text("credentials")
        assert _status(server) == "active", "the confirmation page deletes nothing"
        page.get_by_role("link", name="Cancel").click()
        assert _status(server) == "active"
        page.goto(f"{base}/ui/integrations/{server.company.integration_id}/delete")
        page.get_by_role("button", name="Delete for good").click()
        expect(page.locator("p.saved")).to_contain_text("was deleted")
        assert _status(server) == 404
    assert not offline.refused, offline.refused


def test_the_connectors_own_fields_follow_the_chosen_crm(server: Server, browser: Browser) -> None:
    base = server.url
    with browser.new_context(bypass_csp=True) as context:  # axe is injected inline
        page = context.new_page()
        sign_in(page, base, server.company.api_key)
        page.goto(f"{base}/ui/integrations/new")
        page.get_by_label("CRM", exact=True).select_option("hubspot")
        token = page.get_by_label("access token")
        expect(token).to_have_attribute("type", "password")
        expect(page.get_by_label("company search")).to_be_visible()
        assert not _axe(page), _axe(page)
        page.get_by_label("CRM", exact=True).select_option("bottlecrm")
        expect(page.get_by_label("base url (required)")).to_be_visible()
        expect(page.get_by_label("token (required)")).to_have_attribute("type", "password")
        expect(page.get_by_label("access token")).to_have_count(0)
        page.goto(f"{base}/ui/integrations/{server.company.integration_id}/delete")
        assert not _axe(page), _axe(page)
        for screen in ("integrations", f"integrations/{server.company.integration_id}", "company"):
            page.goto(f"{base}/ui/{screen}")
            assert not _axe(page), _axe(page)
