"""Users and their teams as the dialer and the sync read them: role, permissions, name."""

from __future__ import annotations

from sqlalchemy import Connection, select

from callbridge.storage.tables import teams, users


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
