"""Accepted means processable: generated edge-case calls through the real ingest and worker.

Each example is a fresh company whose call is delivered event by event to the FastAPI app
(signed, over ASGI), then processed by the queue's worker in this process, on SQLite and on
PostgreSQL. A delivery the docs accept must be answered 200 and its call must reach a final
sync status, with no job failing, none dead-lettered, none left running, and the call history
readable; a delivery they refuse must be answered 422 naming one of its bad fields.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import hypothesis
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from callbridge.pipeline import handlers
from callbridge.queue.base import Payload
from callbridge.runtime import Runtime
from callbridge.service.bootstrap import CreatedCompany
from callbridge.testing.webhooks import signed
from tests.in_process import company_client
from tests.telephony.generic.generic_events import FINAL_KINDS, call_deliveries
from tests.telephony.generic.generic_rules import refused, server_now

NOW = server_now()
FINAL_SYNC = {"done", "skipped", "no_match"}


class Processed:
    """The queue's worker running in this process, noting every job that raised."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.failures: list[str] = []
        self.stop = asyncio.Event()
        by_task = handlers(runtime.for_worker())
        watched = {task: self._watch(task, handler) for task, handler in by_task.items()}
        self.task = asyncio.create_task(runtime.queue.work(watched, stop=self.stop, concurrency=2))

    def _watch(self, task: str, handler: Any) -> Any:
        async def run(payload: Payload) -> None:
            try:
                await handler(payload)
            except Exception as err:
                self.failures.append(f"{task} {payload}: {type(err).__name__}: {err}")
                raise

        return run

    async def settled(self) -> None:
        """Wait until no job waits or runs, or one failed, or the worker stopped; at most 20 s."""
        deadline = time.monotonic() + 20
        while await self.runtime.queue.pending_count() and not self.failures:
            if self.task.done():
                self.task.result()  # the worker itself died: show why
                raise AssertionError("the worker stopped")
            assert time.monotonic() < deadline, "the queue did not drain in 20 s"
            await asyncio.sleep(0.02)


@pytest.fixture
async def processed(migrated_runtime: Runtime) -> AsyncIterator[Processed]:
    """A runtime on a migrated database, its worker running in this event loop."""
    worker = Processed(migrated_runtime)
    try:
        yield worker
    finally:
        worker.stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await worker.task


@settings(
    max_examples=60,
    # No "explain" phase: it reruns a failing example many times, each waiting for the queue.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
@given(
    deliveries=call_deliveries(NOW),
    header_lengths=st.lists(st.sampled_from([12, 12, 12, 12, 255, 256]), min_size=5, max_size=5),
)
async def test_every_accepted_delivery_is_processed_and_every_refusal_names_its_field(
    processed: Processed, deliveries: list[dict[str, Any]], header_lengths: list[int]
) -> None:
    runtime = processed.runtime
    async with company_client(runtime, "Edge") as (company, client):
        finals = 0
        for index, event in enumerate(deliveries):
            msg_id = f"msg-{index}-".ljust(header_lengths[index], "w")
            stored = await _deliver(client, company, runtime, event, msg_id)
            finals += stored and event["type"] in FINAL_KINDS
        await processed.settled()
        assert processed.failures == []
        assert await runtime.queue.dead_letters() == []
        await _assert_history(client, finals)


async def _deliver(
    client: httpx.AsyncClient,
    company: CreatedCompany,
    runtime: Runtime,
    event: dict[str, Any],
    msg_id: str,
) -> bool:
    """Send one event; check the answer against the docs; tell whether it was stored."""
    body, headers = signed(company.source_secret, event, msg_id=msg_id)
    url = f"/webhooks/generic/{company.source_id}"
    answer = await client.post(url, content=body, headers=headers)
    bad = refused(json.loads(body), NOW) | ({"webhook-id"} if len(msg_id) > 255 else set())
    if len(body) > runtime.settings.max_body_bytes:
        assert answer.status_code == 413
        return False
    if bad:
        assert answer.status_code == 422, (answer.status_code, answer.text, bad)
        assert answer.json()["field"] in bad, (answer.json(), bad)
        hypothesis.event("refused")
        return False
    assert answer.status_code == 200, (answer.status_code, answer.text)
    hypothesis.event("accepted")
    return bool(answer.json()["accepted"])


async def _assert_history(client: httpx.AsyncClient, finals: int) -> None:
    """The call history reads back, and a call with a final event has final syncs."""
    listing = await client.get("/calls")
    assert listing.status_code == 200, listing.text
    for call in listing.json()["calls"]:
        detail = await client.get(f"/calls/{call['id']}")
        assert detail.status_code == 200, detail.text
        statuses = [sync["status"] for sync in detail.json()["syncs"]]
        if finals:
            hypothesis.event(f"sync {statuses}")
            assert statuses and set(statuses) <= FINAL_SYNC, detail.json()["syncs"]
    assert bool(finals) <= bool(listing.json()["calls"])
