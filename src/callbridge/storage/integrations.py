"""Integrations: one connected CRM of a company, with its settings, disabled or deleted."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypedDict, cast

from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update

from callbridge.storage import driver
from callbridge.storage.sql import select_where
from callbridge.storage.tables import call_syncs, dial_intents, integrations

#: ``status``: ``active``; ``paused`` by the sync when the CRM refuses the credentials (its calls
#: wait); ``disabled`` by an admin (no call is synced to it, queued syncs end as skipped).
ACTIVE, PAUSED, DISABLED = "active", "paused", "disabled"
#: ``status_reason_code``: why it is paused (the CRM's refusal, ``errors.AuthFailed.code``) or
#: disabled, as a stable code the screens translate; ``status_reason`` keeps the English text.
PAUSE_CODES = ("credentials_refused", "no_credentials", "token_refresh_refused")
DISABLED_BY_ADMIN = "disabled_by_admin"
REASON_CODES = (*PAUSE_CODES, DISABLED_BY_ADMIN)
#: A sync marked running longer ago than this is not running: its worker died (the job is
#: run again, or is in the dead letters), so it does not keep its integration from deletion.
RUNNING_FOR_AT_MOST = timedelta(minutes=10)


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
    status_reason_code: str | None
    limited_until: datetime | None


def create_integration(db: Connection, /, company_id: str, now: datetime, **fields: Any) -> str:
    """Create an integration and return its id."""
    integration_id = str(uuid.uuid4())
    db.execute(
        insert(integrations).values(
            id=integration_id, company_id=company_id, created_at=now, updated_at=now, **fields
        )
    )
    return integration_id


def get_integration(db: Connection, company_id: str, integration_id: str) -> IntegrationRow | None:
    """Return one integration of the company as stored."""
    where = {"id": integration_id, "company_id": company_id}
    row = select_where(db, integrations, where).first()
    return cast(IntegrationRow, dict(row._mapping)) if row else None  # the table's columns


def list_integrations(
    db: Connection, company_id: str, *, active_only: bool = False
) -> list[IntegrationRow]:
    """Return the company's integrations, oldest first (read by every final call's fold)."""
    query = _ACTIVE if active_only else _ALL
    rows = driver.execute(db, query, {"company_id": company_id})
    return [cast(IntegrationRow, dict(row._mapping)) for row in rows]


_ALL = (
    select(integrations)
    .where(integrations.c.company_id == bindparam("company_id"))
    .order_by(integrations.c.created_at, integrations.c.id)
)
_ACTIVE = _ALL.where(integrations.c.status == "active")


def update_integration(
    db: Connection,
    company_id: str,
    integration_id: str,
    now: datetime,
    /,
    *,
    if_status: str | None = None,
    unless_status: str | None = None,
    **fields: Any,
) -> bool:
    """Change an integration's settings; False if it does not exist (or is not in the status).

    ``if_status``/``unless_status`` change it only in (or not in) that status, in the statement
    itself, so a concurrent change of status cannot slip in between.
    """
    query = update(integrations).where(
        integrations.c.id == integration_id, integrations.c.company_id == company_id
    )
    if if_status is not None:
        query = query.where(integrations.c.status == if_status)
    if unless_status is not None:
        query = query.where(integrations.c.status != unless_status)
    result = db.execute(query.values(updated_at=now, **fields))
    return bool(result.rowcount)


def note_daily_limit(db: Connection, company_id: str, integration_id: str, until: datetime) -> None:
    """Note that the CRM's daily limit holds the integration's syncs until ``until``.

    Only ever moves the time later: a sync that learnt of the limit earlier cannot shorten it.
    Its settings are not changed, so ``updated_at`` stays.
    """
    query = update(integrations).where(
        integrations.c.id == integration_id,
        integrations.c.company_id == company_id,
        (integrations.c.limited_until.is_(None)) | (integrations.c.limited_until < until),
    )
    db.execute(query.values(limited_until=until))


def running_sync(db: Connection, company_id: str, integration_id: str, now: datetime) -> str | None:
    """Return the call id of a sync of the integration running now, if any."""
    query = select(call_syncs.c.call_id).where(
        call_syncs.c.company_id == company_id,
        call_syncs.c.integration_id == integration_id,
        call_syncs.c.status == "running",
        call_syncs.c.updated_at > now - RUNNING_FOR_AT_MOST,
    )
    return db.execute(query.limit(1)).scalar_one_or_none()


def forget_in_intents(db: Connection, company_id: str, integration_id: str) -> int:
    """Drop the integration's records from the choices of dial intents not yet bound to a call.

    Binding one to a call later copies its choices into ``call_selections``, which refers to
    the integration. Return how many intents changed.
    """
    unbound = (dial_intents.c.company_id == company_id, dial_intents.c.call_id.is_(None))
    changed = 0
    for row in db.execute(select(dial_intents.c.id, dial_intents.c.choices).where(*unbound)):
        kept = [c for c in row.choices if c.get("integration_id") != integration_id]
        if len(kept) < len(row.choices):
            mine = dial_intents.c.id == row.id
            db.execute(update(dial_intents).where(*unbound, mine).values(choices=kept))
            changed += 1
    return changed


def lock_integration(db: Connection, company_id: str, integration_id: str) -> bool:
    """Lock the integration's row until the transaction ends; False if there is no such one.

    On PostgreSQL a sync writing a row that refers to it waits (or fails) meanwhile.
    """
    mine = (integrations.c.id == integration_id, integrations.c.company_id == company_id)
    return db.execute(select(integrations.c.id).where(*mine).with_for_update()).first() is not None


def delete_integration(
    db: Connection, company_id: str, integration_id: str, owned: Sequence[Table]
) -> dict[str, int]:
    """Delete an integration and its rows in ``owned``; return how many went, by table.

    ``owned`` are the tables with an ``integration_id`` column, each before the tables it
    refers to (every statement names the integration, and the company where a table has it).
    The calls stay: they belong to the company, not to one CRM.
    """
    mine = (integrations.c.id == integration_id, integrations.c.company_id == company_id)
    removed: dict[str, int] = {}
    for table in owned:
        where = [table.c.integration_id == integration_id]
        if "company_id" in table.c:
            where.append(table.c.company_id == company_id)
        count = db.execute(delete(table).where(*where)).rowcount
        if count:
            removed[table.name] = count
    db.execute(delete(integrations).where(*mine))
    return removed
