"""Ringing webhook → "+N" visible in the agent's dialer, measured in Chromium (Playwright).

Part of ``python -m bench ui``. A real ``callbridge serve`` (its embedded worker) on SQLite or on
a fresh PostgreSQL database, an agent allowed to choose, three local CRM records matching NUMBER;
the agent's dialer open in Debian's Chromium (the set-up of tests/ui/test_dialer_browser.py).
Each round posts a signed ringing webhook of a new call and waits until the new call's "+3" badge
is in the page (polled at each animation frame); the time is the client's, from just before the
POST to the badge seen, so it includes the webhook's own answer, the event stream, the page's
fetch of the call's records and Playwright's round trips.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from bench.harness import (
    environment,
    new_company,
    postgres_database,
    scratch_dir,
    serve,
    settings_for,
)
from callbridge.service.bootstrap import CreatedCompany
from callbridge.testing.webhooks import call_sequence, signed

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]
NUMBER = "+14155550134"
ROUNDS = 20
WARM_UP = 2
_SEEN = """previous => {
  const badge = document.querySelector('#incoming h2 .badge');
  const heading = badge && badge.closest('h2');
  return Boolean(heading) && heading.id !== previous && badge.textContent.trim() === '+3';
}"""


async def _desk(url: str, company: CreatedCompany) -> str:
    """Create an agent allowed to choose and three records matching NUMBER; return its token."""
    auth = {"Authorization": f"Bearer {company.api_key}"}
    async with httpx.AsyncClient(base_url=url, headers=auth, timeout=30) as client:
        team = await client.post(
            "/teams", json={"name": "Sales", "permissions": ["is_multicrm_sync"]}
        )
        body = {"name": "Ann", "email": "ann@acme.test", "team_id": team.json()["id"]}
        user = (await client.post("/users", json=body)).json()
        token = (await client.post(f"/users/{user['id']}/tokens")).json()["token"]
        config = {"select_contact_manually": True, "selection_grace_seconds": 30}
        path = f"/integrations/{company.integration_id}"
        (await client.patch(path, json={"config": config})).raise_for_status()
        for name, kind in (("Jane", "contact"), ("Jane bis", "contact"), ("Jane Lead", "lead")):
            record = {"name": name, "object_type": kind, "phones": ["(415) 555-0134"]}
            (await client.post(f"{path}/records", json=record)).raise_for_status()
    return str(token)


def in_browser(url: str, company: CreatedCompany, token: str) -> list[float]:
    """Open the agent's dialer; return the ringing → "+3" times in ms of ROUNDS calls."""
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: `apt-get install -y chromium`")
    times = []
    webhook = f"{url}/webhooks/generic/{company.source_id}"
    with sync_playwright() as playwright, httpx.Client(timeout=30) as client:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{url}/ui/dialer")
            page.get_by_label("Agent token").fill(token)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{url}/ui/dialer")
            page.wait_for_selector("#incoming[data-ready]", state="attached")
            for index in range(WARM_UP + ROUNDS):
                previous = page.evaluate(
                    "() => (document.querySelector('#incoming h2') || {id: ''}).id"
                )
                ringing = call_sequence(
                    f"bench-dial-{index}",
                    "incoming",
                    NUMBER,
                    answered=False,
                    agent_email="ann@acme.test",
                )[0]
                body, headers = signed(company.source_secret, ringing)
                started = time.perf_counter()
                client.post(webhook, content=body, headers=headers).raise_for_status()
                page.wait_for_function(_SEEN, arg=previous, polling="raf", timeout=15_000)
                if index >= WARM_UP:
                    times.append((time.perf_counter() - started) * 1000)
        finally:
            browser.close()
    return times


async def measure(database: str = "sqlite") -> list[float]:
    """Run the dialer measurement on a fresh database (``sqlite`` or ``postgres``); in ms."""
    with scratch_dir("dialer") as data_dir, contextlib.ExitStack() as stack:
        url = stack.enter_context(postgres_database("dialer")) if database == "postgres" else None
        company = await new_company(settings_for(data_dir, url))
        env = environment(data_dir, url, log_level="warning")
        with serve(env, data_dir / "serve.log") as server:
            token = await _desk(server.url, company)
            return await asyncio.to_thread(in_browser, server.url, company, token)
