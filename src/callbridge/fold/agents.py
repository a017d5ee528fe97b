"""Map a call's agent (telephony id, e-mail or extension) to a user of the company."""

from __future__ import annotations

from sqlalchemy import Connection, or_, select

from callbridge.domain.call import Call
from callbridge.storage.tables import users


def agent_user(session: Connection, company_id: str, call: Call) -> str | None:
    """Map the call's agent to a user of the company by telephony id, email or extension."""
    agent = call.agent
    if agent is None:
        return None
    matches = []
    if agent.id:
        matches.append(users.c.telephony_user_id == agent.id)
    if agent.email:
        matches.append(users.c.email == agent.email.lower())
    if agent.extension:
        matches.append(users.c.extension == agent.extension)
    if not matches:
        return None
    row = session.execute(
        select(users.c.id).where(users.c.company_id == company_id, or_(*matches)).limit(1)
    )
    return row.scalar_one_or_none()
