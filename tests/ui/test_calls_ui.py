"""The calls screens: history with filters, a call's page, Replay of a dead sync, tenancy."""

from __future__ import annotations

import asyncio
import contextlib

from callbridge.ingest import ingest
from callbridge.runtime import Runtime
from callbridge.testing.draining import drain
from callbridge.testing.servers import eventually
from callbridge.testing.webhooks import call_sequence, signed
from tests.ui.ui_client import UiTenant

NUMBER = "+33612345678"


async def synced_call(runtime: Runtime, tenant: UiTenant, provider_call_id: str) -> str:
    """Deliver a missed call from NUMBER, sync it, and return its id."""
    for event in call_sequence(provider_call_id, "incoming", NUMBER, answered=False):
        body, headers = signed(tenant.company.source_secret, event)
        await ingest(runtime, tenant.company.source_id, headers, body)
    await drain(runtime)
    headers = {"Authorization": f"Bearer {tenant.company.api_key}"}
    listed = (await tenant.client.get("/calls", headers=headers)).json()["calls"]
    return str(next(c["id"] for c in listed if c["provider_call_id"] == provider_call_id))


async def _dead_sync(runtime: Runtime, tenant: UiTenant, call_id: str) -> None:
    """Leave a sync job of the call in the dead letters (no handler runs it)."""
    payload = {
        "company_id": tenant.company.company_id,
        "call_id": call_id,
        "integration_id": tenant.company.integration_id,
    }
    async with runtime.engine.begin() as conn:
        await runtime.queue.enqueue(conn, "sync-gone", payload)
    stop = asyncio.Event()
    worker = asyncio.create_task(runtime.queue.work({}, stop=stop, concurrency=1))
    try:
        await eventually(lambda: runtime.queue.dead_letters(), "the job to die", within=20)
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


async def test_history_and_call_page(ui_runtime: Runtime, acme: UiTenant) -> None:
    call_id = await synced_call(ui_runtime, acme, "c-ui-1")
    await acme.sign_in()
    listed = await acme.client.get("/ui/calls")
    assert listed.status_code == 200
    assert f"/ui/calls/{call_id}" in listed.text
    assert NUMBER in listed.text
    filtered = await acme.client.get("/ui/calls", params={"number": "999999", "state": "missed"})
    assert f"/ui/calls/{call_id}" not in filtered.text
    kept = await acme.client.get("/ui/calls", params={"number": "612345", "state": "missed"})
    assert f"/ui/calls/{call_id}" in kept.text
    outgoing = await acme.client.get("/ui/calls", params={"direction": "outgoing"})
    assert f"/ui/calls/{call_id}" not in outgoing.text
    incoming = await acme.client.get("/ui/calls", params={"direction": "incoming"})
    assert f"/ui/calls/{call_id}" in incoming.text
    later = await acme.client.get("/ui/calls", params={"since": "2999-01-01"})
    assert f"/ui/calls/{call_id}" not in later.text
    earlier = await acme.client.get("/ui/calls", params={"since": "2000-01-01"})
    assert f"/ui/calls/{call_id}" in earlier.text
    odd = await acme.client.get("/ui/calls", params={"since": "not a day", "direction": "up"})
    assert odd.status_code == 200
    assert f"/ui/calls/{call_id}" in odd.text
    page = await acme.client.get(f"/ui/calls/{call_id}")
    assert page.status_code == 200
    for heading in ("Events", "Records", "Syncs", "CRM actions"):
        assert heading in page.text
    assert "Replay" not in page.text


async def test_a_dead_sync_is_replayed_from_the_calls_page(
    ui_runtime: Runtime, acme: UiTenant
) -> None:
    call_id = await synced_call(ui_runtime, acme, "c-ui-dead")
    await _dead_sync(ui_runtime, acme, call_id)
    csrf = await acme.sign_in()
    page = await acme.client.get(f"/ui/calls/{call_id}")
    assert "Replay" in page.text
    [dead] = await ui_runtime.queue.dead_letters(company_id=acme.company.company_id)
    answer = await acme.client.post(f"/ui/calls/{call_id}/replay/{dead.id}", data={"csrf": csrf})
    assert answer.status_code == 303
    assert await ui_runtime.queue.dead_letters(company_id=acme.company.company_id) == []
    assert "Replayed" in (await acme.client.get(answer.headers["location"])).text


async def test_another_companys_call_and_job_are_not_found(
    ui_runtime: Runtime, acme: UiTenant, globex: UiTenant
) -> None:
    theirs = await synced_call(ui_runtime, globex, "c-ui-theirs")
    await _dead_sync(ui_runtime, globex, theirs)
    [dead] = await ui_runtime.queue.dead_letters(company_id=globex.company.company_id)
    csrf = await acme.sign_in()
    assert (await acme.client.get(f"/ui/calls/{theirs}")).status_code == 404
    assert f"/ui/calls/{theirs}" not in (await acme.client.get("/ui/calls")).text
    replay = await acme.client.post(f"/ui/calls/{theirs}/replay/{dead.id}", data={"csrf": csrf})
    assert replay.status_code == 404
    assert await ui_runtime.queue.dead_letters(company_id=globex.company.company_id) != []
