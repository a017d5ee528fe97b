"""Disabling, enabling and deleting an integration: what syncs, what goes, what stays."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import RowMapping, func, select, update
from sqlalchemy.exc import IntegrityError

from callbridge.api.integration_lifecycle import owned_tables
from callbridge.connectors.registry import specs
from callbridge.dialer.events import selection_scope
from callbridge.fold import fold_call
from callbridge.ingest import ingest
from callbridge.queue import jobs
from callbridge.rules import agent_choice
from callbridge.runtime import Runtime
from callbridge.runtime.connectors import connector_for
from callbridge.runtime.schema import metadata
from callbridge.storage import sql
from callbridge.storage.tables import call_syncs
from callbridge.sync import run as run_module
from callbridge.testing.draining import drain
from callbridge.testing.webhooks import call_sequence, signed
from tests.api.api_tenant import Tenant


def ok(answer: httpx.Response, status: int = 200) -> Any:
    """Return the JSON of an answer with the status expected."""
    assert answer.status_code == status, answer.text
    return answer.json()


async def deliver(runtime: Runtime, tenant: Tenant, call_id: str, number: str) -> None:
    """Store a whole answered incoming call's events (its fold job queued, not run)."""
    for event in call_sequence(call_id, "incoming", number, answered=True):
        body, headers = signed(tenant.company.source_secret, event)
        await ingest(runtime, tenant.company.source_id, headers, body)


async def call_page(tenant: Tenant, call_id: str) -> dict[str, Any]:
    """Return the page of the call the platform calls ``call_id``."""
    listed = ok(await tenant.client.get("/calls", params={"limit": 500}))["calls"]
    mine = next(c for c in listed if c["provider_call_id"] == call_id)
    page: dict[str, Any] = ok(await tenant.client.get(f"/calls/{mine['id']}"))
    return page


