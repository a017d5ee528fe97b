"""Employees mapped to CRM users, per integration: by e-mail automatically, or by hand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from callbridge.domain.crm_user import CrmUser
from callbridge.storage.sql import dialect_of, ignoring_insert, select_where
from callbridge.storage.tables import crm_user_links, users


def links(db: Connection, company_id: str, integration_id: str) -> dict[str, dict[str, Any]]:
    """Return the integration's links by Callbridge user id."""
    where = {"company_id": company_id, "integration_id": integration_id}
    rows = select_where(db, crm_user_links, where)
    return {row.user_id: dict(row._mapping) for row in rows}


def set_link(
    db: Connection,
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
    if db.execute(ignoring_insert(crm_user_links, dialect_of(db)), values).first() is not None:
        return
    query = update(crm_user_links).where(
        crm_user_links.c.company_id == company_id,
        crm_user_links.c.integration_id == integration_id,
        crm_user_links.c.user_id == user_id,
    )
    if source != "manual":
        query = query.where(crm_user_links.c.source != "manual")
    db.execute(query.values(crm_user_id=crm_user_id, source=source, updated_at=now))


def link_by_email(
    db: Connection,
    company_id: str,
    integration_id: str,
    crm_users: Sequence[CrmUser],
    now: datetime,
) -> None:
    """Link every employee whose e-mail a CRM user has (case-insensitive)."""
    employees = employee_emails(db, company_id)
    for user_id, crm_id in by_email(employees, crm_users).items():
        set_link(db, company_id, integration_id, user_id, crm_id, "email", now)


def employee_emails(db: Connection, company_id: str) -> dict[str, str | None]:
    """Return the company's employees' e-mail addresses by user id."""
    rows = db.execute(select(users.c.id, users.c.email).where(users.c.company_id == company_id))
    return {row.id: row.email for row in rows}


def by_email(employees: Mapping[str, str | None], crm_users: Sequence[CrmUser]) -> dict[str, str]:
    """Return the CRM user id of each employee whose e-mail a CRM user has (case-insensitive)."""
    crm_ids = {u.email.lower(): u.id for u in crm_users if u.email}
    found = {user_id: crm_ids.get((email or "").lower()) for user_id, email in employees.items()}
    return {user_id: crm_id for user_id, crm_id in found.items() if crm_id is not None}
