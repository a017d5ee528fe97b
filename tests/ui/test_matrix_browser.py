"""The scenario matrix screen in Chromium against a real server: cells edited in the table, every
refusal beside its field at once, the past calls searched by number, a dry run on one showing the
difference, the save, the history."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from callbridge.testing.webhooks import call_sequence
from tests.e2e.e2e_server import Server, make_server, wait_synced
from tests.ui.browser import Offline, chromium, screenshot, sign_in
from tests.ui.test_accessibility import _violations

pytestmark = pytest.mark.slow
#: When the past call rang: fixed, so the screenshot is the same at every run.
RANG = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)


@pytest.fixture
def matrix_server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    """A running server with one company (SQLite and PostgreSQL)."""
    with ThreadPoolExecutor(1) as thread:
        running = thread.submit(asyncio.run, make_server(database_url, tmp_path)).result()
    running.start()
    try:
        yield running
    finally:
        running.kill(signal.SIGTERM)


async def _missed_call(server: Server) -> None:
    async with server.client() as client:
        sequence = call_sequence(
            "ui-matrix", "incoming", "+33612345671", answered=False, start=RANG
        )
        for event in sequence:
            assert (await server.send(client, event)).status_code in (200, 202)
        await wait_synced(client, "ui-matrix")


def _stored(server: Server) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {server.company.api_key}"}
    path = f"{server.url}/integrations/{server.company.integration_id}/matrix"
    answer: dict[str, Any] = httpx.get(path, headers=headers).json()
    return answer


def _save_versions(server: Server, count: int) -> None:
    """Save ``count`` more versions through the API, each with another task due time."""
    headers = {"Authorization": f"Bearer {server.company.api_key}"}
    path = f"{server.url}/integrations/{server.company.integration_id}/matrix"
    for due in range(count):
        matrix = _stored(server)["matrix"]
        matrix["rules"][3]["actions"][0]["due_in_minutes"] = 100 + due
        assert httpx.put(path, json=matrix, headers=headers).status_code == 200


def test_an_admin_edits_tries_and_saves_the_matrix(matrix_server: Server) -> None:
    server, base = matrix_server, matrix_server.url
    with ThreadPoolExecutor(1) as thread:  # its own event loop, beside Playwright's
        thread.submit(asyncio.run, _missed_call(server)).result()
    with chromium() as browser:
        # axe is injected inline: the pages' Content-Security-Policy would (rightly) block it.
        context = browser.new_context(bypass_csp=True, viewport={"width": 1400, "height": 900})
        offline = Offline(base)
        context.route("**/*", offline.route)
        page = context.new_page()
        sign_in(page, base, server.company.api_key)
        page.goto(f"{base}/ui/integrations/{server.company.integration_id}/matrix")
        expect(page.locator("#r2-name")).to_have_value("incoming, new client, missed")

        due = page.locator("#r3-create_task-due_in_minutes")  # incoming, existing client, missed
        due.fill("soon")
        page.locator("#r1-attach_recording-to-contact").uncheck()  # the recording goes nowhere
        page.locator("#r1-attach_recording-to-deal").uncheck()
        page.get_by_role("button", name="Save a new version").click()
        expect(page.locator("#r3-create_task-due_in_minutes-error")).to_contain_text(
            "whole number of minutes"
        )
        expect(page.locator("#r1-attach_recording-to-error")).to_contain_text("non-empty list")
        expect(page.locator("#r3-create_task-due_in_minutes")).to_have_attribute(
            "aria-invalid", "true"
        )
        assert _violations(page) == []  # both refusals beside their fields are accessible
        assert _stored(server)["version"] == 0

        page.locator("#r1-attach_recording-to-contact").check()
        page.locator("#r1-attach_recording-to-deal").check()
        page.locator("#r3-create_task-due_in_minutes").fill("30")
        page.locator("#r2-create_task").uncheck()  # no call-back task for a new missed caller
        page.locator("#past-search-number").fill("+1 999")  # htmx swaps the list, draft kept
        expect(page.locator("#call_id")).to_contain_text("No call matches this number")
        assert _violations(page) == []  # the empty search
        page.locator("#past-search-number").fill("+33 612")
        expect(page.locator("#call_id")).to_contain_text("+33612345671")
        expect(page.locator("#r2-create_task")).not_to_be_checked()
        page.get_by_role("button", name="Try the draft on this call").click()
        result = page.locator("#dry-run")
        expect(result).to_contain_text("The draft would do something else with this call.")
        expect(result.locator("li.changed")).to_contain_text("create_task")
        expect(result).to_contain_text("incoming, new client, missed")  # the scenario, in words
        expect(result).to_contain_text("already created")  # the call created its contact
        screenshot(page, "ui-matrix")
        assert _violations(page) == []  # and so is the dry run's answer
        assert _stored(server)["version"] == 0  # the dry run saved nothing

        page.get_by_role("button", name="Save a new version").click()
        expect(page.locator("p.saved")).to_contain_text("Saved")
        history = page.locator("ol.history > li").first
        expect(history).to_contain_text("version 1")
        expect(history).to_contain_text("saved by admin")
        expect(history).to_contain_text("create_task removed")
        expect(history).to_contain_text("create_task changed (due_in_minutes)")

        _save_versions(server, 11)  # versions 2 to 12: the history shows ten at a time
        page.reload()
        expect(page.locator("ol.history > li").first).to_contain_text("version 12")
        page.get_by_role("button", name="Older versions").click()
        expect(page.locator("ol.history > li").first).to_contain_text("version 2")
        expect(page.locator("ol.history")).to_contain_text("the default matrix")
        assert _violations(page) == []  # the history's second page and its links
        context.close()
    stored = _stored(server)
    assert stored["version"] == 12
    rules = stored["matrix"]["rules"]
    assert "create_task" not in [a["type"] for a in rules[2]["actions"]]
    assert not offline.refused, f"requests left 127.0.0.1: {offline.refused}"
