"""A company on a migrated database whose calls are ingested, folded and synced in-process."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Table, select

from callbridge.connectors.local.connector import LocalConnector
from callbridge.connectors.local.tables import crm_deals, crm_notes, crm_tasks
from callbridge.domain.phone import PhoneNumber
from callbridge.domain.record import CrmRecord, ObjectType
from callbridge.ingest import ingest
from callbridge.pipeline import process
from callbridge.runtime import Runtime
from callbridge.runtime.connectors import connector_for
from callbridge.service.bootstrap import CreatedCompany, create_company
from callbridge.settings import Settings
from callbridge.storage import call_history, integrations, matrices, sql
from callbridge.storage.call_history import SyncRow
from callbridge.storage.integrations import IntegrationRow
from callbridge.storage.tables import call_actions, calls
from callbridge.storage.users import create_user
from callbridge.sync import people
from callbridge.sync.inputs import Loaded, load
from callbridge.testing.webhooks import call_sequence, signed

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
_numbers = itertools.count(2000)
TABLES = {"deals": crm_deals, "tasks": crm_tasks, "notes": crm_notes}


@dataclass
class SyncWorld:
    """A company with Ann and Bob (agents) and Tom (TOP manager), all mapped to CRM users."""

    runtime: Runtime
    company: CreatedCompany
    users: dict[str, str] = field(default_factory=dict)

    @property
    def payload_base(self) -> dict[str, str]:
        """Return the scope of every job of the company's integration."""
        return {
            "company_id": self.company.company_id,
            "integration_id": self.company.integration_id,
        }

    async def integration(self) -> IntegrationRow:
        """Return the integration's row."""
        async with self.runtime.reads() as session:
            row = await sql.run(
                session,
                integrations.get_integration,
                self.company.company_id,
                self.company.integration_id,
            )
        assert row is not None
        return row

    async def connector(self) -> LocalConnector:
        """Return the integration's local CRM connector."""
        built = connector_for(self.runtime, await self.integration())
        assert isinstance(built, LocalConnector)
        return built

    async def record(self, phone: str, owner: str | None = None) -> CrmRecord:
        """Store a contact holding ``phone`` in the local CRM."""
        local = await self.connector()
        return await local.client.create_record(
            ObjectType.CONTACT, "Known Caller", [phone], owner=owner
        )

    async def settle(self, policy: str, matrix: dict[str, Any] | None = None) -> None:
        """Set the creation policy and, if given, store a new matrix version."""
        now = self.runtime.clock()
        ids = (self.company.company_id, self.company.integration_id)
        async with self.runtime.sessions.begin() as session:
            await sql.run(
                session, integrations.update_integration, *ids, now, creation_policy=policy
            )
            if matrix is not None:
                await sql.run(session, matrices.save, *ids, matrix, now)

    def new_number(self) -> str:
        """Return a number no earlier call of the test used."""
        return f"+1415555{next(_numbers):04d}"

    async def call(
        self, direction: str, answered: bool, number: str | None = None, **extra: Any
    ) -> tuple[str, str, list[dict[str, Any]]]:
        """Deliver and fold one call; return its id, the external number and its events."""
        number = number or self.new_number()
        provider_id = f"call-{number}-{next(_numbers)}"
        events = call_sequence(provider_id, direction, number, answered=answered, start=T0, **extra)
        for event in events:
            body, headers = signed(self.company.source_secret, event)
            await ingest(self.runtime, self.company.source_id, headers, body)
        fold = {
            "company_id": self.company.company_id,
            "source_id": self.company.source_id,
            "call": provider_id,
        }
        await process(self.runtime.for_worker(), "fold", fold)
        async with self.runtime.reads() as session:
            found = await sql.run(session, _call_id, self.company.company_id, provider_id)
        return found, number, events

    async def sync(self, call_id: str) -> None:
        """Run the call's sync job once."""
        await process(self.runtime.for_worker(), "sync", {**self.payload_base, "call_id": call_id})

    async def loaded(self, call_id: str) -> tuple[Loaded, PhoneNumber]:
        """Read the call's sync inputs, as its sync job would."""
        loaded = await load(self.runtime, {**self.payload_base, "call_id": call_id})
        assert loaded is not None and isinstance(loaded.number, PhoneNumber)
        return loaded, loaded.number

    async def sync_row(self, call_id: str) -> SyncRow | None:
        """Return the call's sync row in the integration."""
        ids = (self.company.company_id, call_id, self.company.integration_id)
        async with self.runtime.reads() as session:
            return await sql.run(session, lambda db: call_history.get_sync(db, *ids))

    async def actions(self, call_id: str) -> list[dict[str, Any]]:
        """Return the actions written for the call's page."""
        query = select(call_actions).where(
            call_actions.c.company_id == self.company.company_id,
            call_actions.c.call_id == call_id,
        )
        async with self.runtime.reads() as session:
            return [dict(row) for row in (await session.execute(query)).mappings()]

    async def rows(self, kind: str) -> list[dict[str, Any]]:
        """Return the local CRM's deals, tasks or notes."""
        table: Table = TABLES[kind]
        return await (await self.connector()).followups.rows(table)


def _call_id(db: Connection, company_id: str, provider_id: str) -> str:
    query = select(calls.c.id).where(
        calls.c.company_id == company_id, calls.c.provider_call_id == provider_id
    )
    return str(db.execute(query).scalar_one())


@pytest.fixture
async def sync_world(migrated_url: str, tmp_path: Path) -> AsyncIterator[SyncWorld]:
    """A company whose employees are mapped to the local CRM's users (by e-mail)."""
    runtime = Runtime.create(Settings(data_dir=tmp_path, database_url=migrated_url))
    company = await create_company(runtime, "Acme")
    world = SyncWorld(runtime, company)
    async with runtime.sessions.begin() as session:
        for name, role in (("Ann", "agent"), ("Bob", "agent"), ("Tom", "top_manager")):
            world.users[name] = await sql.run(
                session,
                create_user,
                company.company_id,
                name=name,
                email=f"{name.lower()}@acme.test",
                role=role,
            )
    await people.resolve_for(
        runtime,
        company.company_id,
        company.integration_id,
        world.users["Ann"],
        None,
        await world.connector(),
        refresh=True,
    )
    yield world
    await runtime.close()
