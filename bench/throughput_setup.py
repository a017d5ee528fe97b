"""The processes of the throughput benchmark: Callbridge, its HubSpot integration, the fake."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from bench.fakehub import TOKEN
from bench.harness import (
    ROOT,
    Process,
    child,
    cpu_seconds_of,
    environment,
    free_port,
    new_company,
    postgres_database,
    scratch_dir,
    serve,
    settings_for,
)
from bench.latency import postgres_reader, wait_for_worker
from bench.load import LoadClient
from bench.throughput_pg import PgProbe
from callbridge.runtime import Runtime
from callbridge.service.bootstrap import CreatedCompany
from callbridge.storage import sql
from callbridge.storage.integrations import update_integration

# "Create contact + log": the new caller's rule creates the contact (the policy decides), and
# no rule adds a deal, a recording link, a note or a task.
CONTACT_LOG: dict[str, Any] = {
    "voicemail_is_missed": True,
    "deal": {"name_template": "Call from {phone}", "pipeline": None, "stage": None,
             "create_for_existing_without_open_deal": False},
    "rules": [
        {"name": "incoming, new client, answered",
         "when": {"direction": "incoming", "client": "new", "outcome": "answered"},
         "actions": [{"type": "create_contact", "mode": "follow"}]},
    ],
}  # fmt: skip
# Limits far above what the run sends: the fake enforces none ("limits raised").
RAISED = {"requests_per_10s": 1_000_000, "searches_per_second": 100_000}


class Stack:
    """A running Callbridge set-up, its HubSpot integration and the fake it syncs to."""

    def __init__(
        self, url: str, company: CreatedCompany, data_dir: Path, fake_port: int, latency_ms: float
    ) -> None:
        self.url, self.company, self.data_dir = url, company, data_dir
        self.latency_ms = latency_ms
        self.fake_url = f"http://127.0.0.1:{fake_port}"
        self.fake_port = fake_port
        self.path = f"/webhooks/generic/{company.source_id}"
        self.secret = company.source_secret
        self.http = LoadClient(url, 200)
        self.processes: list[Process] = []  # the server first, then the workers
        self.pg: PgProbe | None = None  # the database's side, on PostgreSQL
        self.fake: subprocess.Popen[bytes] | None = None
        self.logged: dict[str, float] = {}
        self.duplicates = 0
        self.rss_peak = 0
        self.integration_id = ""
        self.local_crm = ""  # what became of the company's local CRM integration
        self._waiters: dict[str, asyncio.Future[float]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._crm = httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)

    def cpu_seconds(self) -> tuple[float, float]:
        """Return the CPU seconds the server and the worker processes have used."""
        server, *workers = self.processes
        return server.cpu_seconds(), sum(process.cpu_seconds() for process in workers)

    def crm_cpu_seconds(self) -> float:
        """Return the CPU seconds the HubSpot fake has used (it shares the machine's cores)."""
        return cpu_seconds_of(self.fake.pid) if self.fake is not None else 0.0

    async def restart_fake(self) -> None:
        """Start the fake empty (stopping the last one) and follow its engagements."""
        self.stop_fake()
        self.fake = _start_fake(self.data_dir / "fake.log", self.fake_port, self.latency_ms)
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.TransportError):
                if (await self._crm.get(f"{self.fake_url}/__bench/requests")).status_code == 200:
                    break
            if time.monotonic() > deadline or self.fake.poll() is not None:
                raise RuntimeError(f"the HubSpot fake did not start: {self.data_dir / 'fake.log'}")
            await asyncio.sleep(0.1)
        self.logged.clear()
        self.duplicates = 0
        self._tasks = [asyncio.create_task(self._follow()), asyncio.create_task(self._sample())]

    def stop_fake(self) -> None:
        """Stop following and stop the fake."""
        for task in self._tasks:
            task.cancel()
        if self.fake is not None:
            self.fake.terminate()
            self.fake.wait(timeout=15)
            self.fake = None

    async def _follow(self) -> None:
        after = 0
        while True:
            try:
                answer = await self._crm.get(f"{self.fake_url}/__bench/logged?after={after}")
            except httpx.TransportError:
                await asyncio.sleep(0.1)
                continue
            body = answer.json()
            after = body["next"]
            for key, at in body["logged"]:
                if key in self.logged:
                    self.duplicates += 1
                    continue
                self.logged[key] = at
                waiter = self._waiters.pop(key, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(at)

    async def _sample(self) -> None:
        while True:
            self.rss_peak = max(self.rss_peak, sum(p.rss_bytes() for p in self.processes))
            await asyncio.sleep(0.2)

    async def logged_by(self, key: str, within: float) -> float:
        """Wait until the engagement of the call from ``key`` (digits) is stored; return when."""
        if key in self.logged:
            return self.logged[key]
        waiter = self._waiters.setdefault(key, asyncio.get_running_loop().create_future())
        return await asyncio.wait_for(waiter, within)

    async def all_logged(self, keys: set[str], within: float) -> None:
        """Wait until every call's engagement is stored, or ``within`` seconds."""
        waits = asyncio.gather(*(self.logged_by(key, within) for key in keys))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waits, within)

    async def request_count(self) -> int:
        """Return how many requests the fake has answered (benchmark routes aside)."""
        counts = (await self._crm.get(f"{self.fake_url}/__bench/requests")).json()
        return int(sum(counts.values()))

    async def use_matrix(self, matrix: dict[str, Any]) -> None:
        """Store ``matrix`` as the HubSpot integration's new version."""
        async with self._api() as api:
            answer = await api.put(f"/integrations/{self.integration_id}/matrix", json=matrix)
            answer.raise_for_status()

    def _api(self) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.company.api_key}"}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30)

    async def connect(self, runtime: Runtime) -> None:
        """Delete the local CRM (or, where it cannot be, make it create nothing); add HubSpot.

        HubSpot's integration has the creation policy ``all`` and the fake's token.
        """
        company = self.company
        async with self._api() as api:
            local = f"/integrations/{company.integration_id}"
            self.local_crm = "deleted"
            await api.delete(local)
            if (await api.get(local)).status_code != 404:  # it could not be deleted
                self.local_crm = "disabled"
                if (await api.post(f"{local}/disable")).status_code >= 400:  # an older version
                    self.local_crm = "kept, policy none"
                    (await api.patch(local, json={"creation_policy": "none"})).raise_for_status()
            config = {"base_url": self.fake_url, "create_custom_properties": True, **RAISED}
            body = {"connector": "hubspot", "name": "HubSpot", "config": config}
            body["creation_policy"] = "all"
            answer = await api.post("/integrations", json=body)
            answer.raise_for_status()
            self.integration_id = str(answer.json()["id"])
        async with runtime.sessions.begin() as session:
            await sql.run(
                session,
                update_integration,
                company.company_id, self.integration_id, runtime.clock(),
                credentials_encrypted=runtime.box.seal({"access_token": TOKEN}),
            )  # fmt: skip


