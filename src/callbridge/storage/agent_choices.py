"""The choice a call's sync reads: bound from a dial intent if one fits, and how long to wait.

The pieces live by concept: the stored choices in :mod:`callbridge.storage.call_choices`, dial
intents in :mod:`callbridge.storage.dial_intents`, users' roles and names in
:mod:`callbridge.storage.users`. Their names used by the sync and the API are also reachable
from here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callbridge.rules.agent_choice import OPTION, gate
from callbridge.rules.agent_choice import choice_window as choice_window_rule
from callbridge.storage import sql
from callbridge.storage.call_choices import (
    ChoiceMade,
    Chosen,
    choices_json,
    current,
    from_json,
    has_choice,
    history,
    replace_choices,
)
from callbridge.storage.dial_intents import bind_intent, fitting_intent, has_intent
from callbridge.storage.integrations import IntegrationRow
from callbridge.storage.tables import activity_links, calls
from callbridge.storage.users import user_name, user_permissions, user_role

__all__ = [
    "ChoiceMade",
    "Chosen",
    "bind_intent",
    "choice_before_sync",
    "choice_window",
    "choices_for_sync",
    "choices_json",
    "current",
    "drop_link",
    "has_choice",
    "has_intent",
    "history",
    "replace_choices",
    "user_name",
    "user_permissions",
    "user_role",
]


def choice_before_sync(
    db: Connection, call: dict[str, Any], e164: str, integration_id: str
) -> tuple[Chosen | None, str | None]:
    """Return the choice the call's sync would read, without binding anything; and the intent.

    As :func:`choices_for_sync` but read-only: a call with no choice yet gets the choice of the
    dial intent its sync would bind (whose id is returned beside it), in this integration.
    """
    if call["id"] is not None and has_choice(db, call["company_id"], call["id"]):
        return current(db, call["company_id"], call["id"], integration_id), None
    intent = fitting_intent(db, call, e164)
    if intent is None:
        return None, None
    choices = tuple(
        from_json(item) for item in intent["choices"] if item["integration_id"] == integration_id
    )
    if not choices:
        return None, intent["id"]
    who = user_name(db, call["company_id"], intent["user_id"])
    return Chosen(choices, intent["how"], who), intent["id"]


async def choices_for_sync(
    sessions: async_sessionmaker[AsyncSession],
    company_id: str,
    call_id: str,
    integration_id: str,
    e164: str,
    now: datetime,
) -> Chosen | None:
    """Bind a pending dial intent to the call if one fits, then return the call's choice."""
    async with sessions.begin() as session:
        return await sql.run(
            session, _bind_and_read, company_id, call_id, integration_id, e164, now
        )


def _bind_and_read(
    db: Connection, company_id: str, call_id: str, integration_id: str, e164: str, now: datetime
) -> Chosen | None:
    """Bind a fitting dial intent to a call with no choice yet; return its choice in force."""
    mine = (calls.c.company_id == company_id, calls.c.id == call_id)
    call = db.execute(select(calls).where(*mine)).mappings().first()
    if call is None:
        return None
    if not has_choice(db, company_id, call_id):
        bind_intent(db, dict(call), e164, now)
    return current(db, company_id, call_id, integration_id)


async def drop_link(
    sessions: async_sessionmaker[AsyncSession],
    company_id: str,
    call_id: str,
    integration_id: str,
    record_id: str,
) -> None:
    """Forget that the call was logged on a record it moved away from."""
    async with sessions.begin() as session:
        await sql.run(session, _delete_link, company_id, call_id, integration_id, record_id)


def _delete_link(
    db: Connection, company_id: str, call_id: str, integration_id: str, record_id: str
) -> None:
    """Delete the link between the call and one record it was logged on."""
    db.execute(
        delete(activity_links).where(
            activity_links.c.company_id == company_id,
            activity_links.c.call_id == call_id,
            activity_links.c.integration_id == integration_id,
            activity_links.c.record_id == record_id,
        )
    )


def choice_window(
    db: Connection,
    call_id: str,
    user_id: str | None,
    integration: IntegrationRow,
    e164: str | None,
    crm_record_id: str | None,
) -> float:
    """Return how long after a call is final its agent may still choose its record(s).

    Zero when selection is off for the agent or the integration, the call is a click-to-dial,
    or a choice (or a pending dial intent) already decided. The sync waits out this window only
    when it finds a choice to make (``rules.agent_choice.wait_for_choice``).
    """
    config = integration["config"] or {}
    if user_id is None or crm_record_id or not config.get(OPTION):
        return 0.0
    company_id = integration["company_id"]
    role = user_role(db, company_id, user_id)
    permissions = user_permissions(db, company_id, user_id)
    enabled = gate(None if role == "admin" else permissions, True) is None
    decided = has_choice(db, company_id, call_id) or has_intent(db, company_id, user_id, e164)
    return choice_window_rule(enabled, decided, config)
