"""Integrations: one connected CRM of a company, with its settings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.storage.sql import Executes, rows_where
from callbridge.storage.tables import integrations


class IntegrationRow(TypedDict):
    """An integration as stored: one connected CRM of a company, with its settings."""

    id: str
    company_id: str
    connector: str
    name: str
    default_region: str
    language: str
    name_template: str | None
    creation_policy: str
    config: dict[str, Any]
    credentials_encrypted: bytes | None
    status: str
    status_reason: str | None
    created_at: datetime
    updated_at: datetime


async def create_integration(
    session: AsyncSession, company_id: str, now: datetime, **fields: Any
) -> str:
    """Create an integration and return its id."""
    integration_id = str(uuid.uuid4())
    await session.execute(
        insert(integrations).values(
            id=integration_id, company_id=company_id, created_at=now, updated_at=now, **fields
        )
    )
    return integration_id


def get_integration(
    session: Executes, company_id: str, integration_id: str
) -> IntegrationRow | None:
    """Return one integration of the company as stored."""
    where = {"id": integration_id, "company_id": company_id}
    row = session.execute(rows_where(integrations, *where), where).first()
    return cast(IntegrationRow, dict(row._mapping)) if row else None  # the table's columns


def list_integrations(
    session: Executes, company_id: str, *, active_only: bool = False
) -> list[IntegrationRow]:
    """Return the company's integrations, oldest first."""
    query = select(integrations).where(integrations.c.company_id == company_id)
    if active_only:
        query = query.where(integrations.c.status == "active")
    rows = session.execute(query.order_by(integrations.c.created_at, integrations.c.id))
    return [cast(IntegrationRow, dict(row._mapping)) for row in rows]


async def update_integration(
    session: AsyncSession, company_id: str, integration_id: str, now: datetime, **fields: Any
) -> bool:
    """Change an integration's settings; False if it does not exist."""
    result = await session.execute(
        update(integrations)
        .where(integrations.c.id == integration_id, integrations.c.company_id == company_id)
        .values(updated_at=now, **fields)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
