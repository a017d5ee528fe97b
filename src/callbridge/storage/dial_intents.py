"""Dial intents: a choice an agent makes before dialling, bound to their next call to the number.

Binding one copies its choices onto the call (:func:`callbridge.storage.agent_choices.bind_intent`).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.rules.agent_choice import binds
from callbridge.storage.tables import dial_intents


async def create_intent(session: AsyncSession, values: dict[str, Any]) -> str:
    """Store a dial intent (an agent's choice before dialling) and return its id."""
    intent_id = str(uuid.uuid4())
    await session.execute(insert(dial_intents).values(id=intent_id, **values))
    return intent_id


async def fitting_intent(
    session: AsyncSession, call: dict[str, Any], e164: str
) -> dict[str, Any] | None:
    """Return the agent's latest unbound dial intent for the number that binds to the call."""
    if call["user_id"] is None:
        return None
    query = (
        select(dial_intents)
        .where(
            dial_intents.c.company_id == call["company_id"],
            dial_intents.c.user_id == call["user_id"],
            dial_intents.c.phone_e164 == e164,
            dial_intents.c.call_id.is_(None),
        )
        .order_by(dial_intents.c.created_at.desc())
    )
    started = call["started_at"] or call["created_at"]
    for intent in (await session.execute(query)).mappings().all():
        window = timedelta(seconds=intent["window_seconds"])
        if binds(
            intent["provider_call_id"], intent["created_at"], window,
            call["provider_call_id"], started,
        ):  # fmt: skip
            return dict(intent)
    return None
