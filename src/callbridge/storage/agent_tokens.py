"""Agent tokens: issued per user by an admin, stored hashed, revoked at once; scoped by company."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from callbridge.storage.accounts import AGENT_TOKEN_PREFIX, hash_key
from callbridge.storage.tables import agent_tokens, teams, users


@dataclass(frozen=True)
class Agent:
    """Who an agent token belongs to."""

    company_id: str
    user_id: str
    name: str
    role: str
    permissions: tuple[str, ...]


def create_token(
    db: Connection, company_id: str, user_id: str, name: str, now: datetime
) -> tuple[str, str]:
    """Create an agent token for a user; return its id and the raw token (only its hash is kept)."""
    raw = AGENT_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = str(uuid.uuid4())
    db.execute(
        insert(agent_tokens).values(
            id=token_id,
            company_id=company_id,
            user_id=user_id,
            name=name,
            prefix=raw[:10],
            token_hash=hash_key(raw),
            created_at=now,
        )
    )
    return token_id, raw


def revoke_token(
    db: Connection, company_id: str, user_id: str, token_id: str, now: datetime
) -> bool:
    """Revoke an agent token; False if the user has no such token."""
    result = db.execute(
        update(agent_tokens)
        .where(
            agent_tokens.c.id == token_id,
            agent_tokens.c.user_id == user_id,
            agent_tokens.c.company_id == company_id,
        )
        .values(revoked_at=now)
    )
    return bool(result.rowcount)


_AGENT = (
    select(users.c.id, users.c.company_id, users.c.name, users.c.role, teams.c.permissions)
    .select_from(agent_tokens)
    .join(users, users.c.id == agent_tokens.c.user_id)
    .outerjoin(teams, teams.c.id == users.c.team_id)
)


def agent_of(db: Connection, raw: str) -> Agent | None:
    """Return the agent an unrevoked token belongs to, with the permissions of their team."""
    query = _AGENT.where(
        agent_tokens.c.token_hash == hash_key(raw), agent_tokens.c.revoked_at.is_(None)
    ).execution_options(tenant_entry="the token's hash finds its agent")
    row = db.execute(query).first()
    if row is None:
        return None
    return Agent(row.company_id, row.id, row.name, row.role, tuple(row.permissions or ()))
