"""Job metrics are true wherever the jobs run: in separate worker processes, and in the database.

A real ``callbridge worker`` process runs the jobs of calls delivered to the API's pipeline on
PostgreSQL; its counts reach the API's ``/metrics`` through ``PROMETHEUS_MULTIPROC_DIR``, or its
own ``--metrics-port``. Jobs waiting for a retry and dead letters are counted in the database at
scrape time, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from callbridge.api.app import create_app
from callbridge.errors import Permanent, Transient
from callbridge.ingest import ingest
from callbridge.queue.base import JobQueue, Payload
from callbridge.queue.procrastinate_queue import ProcrastinateJobQueue
from callbridge.queue.retry import RetryPolicy
from callbridge.queue.sqlite import SQLiteJobQueue
from callbridge.runtime import Runtime
from callbridge.runtime.schema import upgrade
from callbridge.service.bootstrap import CreatedCompany, create_company
from callbridge.settings import Settings
from callbridge.testing.servers import eventually, free_port
from callbridge.testing.webhooks import call_sequence, signed

Labels = dict[str, str]


def sample(text: str, name: str, **labels: str) -> float:
    """Return the value of one sample of a scrape, 0 when it is absent."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    return 0.0


class SlowRetries(RetryPolicy):
    """Retry a failed job only after an hour, so it is seen waiting for its retry."""

    def backoff(self, attempts: int, rand: Callable[[], float] = random.random) -> float:
        """Wait an hour whatever the attempt."""
        return 3600.0


@pytest.fixture
async def runtime(migrated_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    """A runtime whose queue retries failed jobs only after an hour."""
    built = Runtime.create(Settings(data_dir=tmp_path, database_url=migrated_url))
    queue: JobQueue
    if migrated_url.startswith("postgresql"):
        queue = ProcrastinateJobQueue(migrated_url, built.engine, SlowRetries())
    else:
        queue = SQLiteJobQueue(built.engine, SlowRetries(), poll_seconds=0.02)
    built.queue = queue
    yield built
    await built.close()


async def scrape(runtime: Runtime) -> str:
    """Return the API's ``/metrics`` page."""
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://callbridge.test") as api:
        answer = await api.get("/metrics")
    assert answer.status_code == 200
    return answer.text


OUTCOMES = st.lists(
    st.tuples(st.sampled_from(["fold", "sync"]), st.sampled_from(["ok", "retry", "dead"])),
    max_size=6,
)


@settings(max_examples=6)
@given(jobs=OUTCOMES)
async def test_waiting_retries_and_dead_letters_are_counted_in_the_database(
    runtime: Runtime, jobs: list[tuple[str, str]]
) -> None:
    expected: Counter[tuple[str, str]] = Counter()
    before = await runtime.queue.job_counts()
    for (task, state), count in before.items():
        expected[(task, state)] += count
    async with runtime.engine.begin() as conn:
        for task, outcome in jobs:
            await runtime.queue.enqueue(conn, task, {"outcome": outcome})
    runtime.queue.notify()

    async def run(payload: Payload) -> None:
        if payload["outcome"] == "retry":
            raise Transient("the CRM timed out")
        if payload["outcome"] == "dead":
            raise Permanent("the CRM refused the call")

    for task, outcome in jobs:
        if outcome != "ok":
            expected[(task, outcome)] += 1
    stop = asyncio.Event()
    worker = asyncio.create_task(runtime.queue.work({"fold": run, "sync": run}, stop=stop))

    async def settled() -> bool:
        counts = await runtime.queue.job_counts()
        return not any(state in {"waiting", "running"} for _, state in counts)

    try:
        await eventually(settled, "every job run", within=60)
    finally:
        stop.set()
        await worker
    page = await scrape(runtime)
    assert sample(page, "callbridge_queue_readable") == 1.0
    names = {"retry": "callbridge_jobs_waiting_for_retry", "dead": "callbridge_dead_letters"}
    for task in ("fold", "sync"):
        for state, name in names.items():
            assert sample(page, name, task=task) == expected[(task, state)], (task, state, page)
        assert sample(page, "callbridge_jobs_waiting", task=task) == 0


async def _deliver(runtime: Runtime, company: CreatedCompany, calls: int) -> None:
    """Send ``calls`` whole calls from unknown numbers through the webhook pipeline."""
    for index in range(calls):
        events = call_sequence(f"m-{index}", "incoming", f"+1415555{index:04d}", answered=True)
        for event in events:
            body, headers = signed(company.source_secret, event)
            await ingest(runtime, company.source_id, headers, body)


@pytest.mark.slow  # a real worker process
@pytest.mark.parametrize("export", ["multiprocess", "port"])
async def test_a_separate_worker_process_exports_its_job_metrics(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, export: str
) -> None:
    await upgrade(postgres_url)
    runtime = Runtime.create(Settings(data_dir=tmp_path, database_url=postgres_url))
    company = await create_company(runtime, "Acme")
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {
        **os.environ,
        "CALLBRIDGE_DATABASE_URL": postgres_url,
        "CALLBRIDGE_DATA_DIR": str(tmp_path),
    }
    command = [sys.executable, "-m", "callbridge", "worker"]
    port = free_port()
    if export == "multiprocess":
        env["PROMETHEUS_MULTIPROC_DIR"] = str(shared)
        monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(shared))
    else:
        command += ["--metrics-port", str(port)]
    calls = random.randint(2, 4)
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.DEVNULL
    )

    async def page() -> str:
        if export == "multiprocess":
            return await scrape(runtime)
        async with httpx.AsyncClient() as client:
            try:
                return (await client.get(f"http://127.0.0.1:{port}/metrics")).text
            except httpx.ConnectError:  # the worker is still starting
                return ""

    try:
        await _deliver(runtime, company, calls)
        async with runtime.engine.begin() as conn:  # one job that fails for good, one retried
            await runtime.queue.enqueue(conn, "no-such-task", {})
            await runtime.queue.enqueue(conn, "fold", {"broken": True})

        async def counted() -> bool:
            text = await page()
            return sample(text, "callbridge_jobs_total", task="sync", outcome="ok") >= calls and (
                sample(text, "callbridge_jobs_total", task="fold", outcome="error") >= 1
            )

        await eventually(
            counted, f"the worker's {calls} syncs and a failed fold in /metrics", within=60
        )
        text = await page()
        assert sample(text, "callbridge_jobs_total", task="sync", outcome="ok") == calls
        assert sample(text, "callbridge_job_seconds_count", task="sync") == calls
        assert sample(text, "callbridge_jobs_total", task="sync", outcome="error") == 0
        assert sample(text, "callbridge_jobs_total", task="fold", outcome="ok") >= calls
        # The queue's state is the database's, on the API's page whatever the worker exports.
        api = await scrape(runtime)
        assert sample(api, "callbridge_dead_letters", task="no-such-task") == 1

        async def retrying() -> bool:
            return (
                sample(await scrape(runtime), "callbridge_jobs_waiting_for_retry", task="fold") == 1
            )

        await eventually(retrying, "the broken fold waiting for its retry", within=60)
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
        await runtime.close()
    assert code == 0
    if export == "multiprocess":  # a stopped worker's counts stay in the sums
        await eventually(
            lambda: _still_counted(runtime, calls), "the stopped worker's counts", within=60
        )


async def _still_counted(runtime: Runtime, calls: int) -> bool:
    runtime = Runtime.create(runtime.settings)
    try:
        text = await scrape(runtime)
    finally:
        await runtime.close()
    return sample(text, "callbridge_jobs_total", task="sync", outcome="ok") == calls
