"""Employees mapped to CRM users, per integration: by e-mail automatically, or by hand."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.domain.crm_user import CrmUser
from callbridge.storage.sql import Executes, insert_ignore, rows_where
from callbridge.storage.tables import crm_user_links, users


def links(session: Executes, company_id: str, integration_id: str) -> dict[str, dict[str, Any]]:
    """Return the integration's links by Callbridge user id."""
    where = {"company_id": company_id, "integration_id": integration_id}
    rows = session.execute(rows_where(crm_user_links, *where), where)
    return {row.user_id: dict(row._mapping) for row in rows}


async def set_link(
    session: AsyncSession,
    company_id: str,
    integration_id: str,
    user_id: str,
    crm_user_id: str,
    source: str,
    now: datetime,
) -> None:
    """Link an employee to a CRM user; ``manual`` links are never replaced by ``email`` ones."""
    values = {
        "company_id": company_id,
        "integration_id": integration_id,
        "user_id": user_id,
        "crm_user_id": crm_user_id,
        "source": source,
        "updated_at": now,
    }
    if await insert_ignore(session, crm_user_links, values):
        return
    query = update(crm_user_links).where(
        crm_user_links.c.company_id == company_id,
        crm_user_links.c.integration_id == integration_id,
        crm_user_links.c.user_id == user_id,
    )
    if source != "manual":
        query = query.where(crm_user_links.c.source != "manual")
    await session.execute(query.values(crm_user_id=crm_user_id, source=source, updated_at=now))


async def link_by_email(
    session: AsyncSession,
    company_id: str,
    integration_id: str,
    crm_users: Sequence[CrmUser],
    now: datetime,
) -> None:
    """Link every employee whose e-mail a CRM user has (case-insensitive)."""
    by_email = {u.email.lower(): u.id for u in crm_users if u.email}
    rows = await session.execute(
        select(users.c.id, users.c.email).where(users.c.company_id == company_id)
    )
    for row in rows.all():
        crm_id = by_email.get((row.email or "").lower())
        if crm_id is not None:
            await set_link(session, company_id, integration_id, row.id, crm_id, "email", now)