def syncs_of(page: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return a call page's syncs by integration id."""
    return {sync["integration_id"]: sync for sync in page["syncs"]}


async def owned_rows(
    runtime: Runtime, tenant: Tenant, integration_id: str
) -> dict[str, list[RowMapping]]:
    """Return every row an integration owns, by table (each statement names its scope)."""
    found: dict[str, list[RowMapping]] = {}
    async with runtime.reads() as session:
        for table in owned_tables():
            query = select(table).where(table.c.integration_id == integration_id)
            if "company_id" in table.c:
                query = query.where(table.c.company_id == tenant.company.company_id)
            rows = (await session.execute(query)).mappings().all()
            found[table.name] = sorted(rows, key=repr)
    return found


async def second_integration(tenant: Tenant, name: str = "Second CRM") -> str:
    """Connect another local CRM to the company and return its id."""
    body = {"connector": "local", "name": name}
    return str(ok(await tenant.client.post("/integrations", json=body), 201)["id"])


def test_every_table_that_refers_to_an_integration_is_deleted_with_it() -> None:
    owned = owned_tables()
    every_spec = {
        table
        for spec in specs().values()
        if spec.tables is not None
        for table in vars(spec.tables).values()
        if table in metadata.sorted_tables and "integration_id" in table.c
    }
    assert every_spec <= set(owned)
    assert {"hubspot_rate_buckets", "hubspot_phone_cache", "crm_records", "call_syncs"} <= {
        t.name for t in owned
    }
    for position, table in enumerate(owned):
        for key in table.foreign_keys:
            parent = key.column.table
            if parent.name == "integrations":
                assert key.parent.name == "integration_id", table.name
            # A table referring to an owned one goes first, and owns its rows by integration too.
            if parent in owned:
                assert owned.index(parent) > position, (table.name, parent.name)
    # Every other table refers neither to an integration nor to a row it owns: nothing is left
    # pointing at what a deletion removes.
    removed = {*owned, metadata.tables["integrations"]}
    for table in metadata.sorted_tables:
        if table not in removed:
            assert not {k.column.table for k in table.foreign_keys} & removed, table.name


async def test_disable_and_enable_are_shown_and_idempotent(
    api_runtime: Runtime, acme: Tenant
) -> None:
    client, integration = acme.client, acme.company.integration_id
    for _ in range(2):
        shown = ok(await client.post(f"/integrations/{integration}/disable"))
        assert shown["status"] == "disabled"
        assert f"POST /integrations/{integration}/enable" in shown["status_reason"]
        assert shown["status_reason_code"] == "disabled_by_admin"
    answer = await client.post(f"/integrations/{integration}/resume")
    assert answer.status_code == 409 and "enable it with" in answer.json()["detail"]
    assert ok(await client.get(f"/integrations/{integration}"))["status"] == "disabled"
    for _ in range(2):
        shown = ok(await client.post(f"/integrations/{integration}/enable"))
        assert (shown["status"], shown["status_reason"]) == ("active", None)
        assert shown["status_reason_code"] is None
    assert ok(await client.post(f"/integrations/{integration}/resume"))["status"] == "active"


async def test_enabling_leaves_a_paused_integration_paused(
    api_runtime: Runtime, acme: Tenant
) -> None:
    integration = acme.company.integration_id
    async with api_runtime.sessions.begin() as session:
        from callbridge.storage.integrations import update_integration

        await sql.run(
            session,
            update_integration,
            acme.company.company_id, integration, api_runtime.clock(),
            status="paused", status_reason="CRM refused the credentials",
        )  # fmt: skip
    shown = ok(await acme.client.post(f"/integrations/{integration}/enable"))
    assert (shown["status"], shown["status_reason"]) == ("paused", "CRM refused the credentials")
    ok(await acme.client.post(f"/integrations/{integration}/disable"))
    shown = ok(await acme.client.post(f"/integrations/{integration}/enable"))
    assert shown["status"] == "active"  # a new sync pauses it again if the CRM still refuses


async def test_another_companys_integration_is_a_404_that_changes_nothing(
    api_runtime: Runtime, acme: Tenant, globex: Tenant
) -> None:
    theirs = globex.company.integration_id
    ok(await globex.client.post(f"/integrations/{theirs}/records", json={"name": "Theirs"}), 201)
    await deliver(api_runtime, globex, "g-1", "+14155550111")
    await drain(api_runtime)
    before = (
        ok(await globex.client.get(f"/integrations/{theirs}")),
        await owned_rows(api_runtime, globex, theirs),
    )
    for method, path in (
        ("POST", f"/integrations/{theirs}/disable"),
        ("POST", f"/integrations/{theirs}/enable"),
        ("POST", f"/integrations/{theirs}/resume"),
        ("DELETE", f"/integrations/{theirs}"),
    ):
        answer = await acme.client.request(method, path)
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.json() == {
            "detail": f"no integration {theirs} in this company",
            "code": "no_integration",
            "params": {"integration_id": theirs},
        }
    after = (
        ok(await globex.client.get(f"/integrations/{theirs}")),
        await owned_rows(api_runtime, globex, theirs),
    )
    assert after == before
    assert before[1]["call_syncs"] and before[1]["crm_records"]


async def test_a_disabled_integration_gets_no_sync_and_the_others_theirs(
    api_runtime: Runtime, acme: Tenant
) -> None:
    first, second = acme.company.integration_id, await second_integration(acme)
    ok(await acme.client.post(f"/integrations/{first}/disable"))
    await deliver(api_runtime, acme, "c-off", "+14155550121")
    await drain(api_runtime)
    syncs = syncs_of(await call_page(acme, "c-off"))
    assert set(syncs) == {second} and syncs[second]["status"] == "done"
    assert not (await owned_rows(api_runtime, acme, first))["crm_activities"]
    ok(await acme.client.post(f"/integrations/{first}/enable"))
    await deliver(api_runtime, acme, "c-on", "+14155550121")
    await drain(api_runtime)
    syncs = syncs_of(await call_page(acme, "c-on"))
    assert {k: v["status"] for k, v in syncs.items()} == {first: "done", second: "done"}
    assert set(syncs_of(await call_page(acme, "c-off"))) == {second}  # enabling is not a replay


async def folded_not_synced(
    runtime: Runtime, tenant: Tenant, call_id: str, number: str = "+14155550122"
) -> None:
    """Deliver a call and fold it: its syncs are queued, none has run."""
    await deliver(runtime, tenant, call_id, number)
    company = tenant.company
    await fold_call(runtime, jobs.fold_job(company.company_id, company.source_id, call_id).payload)


async def test_syncs_queued_before_disabling_end_as_skipped(
    api_runtime: Runtime, acme: Tenant
) -> None:
    first, second = acme.company.integration_id, await second_integration(acme)
    await folded_not_synced(api_runtime, acme, "c-queued")
    ok(await acme.client.post(f"/integrations/{first}/disable"))
    await drain(api_runtime)
    syncs = syncs_of(await call_page(acme, "c-queued"))
    assert (syncs[first]["status"], syncs[first]["reason"]) == ("skipped", "integration disabled")
    assert syncs[second]["status"] == "done"
    assert not (await owned_rows(api_runtime, acme, first))["crm_activities"]
    assert ok(await acme.client.get("/jobs/dead")) == []


async def test_a_synced_call_stays_done_when_its_late_resync_meets_a_disabled_integration(
    api_runtime: Runtime, acme: Tenant
) -> None:
    integration = acme.company.integration_id
    await folded_not_synced(api_runtime, acme, "c-late")
    await drain(api_runtime)
    page = await call_page(acme, "c-late")
    ok(await acme.client.post(f"/integrations/{integration}/disable"))
    job = jobs.sync_job(acme.company.company_id, page["id"], integration, "+14155550122")
    from callbridge.sync import sync_call

    await sync_call(api_runtime, job.payload)
    sync = syncs_of(await call_page(acme, "c-late"))[integration]
    assert sync["status"] == "done" and "not written" in sync["reason"]


async def test_deleting_removes_what_the_integration_owns_and_keeps_the_calls(
    api_runtime: Runtime, acme: Tenant, globex: Tenant
) -> None:
    first, second = acme.company.integration_id, await second_integration(acme)
    theirs = globex.company.integration_id
    for tenant, integration in ((acme, first), (acme, second), (globex, theirs)):
        record = {"name": "Client", "phones": ["+14155550131"]}
        ok(await tenant.client.post(f"/integrations/{integration}/records", json=record), 201)
        await deliver(api_runtime, tenant, f"c-{integration}", "+14155550131")
    await drain(api_runtime)
    kept = [
        await owned_rows(api_runtime, acme, second),
        await owned_rows(api_runtime, globex, theirs),
    ]
    gone = await owned_rows(api_runtime, acme, first)
    answer = ok(await acme.client.delete(f"/integrations/{first}"))
    assert answer["id"] == first
    assert answer["removed"] == {table: len(rows) for table, rows in gone.items() if rows}
    assert {"call_syncs", "activity_links", "crm_records", "crm_activities"} <= set(
        answer["removed"]
    )
    assert not any((await owned_rows(api_runtime, acme, first)).values())
    assert [
        await owned_rows(api_runtime, acme, second),
        await owned_rows(api_runtime, globex, theirs),
    ] == kept
    ok(await acme.client.get(f"/integrations/{first}"), 404)
    for method, path in (("DELETE", ""), ("POST", "/disable"), ("POST", "/enable")):
        ok(await acme.client.request(method, f"/integrations/{first}{path}"), 404)
    for call_id in (f"c-{first}", f"c-{second}"):  # the calls stay, with the other's syncs
        assert set(syncs_of(await call_page(acme, call_id))) == {second}
    assert [i["id"] for i in ok(await acme.client.get("/integrations"))] == [second]


async def test_syncs_queued_for_a_deleted_integration_end_quietly(
    api_runtime: Runtime, acme: Tenant
) -> None:
    first, second = acme.company.integration_id, await second_integration(acme)
    await folded_not_synced(api_runtime, acme, "c-orphan")
    ok(await acme.client.delete(f"/integrations/{first}"))
    ran = await drain(api_runtime)
    assert "sync" in ran
    assert set(syncs_of(await call_page(acme, "c-orphan"))) == {second}
    assert not any((await owned_rows(api_runtime, acme, first)).values())
    assert ok(await acme.client.get("/jobs/dead")) == []


async def test_a_running_sync_makes_deletion_a_409_saying_what_to_do(
    api_runtime: Runtime, acme: Tenant
) -> None:
    integration, company = acme.company.integration_id, acme.company.company_id
    await deliver(api_runtime, acme, "c-run", "+14155550141")
    await drain(api_runtime)
    page = await call_page(acme, "c-run")
    mine = (
        call_syncs.c.company_id == company,
        call_syncs.c.integration_id == integration,
        call_syncs.c.call_id == page["id"],
    )

    async def mark_running(ago: timedelta) -> None:
        async with api_runtime.sessions.begin() as session:
            when = api_runtime.clock() - ago
            await session.execute(
                update(call_syncs).where(*mine).values(status="running", updated_at=when)
            )

    await mark_running(timedelta(seconds=1))
    answer = await acme.client.delete(f"/integrations/{integration}")
    assert answer.status_code == 409, answer.text
    detail = answer.json()["detail"]
    assert page["id"] in detail and f"POST /integrations/{integration}/disable" in detail
    assert ok(await acme.client.get(f"/integrations/{integration}"))["status"] == "active"
    await mark_running(timedelta(hours=1))  # a worker died in it: it runs no more
    ok(await acme.client.delete(f"/integrations/{integration}"))
    async with api_runtime.reads() as session:
        left = select(func.count()).select_from(call_syncs).where(*mine)
        assert (await session.execute(left)).scalar_one() == 0


async def test_the_dialer_offers_no_choice_in_a_disabled_integration(
    api_runtime: Runtime, acme: Tenant
) -> None:
    integration = acme.company.integration_id
    config = {"config": {agent_choice.OPTION: True}}
    ok(await acme.client.patch(f"/integrations/{integration}", json=config))
    permissions = [agent_choice.PERMISSION]
    scope, _ = await selection_scope(api_runtime, acme.company.company_id, permissions)
    assert [i["id"] for i in scope] == [integration]
    ok(await acme.client.post(f"/integrations/{integration}/disable"))
    scope, reason = await selection_scope(api_runtime, acme.company.company_id, permissions)
    assert scope == [] and reason is not None


async def test_an_agents_pending_choice_in_a_deleted_integration_does_not_block_the_others(
    api_runtime: Runtime, acme: Tenant
) -> None:
    client, number = acme.client, "+14155550151"
    first, second = acme.company.integration_id, await second_integration(acme)
    team = {"name": "Sales", "permissions": [agent_choice.PERMISSION]}
    team_id = ok(await client.post("/teams", json=team), 201)["id"]
    user = {"name": "Ann", "email": "ann@acme.test", "team_id": team_id}
    user_id = ok(await client.post("/users", json=user), 201)["id"]
    choices = []
    for integration in (first, second):
        config = {"config": {agent_choice.OPTION: True, agent_choice.GRACE_OPTION: 0}}
        ok(await client.patch(f"/integrations/{integration}", json=config))
        record = {"name": "Client", "phones": [number]}
        path = f"/integrations/{integration}/records"
        made = ok(await client.post(path, json=record), 201)
        choices.append({"integration_id": integration, "record_id": made["id"]})
    intent = {"number": number, "choices": choices, "user_id": user_id}
    ok(await client.post("/dialer/intents", json=intent), 201)
    ok(await client.delete(f"/integrations/{first}"))
    events = call_sequence("c-chosen", "outgoing", number, answered=True, agent_email=user["email"])
    for event in events:
        body, headers = signed(acme.company.source_secret, event)
        await ingest(api_runtime, acme.company.source_id, headers, body)
    await drain(api_runtime)
    assert ok(await client.get("/jobs/dead")) == []
    page = await call_page(acme, "c-chosen")
    assert {k: v["status"] for k, v in syncs_of(page).items()} == {second: "done"}
    chosen = choices[1]["record_id"]
    assert [a["record_id"] for a in page["activities"]] == [chosen], page["activities"]


async def test_a_sync_caught_mid_run_by_the_deletion_writes_nothing_and_its_retry_ends(
    api_runtime: Runtime, acme: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sync not yet marked running when its integration is deleted: the foreign keys stop it."""
    integration, number = acme.company.integration_id, "+14155550161"
    await folded_not_synced(api_runtime, acme, "c-midway", number)
    page = await call_page(acme, "c-midway")
    searching, go_on = asyncio.Event(), asyncio.Event()
    build = connector_for

    def held(runtime: Runtime, row: Mapping[str, Any]) -> Any:
        connector = build(runtime, row)
        find = connector.find_by_phone

        async def find_by_phone(phone: Any) -> Any:
            found = await find(phone)
            searching.set()
            await go_on.wait()
            return found

        connector.find_by_phone = find_by_phone  # type: ignore[method-assign]
        return connector

    monkeypatch.setattr(run_module, "connector_for", held)
    job = jobs.sync_job(acme.company.company_id, page["id"], integration, number).payload
    midway = asyncio.create_task(run_module.sync_call(api_runtime, job))
    await asyncio.wait_for(searching.wait(), 30)
    ok(await acme.client.delete(f"/integrations/{integration}"))
    go_on.set()
    with pytest.raises(IntegrityError):  # its first write names the integration: refused
        await midway
    await run_module.sync_call(api_runtime, job)  # the retry finds it gone and ends
    assert not any((await owned_rows(api_runtime, acme, integration)).values())
