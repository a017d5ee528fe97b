"""A company and a browser-like client of the UI (cookies kept), signed in or not."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from callbridge.service.bootstrap import CreatedCompany

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class UiTenant:
    """A company, and a client that keeps the UI's cookies."""

    company: CreatedCompany
    client: httpx.AsyncClient

    async def sign_in(self) -> str:
        """Sign in with the company's admin key; return the session's CSRF token."""
        form = await self.client.get("/ui/sign-in")
        answer = await self.client.post(
            "/ui/sign-in", data={"csrf": csrf_of(form.text), "key": self.company.api_key}
        )
        assert answer.status_code == 303, answer.text
        return csrf_of((await self.client.get("/ui/integrations")).text)


def csrf_of(html: str) -> str:
    """Return the CSRF token of the first form of a page."""
    found = CSRF.search(html)
    assert found, f"no CSRF token in the page: {html[:500]}"
    return found.group(1)
