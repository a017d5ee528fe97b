"""Employees mapped to CRM users: linked by e-mail, without asking the CRM on every call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest

from callbridge.connectors.base import Capability, Connector
from callbridge.domain.crm_user import CrmUser
from callbridge.runtime import Runtime
from callbridge.service.bootstrap import CreatedCompany, create_company
from callbridge.settings import Settings
from callbridge.storage import sql
from callbridge.storage.users import create_user
from callbridge.sync.people import UNMAPPED_RETRY, resolve_for

START = datetime(2026, 11, 22, 9, tzinfo=UTC)


@dataclass
class OwnersOnly:
    """A CRM that only lists its users, and counts how often it was asked."""

    users: list[CrmUser]
    asked: int = 0
    capabilities: frozenset[Capability] = field(default=frozenset({Capability.OWNERS}))

    async def list_users(self) -> list[CrmUser]:
        """Return the CRM's users."""
        self.asked += 1
        return self.users


def connector(crm: OwnersOnly) -> Connector:
    """Hand the fake to code typed for a whole connector: people resolution only lists users."""
    return cast(Connector, crm)


@pytest.fixture
async def company(
    migrated_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Runtime, CreatedCompany]]:
    """Yield a runtime on a migrated database and a company in it."""
    runtime = Runtime.create(Settings(data_dir=tmp_path, database_url=migrated_url))
    try:
        yield runtime, await create_company(runtime, "People")
    finally:
        await runtime.close()


async def _employee(runtime: Runtime, company: CreatedCompany, email: str) -> str:
    async with runtime.sessions.begin() as session:
        return await sql.run(
            session, create_user, company.company_id, name=email, email=email, role="agent"
        )


async def test_an_employee_is_linked_by_email_on_first_need(
    company: tuple[Runtime, CreatedCompany],
) -> None:
    """The CRM's user list is read when an employee has no link, and the link is kept."""
    runtime, created = company
    ada = await _employee(runtime, created, "ada@example.com")
    crm = OwnersOnly([CrmUser("77", "ADA@example.com", "Ada")])
    for _ in range(3):
        who = await resolve_for(
            runtime, created.company_id, created.integration_id, ada, {"email": "ada@example.com"},
            connector(crm), refresh=True,
        )  # fmt: skip
        assert who.agent_crm_id == "77"
    assert crm.asked == 1


async def test_an_agent_without_a_crm_account_costs_one_list_per_retry_period(
    company: tuple[Runtime, CreatedCompany],
) -> None:
    """An unmapped agent's calls do not each ask the CRM; a new employee is looked for at once."""
    runtime, created = company
    moment = START
    runtime = replace(runtime, clock=lambda: moment)
    bob = await _employee(runtime, created, "bob@example.com")
    crm = OwnersOnly([CrmUser("77", "ada@example.com", "Ada")])

    async def agent_of(user_id: str) -> str | None:
        who = await resolve_for(
            runtime, created.company_id, created.integration_id, user_id, {"id": user_id},
            connector(crm), refresh=True,
        )  # fmt: skip
        return who.agent_crm_id

    assert [await agent_of(bob) for _ in range(5)] == [None] * 5
    assert crm.asked == 1
    ada = await _employee(runtime, created, "ada@example.com")
    assert await agent_of(ada) == "77"
    assert crm.asked == 2
    crm.users.append(CrmUser("88", "bob@example.com", "Bob"))
    assert await agent_of(bob) is None  # not asked again yet
    moment = START + UNMAPPED_RETRY + timedelta(seconds=1)
    assert await agent_of(bob) == "88"
    assert crm.asked == 3
