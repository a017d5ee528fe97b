"""Every admin screen passes axe-core's WCAG 2 A/AA checks in Chromium (labelled forms and all)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.e2e.e2e_server import Server, make_server
from tests.ui.browser import chromium, sign_in

pytestmark = pytest.mark.slow
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture
def server(sqlite_url: str, tmp_path: Path) -> Iterator[Server]:
    """A running server with one company, a team and a user (SQLite: the markup is the same)."""
    with ThreadPoolExecutor(1) as thread:
        running = thread.submit(asyncio.run, make_server(sqlite_url, tmp_path)).result()
    running.start()
    try:
        yield running
    finally:
        running.kill(signal.SIGTERM)


def _violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate("rules => axe.run(document, rules)", RULES)
    assert result["passes"], "axe checked nothing: the page or the script did not load"
    found: list[dict[str, Any]] = result["violations"]
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["html"] for n in v["nodes"]][:3]}
        for v in found
    ]


def _user_pages(page: Page, base: str) -> list[str]:
    """Create a user through the screen and return their page (their agent tokens)."""
    page.goto(f"{base}/ui/teams")
    page.get_by_label("Name", exact=True).last.fill("Ana")
    page.get_by_role("button", name="Create user").click()
    link = page.get_by_role("link", name="Agent tokens Ana")
    return [str(link.get_attribute("href"))]


def test_every_screen_passes_axe(server: Server) -> None:
    base = server.url
    with chromium() as browser:
        # axe is injected inline: the pages' Content-Security-Policy would (rightly) block it.
        context = browser.new_context(bypass_csp=True)
        page = context.new_page()
        page.goto(f"{base}/ui/sign-in")
        report = {"sign-in": _violations(page)}
        sign_in(page, base, server.company.api_key)
        for screen in (
            "/ui/integrations",
            "/ui/integrations/new",
            f"/ui/integrations/{server.company.integration_id}",
            f"/ui/integrations/{server.company.integration_id}/people",
            f"/ui/integrations/{server.company.integration_id}/matrix",
            "/ui/teams",
            *_user_pages(page, base),
            "/ui/calls",
            "/ui/sources",
            "/ui/dialer/sign-in",
            f"/ui/sources/{server.company.source_id}",
        ):
            page.goto(base + screen)
            report[screen] = _violations(page)
        context.close()
    failing = {screen: found for screen, found in report.items() if found}
    assert not failing, failing


def test_axe_finds_what_it_is_asked_to_find() -> None:
    """The check can fail: an unlabelled field is reported."""
    with chromium() as browser:
        page = browser.new_page()
        page.set_content('<html lang="en"><title>t</title><main><input type="text"></main></html>')
        assert "label" in {v["id"] for v in _violations(page)}