def _start_fake(log: Path, port: int, latency_ms: float) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "bench.fakehub", str(port), str(latency_ms)],
            cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip


@contextlib.asynccontextmanager
async def running(setup: str, latency_ms: float, profile: Path | None) -> AsyncIterator[Stack]:
    """Start one set-up (``sqlite`` or ``postgres-N``) with its HubSpot integration."""
    workers = int(setup.split("-")[1]) if setup.startswith("postgres") else 0
    with scratch_dir("throughput") as data_dir, contextlib.ExitStack() as stack:
        url = stack.enter_context(postgres_database("throughput")) if workers else None
        settings = settings_for(data_dir, url)
        company = await new_company(settings)
        extra = {"log_level": "warning", "allowed_private_hosts": "127.0.0.1"}
        if workers:
            extra["embedded_worker"] = "false"
        env = environment(data_dir, url, **extra)
        server = stack.enter_context(serve(env, data_dir / "server.log", profile))
        processes = [server]
        for index in range(workers):
            log = data_dir / f"worker{index}.log"
            processes.append(stack.enter_context(child(["worker"], env, log)))
        if url:
            query, connection = await postgres_reader(url)
            await wait_for_worker(query)
            await connection.close()
        runtime = Runtime.create(settings)
        bench = Stack(server.url, company, data_dir, free_port(), latency_ms)
        bench.processes = processes
        bench.pg = PgProbe(url) if url else None
        try:
            await bench.connect(runtime)
            yield bench
        finally:
            if bench.pg is not None:
                await bench.pg.close()
            bench.stop_fake()
            await bench.http.aclose()
            await runtime.close()
