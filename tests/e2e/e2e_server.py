"""A real Callbridge server in a subprocess on loopback, and helpers to drive it in tests."""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from callbridge.runtime import Runtime
from callbridge.service.bootstrap import CreatedCompany, create_company
from callbridge.settings import Settings
from callbridge.testing.servers import eventually, free_port, start_serve, stop
from callbridge.testing.webhooks import signed


@dataclass
class Server:
    """A ``callbridge serve`` subprocess and the company it serves."""

    env: dict[str, str]
    company: CreatedCompany
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the server and wait until it answers /readyz."""
        self.process = start_serve(self.port, self.env, self.log)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Stop the server with ``sig`` and wait for it."""
        if self.process:
            stop(self.process, sig)

    @property
    def log(self) -> Path:
        """Return the server's log file."""
        return Path(self.env["CALLBRIDGE_DATA_DIR"]) / "server.log"

    def client(self) -> httpx.AsyncClient:
        """Return an HTTP client authenticated with the company's admin key."""
        return httpx.AsyncClient(
            base_url=self.url,
            timeout=30,
            headers={"Authorization": f"Bearer {self.company.api_key}"},
        )

    async def send(
        self, client: httpx.AsyncClient, payload: Any, msg_id: str | None = None
    ) -> httpx.Response:
        """Sign ``payload`` with the source's secret and post it to the generic webhook."""
        body, headers = signed(self.company.source_secret, payload, msg_id=msg_id)
        return await client.post(
            f"/webhooks/generic/{self.company.source_id}", content=body, headers=headers
        )

    @property
    def records_path(self) -> str:
        """Return the local CRM records path of the company's integration."""
        return f"/integrations/{self.company.integration_id}/records"


async def make_server(database_url: str, data_dir: Path) -> Server:
    """Create a company in a migrated database and return a (not yet started) server for it."""
    from callbridge.runtime.schema import upgrade

    await upgrade(database_url)
    settings = Settings(data_dir=data_dir, database_url=database_url)
    runtime = Runtime.create(settings)
    try:
        company = await create_company(runtime, "Test company")
    finally:
        await runtime.close()
    env = {
        **os.environ,
        "CALLBRIDGE_DATA_DIR": str(data_dir),
        "CALLBRIDGE_DATABASE_URL": database_url,
        "CALLBRIDGE_LOG_LEVEL": "warning",
    }
    return Server(env=env, company=company)


DONE = {"done", "no_match", "skipped"}


async def call_detail(client: httpx.AsyncClient, provider_call_id: str) -> dict[str, Any] | None:
    """Return the detail of the call with this provider id, or None if not folded yet."""
    calls = (await client.get("/calls", params={"limit": 500})).json()["calls"]
    for call in calls:
        if call["provider_call_id"] == provider_call_id:
            detail: dict[str, Any] = (await client.get(f"/calls/{call['id']}")).json()
            return detail
    return None


async def wait_synced(
    client: httpx.AsyncClient, *call_ids: str, syncs: int | None = None
) -> list[dict[str, Any]]:
    """Wait until every sync of each call has ended, and return their details.

    ``syncs``: with several integrations, wait for that many syncs of each call (else one).
    """
    details: dict[str, dict[str, Any]] = {}

    def ended(detail: dict[str, Any] | None) -> bool:
        if detail is None or not detail["syncs"]:
            return False
        found = detail["syncs"]
        return len(found) >= (syncs or 1) and all(sync["status"] in DONE for sync in found)

    async def all_synced() -> bool:
        for call_id in call_ids:
            detail = await call_detail(client, call_id)
            if detail is not None and ended(detail):
                details[call_id] = detail
        return len(details) == len(call_ids)

    try:
        await eventually(all_synced, f"{len(call_ids)} call(s) to sync", within=60)
    except AssertionError as err:  # say what state the calls were left in
        seen = [await call_detail(client, call_id) for call_id in call_ids]
        dead = (await client.get("/jobs/dead")).json()
        raise AssertionError(f"{err}; calls: {seen}; dead jobs: {dead}") from None
    return [details[call_id] for call_id in call_ids]


async def records(server: Server, client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Return every local CRM record with its activities."""
    page = (await client.get(server.records_path, params={"limit": 500})).json()["records"]
    return [(await client.get(f"{server.records_path}/{r['id']}")).json() for r in page]
