"""A company's rows written straight into the tables, for storage tests that store many calls."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from callbridge.storage.tables import companies, integrations, telephony_sources, users


async def store_tenant(
    connection: AsyncConnection,
    company: str,
    *,
    source: str,
    agents: Sequence[str],
    integration_ids: Sequence[str],
    at: datetime,
) -> None:
    """Store a company with a generic source, its agents and its local-CRM integrations."""
    own = {"company_id": company}
    await connection.execute(insert(companies), [{"id": company, "name": "c", "created_at": at}])
    secrets = {"provider": "generic", "name": "s", "secrets_encrypted": b""}
    await connection.execute(
        insert(telephony_sources), [{**own, **secrets, "id": source, "created_at": at}]
    )
    people = [{**own, "id": agent, "name": "a", "role": "agent"} for agent in agents]
    await connection.execute(insert(users), people)
    local: dict[str, Any] = {"connector": "local", "name": "i", "creation_policy": "off"}
    local |= {"default_region": "FR", "language": "en", "config": {}, "created_at": at}
    rows = [{**own, **local, "id": i, "updated_at": at} for i in integration_ids]
    await connection.execute(insert(integrations), rows)
