"""Dial intents: a choice an agent makes before dialling, bound to their next call to the number.

Binding one copies its choices onto the call (:func:`bind_intent`).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from callbridge.rules.agent_choice import binds
from callbridge.storage import driver
from callbridge.storage.call_choices import from_json, replace_choices
from callbridge.storage.tables import dial_intents


def create_intent(db: Connection, values: dict[str, Any]) -> str:
    """Store a dial intent (an agent's choice before dialling) and return its id."""
    intent_id = str(uuid.uuid4())
    db.execute(insert(dial_intents).values(id=intent_id, **values))
    return intent_id


def fitting_intent(db: Connection, call: dict[str, Any], e164: str) -> dict[str, Any] | None:
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
    for intent in db.execute(query).mappings().all():
        window = timedelta(seconds=intent["window_seconds"])
        if binds(
            intent["provider_call_id"], intent["created_at"], window,
            call["provider_call_id"], started,
        ):  # fmt: skip
            return dict(intent)
    return None


def bind_intent(db: Connection, call: dict[str, Any], e164: str, now: datetime) -> None:
    """Bind the agent's latest matching dial intent to the call, copying its choices once."""
    intent = fitting_intent(db, call, e164)
    if intent is None:
        return
    won = db.execute(
        update(dial_intents)
        .where(
            dial_intents.c.company_id == call["company_id"],
            dial_intents.c.id == intent["id"],
            dial_intents.c.call_id.is_(None),
        )
        .values(call_id=call["id"])
    )
    if won.rowcount:
        choices = tuple(from_json(item) for item in intent["choices"])
        replace_choices(
            db, call["company_id"], call["id"], choices,
            how=intent["how"], user_id=intent["user_id"], now=intent["created_at"],
        )  # fmt: skip


def has_intent(db: Connection, company_id: str, user_id: str | None, e164: str | None) -> bool:
    """Tell whether the agent has an unbound dial intent for the number."""
    if user_id is None or e164 is None:
        return False
    scope = {"company_id": company_id, "user_id": user_id, "e164": e164}
    return driver.execute(db, _OPEN_INTENT, scope).first() is not None


_OPEN_INTENT = select(dial_intents.c.id).where(
    dial_intents.c.company_id == bindparam("company_id"),
    dial_intents.c.user_id == bindparam("user_id"),
    dial_intents.c.phone_e164 == bindparam("e164"),
    dial_intents.c.call_id.is_(None),
)
