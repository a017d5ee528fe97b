"""The calls screens: history with filters, a call's page, Replay of a dead sync, tenancy."""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
from urllib.parse import urlencode

import pytest

from callbridge.ingest import ingest
from callbridge.runtime import Runtime
from callbridge.testing.draining import drain
from callbridge.testing.servers import eventually
from callbridge.testing.webhooks import call_sequence, signed
from callbridge.ui import calls as calls_ui
from tests.ui.ui_client import UiTenant

NUMBER = "+33612345678"
ID = re.compile(r'href="/ui/calls/([0-9a-f-]{36})"')
OLDER = re.compile(r'href="(/ui/calls\?[^"]*)" rel="next"')
NEWER = re.compile(r'href="(/ui/calls\?[^"]*)" rel="prev"')


async def synced_call(
    runtime: Runtime,
    tenant: UiTenant,
    provider_call_id: str,
    number: str = NUMBER,
    agent_email: str | None = None,
) -> str:
    """Deliver a missed call from ``number`` (to an agent), sync it, and return its id."""
    sequence = call_sequence(
        provider_call_id, "incoming", number, answered=False, agent_email=agent_email
    )
    for event in sequence:
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
        company = tenant.company.company_id
        await eventually(
            lambda: runtime.queue.dead_letters(company_id=company), "the job to die", within=20
        )
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
    kept = await acme.client.get("/ui/calls", params={"number": "+33 612", "state": "missed"})
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
    await acme.client.get("/ui/language/fr")  # the refusal is said in the page's language
    ours = await synced_call(ui_runtime, acme, "c-ui-ours")
    wrong = await acme.client.post(f"/ui/calls/{ours}/replay/{dead.id}", data={"csrf": csrf})
    assert wrong.status_code == 404
    assert f"aucune tâche en échec {dead.id} dans cette entreprise" in wrong.text


async def _agent(tenant: UiTenant, name: str) -> str:
    """Create an employee with an e-mail address (calls name them by it); return their id."""
    headers = {"Authorization": f"Bearer {tenant.company.api_key}"}
    body = {"name": name, "email": f"{name.lower()}@example.com"}
    answer = await tenant.client.post("/users", json=body, headers=headers)
    return str(answer.json()["id"])


async def test_the_filters_work_together_and_pages_follow_their_cursors(
    ui_runtime: Runtime, acme: UiTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann = await _agent(acme, "Ann")
    await _agent(acme, "Bob")
    anns = [
        await synced_call(ui_runtime, acme, f"c-ann-{n}", f"+3361000000{n}", "ann@example.com")
        for n in range(3)
    ]
    bobs = await synced_call(ui_runtime, acme, "c-bob", "+33610000009", "bob@example.com")
    await acme.sign_in()
    integration = acme.company.integration_id
    wanted = {"agent": ann, "integration": integration, "status": "done", "number": "+336100"}
    listed = (await acme.client.get("/ui/calls", params=wanted)).text
    assert all(f"/ui/calls/{call}" in listed for call in anns)
    assert f"/ui/calls/{bobs}" not in listed
    assert ">Ann</td>" in listed
    failed = await acme.client.get("/ui/calls", params={**wanted, "status": "failed"})
    assert not any(f"/ui/calls/{call}" in failed.text for call in anns)
    monkeypatch.setattr(calls_ui, "PAGE_SIZE", 2)
    seen: list[str] = []
    url = "/ui/calls?" + urlencode(wanted)
    while url:
        page = (await acme.client.get(url)).text
        seen += ID.findall(page)
        older = OLDER.search(page)
        url = html.unescape(older.group(1)) if older else ""
    assert seen == list(reversed(anns))
    newer = NEWER.search(page)
    assert newer, "the last page links back to newer calls"
    back = (await acme.client.get(html.unescape(newer.group(1)))).text
    assert ID.findall(back) == seen[:2]


async def test_another_companys_agent_or_integration_in_a_filter_is_not_found(
    ui_runtime: Runtime, acme: UiTenant, globex: UiTenant
) -> None:
    theirs = await _agent(globex, "Eve")
    await synced_call(ui_runtime, globex, "c-eve", agent_email="eve@example.com")
    await synced_call(ui_runtime, acme, "c-mine")
    await acme.sign_in()
    headers = {"Authorization": f"Bearer {acme.company.api_key}"}
    for foreign in ({"agent": theirs}, {"integration": globex.company.integration_id}):
        assert (await acme.client.get("/ui/calls", params=foreign)).status_code == 404
        answer = await acme.client.get("/calls", params=foreign, headers=headers)
        assert answer.status_code == 404, answer.text
        assert "calls" not in answer.json()


async def test_the_api_takes_the_same_filters_and_cursors(
    ui_runtime: Runtime, acme: UiTenant
) -> None:
    ann = await _agent(acme, "Ann")
    anns = [
        await synced_call(ui_runtime, acme, f"c-api-{n}", f"+3361000000{n}", "ann@example.com")
        for n in range(3)
    ]
    await synced_call(ui_runtime, acme, "c-api-other", "+33610000009")
    headers = {"Authorization": f"Bearer {acme.company.api_key}"}
    wanted = {
        "agent": ann,
        "integration": acme.company.integration_id,
        "status": "done",
        "number": "+336100",
        "until": "2999-01-01T00:00:00Z",
        "limit": "2",
    }
    first = (await acme.client.get("/calls", params=wanted, headers=headers)).json()
    assert [c["id"] for c in first["calls"]] == anns[:0:-1]
    assert first["newer"] is None and first["older"]
    second = await acme.client.get(
        "/calls", params={**wanted, "after": first["older"]}, headers=headers
    )
    assert [c["id"] for c in second.json()["calls"]] == [anns[0]]
    assert second.json()["older"] is None and second.json()["newer"]
    back = await acme.client.get(
        "/calls", params={**wanted, "before": second.json()["newer"]}, headers=headers
    )
    assert back.json()["calls"] == first["calls"]
    nearest = {**wanted, "before": second.json()["newer"], "limit": "1"}
    one = (await acme.client.get("/calls", params=nearest, headers=headers)).json()
    assert [c["id"] for c in one["calls"]] == [anns[1]]  # the page just before, not the newest
    assert one["newer"] and one["older"]
    before_all = {**wanted, "until": "2000-01-01T00:00:00Z"}
    assert (await acme.client.get("/calls", params=before_all, headers=headers)).json()[
        "calls"
    ] == []
    odd = await acme.client.get("/calls", params={"status": "lost"}, headers=headers)
    assert odd.status_code == 422
