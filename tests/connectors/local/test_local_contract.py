"""The local CRM passes the connector contract suite, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest

from callbridge.connectors.base import Connector
from callbridge.connectors.local.connector import LocalConnector
from callbridge.domain.record import ObjectType
from callbridge.errors import Transient
from callbridge.runtime import Runtime
from callbridge.runtime.connectors import connector_for
from callbridge.service.bootstrap import create_company
from callbridge.settings import Settings
from callbridge.storage.integrations import get_integration
from callbridge.testing.contract import ConnectorContract


@dataclass
class LocalHarness:
    """Drive the local CRM through its client, as a person using its API would."""

    connector: Connector

    @property
    def local(self) -> LocalConnector:
        """Return the connector as the local CRM's own class."""
        assert isinstance(self.connector, LocalConnector)
        return self.connector

    async def store_record(self, name: str, raw_phone: str) -> str:
        """Create a contact with a phone typed as given."""
        record = await self.local.client.create_record(ObjectType.CONTACT, name, [raw_phone])
        return record.id

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


@pytest.fixture
async def local_runtime(migrated_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    """A runtime on a migrated database."""
    runtime = Runtime.create(Settings(data_dir=tmp_path, database_url=migrated_url))
    yield runtime
    await runtime.close()


class TestLocalConnector(ConnectorContract):
    """The shared contract, against the local CRM built through the connector registry."""

    @pytest.fixture
    async def harness(self, local_runtime: Runtime) -> LocalHarness:
        company = await create_company(local_runtime, "Contract")
        async with local_runtime.sessions() as session:
            integration = await session.run_sync(
                get_integration, company.company_id, company.integration_id
            )
        assert integration is not None
        return LocalHarness(connector_for(local_runtime, integration))
