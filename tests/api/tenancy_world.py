"""Two companies with one of everything, and the rows each owns, for the tenancy walk."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import RowMapping, select

from callbridge.ingest import ingest
from callbridge.rules import agent_choice
from callbridge.runtime import Runtime
from callbridge.runtime.schema import metadata
from callbridge.storage.tables import companies
from callbridge.testing.draining import drain
from callbridge.testing.webhooks import call_sequence, signed
from tests.api.api_tenant import Tenant

NUMBER = "+14155550134"


@dataclass
class World:
    """One company as the walk uses it: its credentials and an id of every kind it owns."""

    tenant: Tenant
    agent: dict[str, str]
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def admin(self) -> dict[str, str]:
        """Headers of the company's admin API key."""
        return {"Authorization": f"Bearer {self.tenant.company.api_key}"}


async def _ok(answer: httpx.Response) -> Any:
    """Return the JSON of a successful answer."""
    assert answer.status_code < 300, answer.text
    return answer.json()


async def build_world(runtime: Runtime, tenant: Tenant, tag: str) -> World:
    """Give a company a team, an agent with a token, records, a synced call and a choice."""
    client, company = tenant.client, tenant.company
    integration = company.integration_id
    team = await _ok(
        await client.post(
            "/teams", json={"name": f"Sales {tag}", "permissions": ["is_multicrm_sync"]}
        )
    )
    email = f"ann@{tag}.test"
    user = await _ok(
        await client.post("/users", json={"name": "Ann", "email": email, "team_id": team["id"]})
    )
    token = await _ok(await client.post(f"/users/{user['id']}/tokens"))
    config = {"config": {"select_contact_manually": True, agent_choice.GRACE_OPTION: 0}}
    await _ok(await client.patch(f"/integrations/{integration}", json=config))
    records = f"/integrations/{integration}/records"
    phones = {"phones": ["(415) 555-0134"]}
    record = await _ok(await client.post(records, json={"name": f"Rec {tag}", **phones}))
    await _ok(
        await client.post(records, json={"name": f"Lead {tag}", "object_type": "lead", **phones})
    )
    await _ok(
        await client.post(
            f"/integrations/{integration}/deals", json={"record_id": record["id"], "name": "D"}
        )
    )
    await _ok(await client.put(f"/integrations/{integration}/user-links/{user['id']}",
                               json={"crm_user_id": user["id"]}))  # fmt: skip
    async with runtime.sessions.begin() as session:  # a job that dies: no handler has its task
        payload = {"company_id": company.company_id}
        await runtime.queue.enqueue(await session.connection(), "walk.dead", payload)
    for event in call_sequence(f"call-{tag}", "incoming", NUMBER, answered=True, agent_email=email):
        body, headers = signed(company.source_secret, event)
        await ingest(runtime, company.source_id, headers, body)
    await drain(runtime)
    calls = (await _ok(await client.get("/calls")))["calls"]
    agent = {"Authorization": f"Bearer {token['token']}"}
    picked = {"choices": [{"integration_id": integration, "record_id": record["id"]}]}
    await _ok(await client.post(f"/dialer/calls/{calls[0]['id']}/selection", json=picked))
    [dead] = await _ok(await client.get("/jobs/dead"))
    ids = {
        "job_id": dead["id"],
        "integration_id": integration,
        "record_id": record["id"],
        "call_id": calls[0]["id"],
        "user_id": user["id"],
        "team_id": team["id"],
        "source_id": company.source_id,
        "token_id": token["id"],
    }
    return World(tenant, agent, ids)


async def complete_ids(runtime: Runtime, world: World, names: set[str]) -> None:
    """Find an id for every ``<thing>_id`` parameter the walk needs and the world lacks.

    A route added later with a new kind of id is walked without editing the test: the id is
    taken from the company's rows of the table named after it (``key_id``: ``api_keys``).
    """
    company = world.tenant.company.company_id
    for name in sorted(names - set(world.ids)):
        plural = name.removesuffix("_id") + "s"
        tables = [
            t
            for t in metadata.sorted_tables
            if (t.name == plural or t.name.endswith(f"_{plural}")) and "company_id" in t.c
        ]
        assert tables, f"the tenancy walk finds no table of the company for {name!r}"
        query = select(tables[0].c.id).where(tables[0].c.company_id == company).limit(1)
        async with runtime.reads() as session:
            found = (await session.execute(query)).scalar()
        assert found is not None, f"{world.tenant.company.company_id} has no {plural} row"
        world.ids[name] = str(found)


async def second_integration(tenant: Tenant) -> dict[str, str]:
    """Give a company a second local CRM with one record; return their ids."""
    body = {"connector": "local", "name": "Second CRM", "default_region": "US"}
    integration = await _ok(await tenant.client.post("/integrations", json=body))
    path = f"/integrations/{integration['id']}/records"
    record = await _ok(await tenant.client.post(path, json={"name": "Other", "phones": [NUMBER]}))
    return {"integration_id": integration["id"], "record_id": record["id"]}


async def snapshot(
    runtime: Runtime, world: World, integration_id: str | None = None
) -> dict[str, list[str]]:
    """Return every row the company (or only one of its integrations) owns, in a stable order."""
    company = world.tenant.company.company_id
    integrations = [integration_id or world.ids["integration_id"]]
    rows: dict[str, list[str]] = {}
    async with runtime.reads() as session:
        for table in metadata.sorted_tables:
            if integration_id is not None and "integration_id" not in table.c:
                continue
            where = [table.c.company_id == company] if "company_id" in table.c else []
            if "integration_id" in table.c and (integration_id is not None or not where):
                where.append(table.c.integration_id.in_(integrations))
            if not where:
                continue
            found = (await session.execute(select(table).where(*where))).mappings().all()
            rows[table.name] = sorted(repr(sorted(_plain(row).items())) for row in found)
        if integration_id is None:  # the company's own row: its name, numbers, language
            own = select(companies).where(companies.c.id == company)
            found = (await session.execute(own)).mappings().all()
            rows[companies.name] = [repr(sorted(_plain(row).items())) for row in found]
    return rows


def _plain(row: RowMapping) -> dict[str, str]:
    return {key: str(value) for key, value in row.items()}
