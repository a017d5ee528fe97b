"""Drive the UI in Debian's Chromium (Playwright) against a real ``callbridge serve``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
#: Where the browser tests leave the screenshots docs/ui.md and the README show.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "images"
#: Chromium without its own calls home: anything leaving 127.0.0.1 would be the UI's doing.
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]
T = TypeVar("T")


@dataclass
class Offline:
    """Every URL the page asked for, and those refused for leaving the server."""

    base: str
    seen: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def route(self, route: Route) -> None:
        """Let requests to the server through; abort and record any other."""
        url = route.request.url
        self.seen.append(url)
        if url.startswith(self.base + "/") or url == self.base:
            route.continue_()
        else:
            self.refused.append(url)
            route.abort()


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """Launch Debian's Chromium; fail (never skip) when it is not installed."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium "
            "(`make test` installs it; by hand: `apt-get install -y chromium`)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def offline_page(
    browser: Browser, base: str, language: str = "en-US"
) -> Iterator[tuple[Page, Offline]]:
    """Open a page whose every request is checked to stay on ``base``."""
    context = browser.new_context(locale=language, viewport={"width": 1100, "height": 760})
    offline = Offline(base)
    context.route("**/*", offline.route)
    try:
        yield context.new_page(), offline
    finally:
        context.close()


def sign_in(page: Page, base: str, key: str) -> None:
    """Sign in through the form, as an admin would."""
    page.goto(f"{base}/ui/")
    page.get_by_label("Admin API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/ui/integrations")


#: Every id on the page (a UUID: ours, the local CRM's) differs at every run: before a screenshot
#: each is written as the same one, in a span the screenshot masks, so the image is the same.
MASK_IDS = """() => {
  const id = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const found = [];
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (id.test(node.data) && !node.parentElement.closest('option, textarea, script, style')) {
      found.push(node);
    }
  }
  for (const node of found) {
    const parts = node.data.split(new RegExp(`(${id.source})`));
    node.replaceWith(...parts.map((part, i) => {
      if (i % 2 === 0) return document.createTextNode(part);
      const span = document.createElement('span');
      span.className = 'masked-id';
      span.textContent = '00000000-0000-4000-8000-000000000000';
      return span;
    }));
  }
}"""


def screenshot(page: Page, name: str) -> None:
    """Save the page as docs/images/<name>.png, so the docs show the screens as they are.

    Ids are masked (``MASK_IDS``); times are the tests' own (fixed where a screen shows them).
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate(MASK_IDS)
    masked = page.locator(".masked-id")
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True, mask=[masked])


def in_thread(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` on its own event loop (Playwright's sync API keeps one in this thread)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, work).result()
