"""The app in-process (ASGI transport): a runtime on a migrated database, a company's client.

The one way tests reach the API or the screens without a server process::

    async with runtime_on(migrated_url, tmp_path) as runtime:
        async with company_client(runtime, "ACME") as (company, client):
            assert (await client.get("/calls")).status_code == 200
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from callbridge.api.app import create_app
from callbridge.runtime import Runtime
from callbridge.service.bootstrap import CreatedCompany, create_company
from callbridge.settings import Settings

BASE_URL = "http://callbridge.test"


@contextlib.asynccontextmanager
async def runtime_on(url: str, data: Path) -> AsyncIterator[Runtime]:
    """Yield a runtime on the (migrated) database at ``url``, with ``data`` as its directory."""
    runtime = Runtime.create(Settings(data_dir=data, database_url=url))
    try:
        yield runtime
    finally:
        await runtime.close()


@contextlib.asynccontextmanager
async def company_client(
    runtime: Runtime, name: str, *, screens: bool = False
) -> AsyncIterator[tuple[CreatedCompany, httpx.AsyncClient]]:
    """Create a company; yield it with a client of the API as its admin, or of the screens.

    With ``screens`` the client reaches the UI too (mounted as ``serve`` does) and is signed out:
    it sends no key and keeps the cookies a browser would.
    """
    company = await create_company(runtime, name)
    app = create_app(runtime)
    headers = {} if screens else {"Authorization": f"Bearer {company.api_key}"}
    if screens:  # lazily: the API's tests need not load the screens
        from callbridge.ui.mount import mount

        app = mount(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers) as client:
        yield company, client
