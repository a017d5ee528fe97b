"""The local CRM passes every contract suite (it declares every capability), on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
from sqlalchemy import Table

from callbridge.connectors.base import Connector
from callbridge.connectors.local.connector import LocalConnector
from callbridge.connectors.local.tables import crm_deals, crm_notes, crm_tasks
from callbridge.domain.record import ObjectType
from callbridge.errors import Transient
from callbridge.runtime import Runtime
from callbridge.runtime.connectors import connector_for
from callbridge.service.bootstrap import create_company
from callbridge.settings import Settings
from callbridge.storage import accounts, sql
from callbridge.storage.integrations import IntegrationRow, get_integration
from callbridge.storage.tables import users
from callbridge.storage.users import create_user
from callbridge.testing.contract import contract_test_class


@dataclass
class LocalHarness:
    """Drive the local CRM through its client, as a person using its API would."""

    connector: Connector
    runtime: Runtime
    company_id: str
    integration: IntegrationRow

    @property
    def local(self) -> LocalConnector:
        """Return the connector as the local CRM's own class."""
        assert isinstance(self.connector, LocalConnector)
        return self.connector

    async def store_record(self, name: str, raw_phone: str) -> str:
        """Create a contact with a phone typed as given."""
        record = await self.local.client.create_record(ObjectType.CONTACT, name, [raw_phone])
        return record.id

    async def in_region(self, region: str) -> LocalHarness:
        """Return the same integration's local CRM read with another default region."""
        integration: IntegrationRow = {**self.integration, "default_region": region}
        connector = connector_for(self.runtime, integration)
        return LocalHarness(connector, self.runtime, self.company_id, integration)

    async def read_call(self, record_id: str, activity_id: str) -> dict[str, Any]:
        """Return the stored activity."""
        activities = await self.local.client.list_activities(record_id)
        return next(a for a in activities if a["id"] == activity_id)

    async def calls_on(self, record_id: str) -> list[str]:
        """Return the ids of the record's activities."""
        return [a["id"] for a in await self.local.client.list_activities(record_id)]

    async def contacts_with(self, phone_e164: str) -> list[str]:
        """Return the records holding the number (the indexed lookup is read-your-writes)."""
        return [record.id for record in await self.local.client.find_by_e164(phone_e164)]

    async def fail_after_commit(self, kind: Literal["call", "contact"]) -> None:
        """Let the next write commit, then fail as a crash or a lost answer would."""
        client = self.local.client
        name = "create_record" if kind == "contact" else "insert_activity"
        write = getattr(client, name)

        async def committed_then_lost(*args: Any, **kwargs: Any) -> Any:
            delattr(client, name)  # the class's own method again
            await write(*args, **kwargs)
            raise Transient("the answer was lost after the commit")

        setattr(client, name, committed_then_lost)

    async def known_users(self) -> dict[str, str | None]:
        """Return the company's users: the local CRM's users are Callbridge's own."""
        async with self.runtime.sessions() as session:
            rows = await sql.run(session, accounts.list_rows, users, self.company_id)
        return {row["id"]: row["email"] for row in rows}

    async def deals_on(self, record_id: str) -> list[str]:
        """Return the ids of the record's deals."""
        return await self._on(crm_deals, record_id)

    async def deal_owner(self, deal_id: str) -> str | None:
        """Return the deal's stored owner."""
        [owner] = [
            d["owner"] for d in await self.local.followups.rows(crm_deals) if d["id"] == deal_id
        ]
        return str(owner) if owner is not None else None

    async def tasks_on(self, record_id: str) -> list[str]:
        """Return the ids of the record's tasks."""
        return await self._on(crm_tasks, record_id)

    async def notes_on(self, record_id: str) -> list[str]:
        """Return the ids of the record's notes."""
        return await self._on(crm_notes, record_id)

    async def _on(self, table: Table, record_id: str) -> list[str]:
        rows = await self.local.followups.rows(table)
        return [str(row["id"]) for row in rows if row["record_id"] == record_id]


@pytest.fixture
async def local_runtime(migrated_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    """A runtime on a migrated database."""
    runtime = Runtime.create(Settings(data_dir=tmp_path, database_url=migrated_url))
    yield runtime
    await runtime.close()


@pytest.fixture
async def harness(local_runtime: Runtime) -> LocalHarness:
    """The local CRM of a new company with two users, built through the connector registry."""
    company = await create_company(local_runtime, "Contract")
    async with local_runtime.sessions.begin() as session:
        for name, role in (("Ann Admin", "admin"), ("Bob Agent", "agent")):
            email = f"{name.split()[0].lower()}@example.com"
            await sql.run(
                session, create_user, company.company_id, name=name, email=email, role=role
            )
        integration = await sql.run(
            session, get_integration, company.company_id, company.integration_id
        )
    assert integration is not None
    connector = connector_for(local_runtime, integration)
    return LocalHarness(connector, local_runtime, company.company_id, integration)


TestLocalConnector = contract_test_class(LocalConnector.capabilities, name="TestLocalConnector")
