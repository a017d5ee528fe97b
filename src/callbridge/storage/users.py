"""Users and their teams: created and deleted by the admin API, read by dialer, fold and sync."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from callbridge.storage import driver
from callbridge.storage.tables import (
    agent_tokens,
    call_selections,
    calls,
    crm_user_links,
    dial_intents,
    teams,
    users,
)

ROLES = ("admin", "agent", "top_manager")


def user_role(db: Connection, company_id: str, user_id: str) -> str | None:
    """Return a user's role in the company, None when the company has no such user."""
    query = select(users.c.role).where(users.c.company_id == company_id, users.c.id == user_id)
    role: str | None = db.execute(query).scalar()
    return role


def user_permissions(db: Connection, company_id: str, user_id: str) -> list[str]:
    """Return the permissions of a user's team (empty without a team)."""
    query = (
        select(teams.c.permissions)
        .select_from(users)
        .join(teams, teams.c.id == users.c.team_id)
        .where(users.c.id == user_id, users.c.company_id == company_id)
    )
    return list((db.execute(query)).scalar_one_or_none() or [])


def user_name(db: Connection, company_id: str, user_id: str) -> str | None:
    """Return a user's name, None when the company has no such user."""
    query = select(users.c.name).where(users.c.company_id == company_id, users.c.id == user_id)
    name: str | None = db.execute(query).scalar()
    return name


def create_team(db: Connection, company_id: str, name: str, permissions: list[str]) -> str:
    """Create a team and return its id."""
    team_id = str(uuid.uuid4())
    db.execute(
        insert(teams).values(id=team_id, company_id=company_id, name=name, permissions=permissions)
    )
    return team_id


def create_user(db: Connection, /, company_id: str, **fields: Any) -> str:
    """Create a user (name, email, extension, telephony_user_id, role, team_id); return its id."""
    user_id = str(uuid.uuid4())
    db.execute(insert(users).values(id=user_id, company_id=company_id, **fields))
    return user_id


def team_has_members(db: Connection, company_id: str, team_id: str) -> bool:
    """Tell whether any user of the company belongs to the team."""
    query = select(users.c.id).where(users.c.company_id == company_id, users.c.team_id == team_id)
    return db.execute(query.limit(1)).first() is not None


def delete_team(db: Connection, company_id: str, team_id: str) -> bool:
    """Delete a team without members; False when the company has no such team."""
    result = db.execute(
        delete(teams).where(teams.c.company_id == company_id, teams.c.id == team_id)
    )
    return bool(result.rowcount)


def delete_user(db: Connection, company_id: str, user_id: str) -> bool:
    """Delete a user; False when the company has no such user.

    Their agent tokens, CRM user links and dial intents go with them; the calls they handled
    and the choices they made stay, with no user (docs/api.md, "Deleting a user").
    """
    for table in (agent_tokens, crm_user_links, dial_intents):
        db.execute(
            delete(table).where(table.c.company_id == company_id, table.c.user_id == user_id)
        )
    db.execute(
        update(calls)
        .where(calls.c.company_id == company_id, calls.c.user_id == user_id)
        .values(user_id=None)
    )
    db.execute(
        update(call_selections)
        .where(call_selections.c.company_id == company_id, call_selections.c.chosen_by == user_id)
        .values(chosen_by=None)
    )
    result = db.execute(
        delete(users).where(users.c.company_id == company_id, users.c.id == user_id)
    )
    return bool(result.rowcount)


def extensions(db: Connection, company_id: str) -> list[str]:
    """Return the internal extensions of the company's users."""
    rows = driver.execute(db, _EXTENSIONS, {"company_id": company_id})
    return [str(row[0]) for row in rows]


_EXTENSIONS = select(users.c.extension).where(
    users.c.company_id == bindparam("company_id"), users.c.extension.is_not(None)
)
