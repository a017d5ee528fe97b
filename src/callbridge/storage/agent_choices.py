"""Agent tokens, dial intents and the records agents chose for calls; scoped by company."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callbridge.domain.record import ObjectType
from callbridge.rules.agent_choice import OPTION, Choice, gate
from callbridge.rules.agent_choice import choice_window as choice_window_rule
from callbridge.storage import sql
from callbridge.storage.dial_intents import fitting_intent
from callbridge.storage.integrations import IntegrationRow
from callbridge.storage.tables import (
    activity_links,
    call_selections,
    calls,
    dial_intents,
    teams,
    users,
)


@dataclass(frozen=True)
class Chosen:
    """The current choice for a call in one integration, and who made it, when and how."""

    choices: tuple[Choice, ...]
    how: str
    who: str | None


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


def _choice_json(choice: Choice) -> dict[str, str]:
    return {
        "integration_id": choice.integration_id,
        "record_id": choice.record_id,
        "object_type": choice.object_type.value,
        "name": choice.name,
    }


def choices_json(choices: tuple[Choice, ...]) -> list[dict[str, str]]:
    """Return choices as JSON values."""
    return [_choice_json(choice) for choice in choices]


async def replace_choices(
    session: AsyncSession,
    company_id: str,
    call_id: str,
    choices: tuple[Choice, ...],
    *,
    how: str,
    user_id: str | None,
    now: datetime,
) -> None:
    """Make ``choices`` the call's choice in each integration they name; keep the old as history."""
    for integration_id in {choice.integration_id for choice in choices}:
        await session.execute(
            update(call_selections)
            .where(
                call_selections.c.company_id == company_id,
                call_selections.c.call_id == call_id,
                call_selections.c.integration_id == integration_id,
                call_selections.c.replaced_at.is_(None),
            )
            .values(replaced_at=now)
        )
    base: dict[str, Any] = {"company_id": company_id, "call_id": call_id, "how": how}
    base |= {"chosen_by": user_id, "chosen_at": now}
    rows = [{**_choice_json(c), **base} for c in choices]
    if rows:
        await session.execute(insert(call_selections), rows)


async def bind_intent(
    session: AsyncSession, call: dict[str, Any], e164: str, now: datetime
) -> None:
    """Bind the agent's latest matching dial intent to the call, copying its choices once."""
    intent = await fitting_intent(session, call, e164)
    if intent is None:
        return
    won = await session.execute(
        update(dial_intents)
        .where(
            dial_intents.c.company_id == call["company_id"],
            dial_intents.c.id == intent["id"],
            dial_intents.c.call_id.is_(None),
        )
        .values(call_id=call["id"])
    )
    if won.rowcount:  # type: ignore[attr-defined]
        choices = tuple(_from_json(item) for item in intent["choices"])
        await replace_choices(
            session, call["company_id"], call["id"], choices,
            how=intent["how"], user_id=intent["user_id"], now=intent["created_at"],
        )  # fmt: skip


async def choice_before_sync(
    session: AsyncSession, call: dict[str, Any], e164: str, integration_id: str
) -> tuple[Chosen | None, str | None]:
    """Return the choice the call's sync would read, without binding anything; and the intent.

    As :func:`choices_for_sync` but read-only: a call with no choice yet gets the choice of the
    dial intent its sync would bind (whose id is returned beside it), in this integration.
    """
    if call["id"] is not None and await sql.run(
        session, has_choice, call["company_id"], call["id"]
    ):
        return await current(session, call["company_id"], call["id"], integration_id), None
    intent = await fitting_intent(session, call, e164)
    if intent is None:
        return None, None
    choices = tuple(
        _from_json(item) for item in intent["choices"] if item["integration_id"] == integration_id
    )
    if not choices:
        return None, intent["id"]
    who = await sql.run(session, user_name, call["company_id"], intent["user_id"])
    return Chosen(choices, intent["how"], who), intent["id"]


def user_name(db: Connection, company_id: str, user_id: str) -> str | None:
    """Return a user's name, None when the company has no such user."""
    query = select(users.c.name).where(users.c.company_id == company_id, users.c.id == user_id)
    name: str | None = db.execute(query).scalar()
    return name


def _from_json(item: dict[str, str]) -> Choice:
    return Choice(
        item["integration_id"], item["record_id"], ObjectType(item["object_type"]), item["name"]
    )


async def current(
    session: AsyncSession, company_id: str, call_id: str, integration_id: str
) -> Chosen | None:
    """Return the call's current choice in one integration, if an agent made one."""
    query = (
        select(call_selections, users.c.name.label("who"))
        .outerjoin(users, users.c.id == call_selections.c.chosen_by)
        .where(
            call_selections.c.company_id == company_id,
            call_selections.c.call_id == call_id,
            call_selections.c.integration_id == integration_id,
            call_selections.c.replaced_at.is_(None),
        )
        .order_by(call_selections.c.id)
    )
    rows = (await session.execute(query)).mappings().all()
    if not rows:
        return None
    return Chosen(tuple(_from_json(dict(row)) for row in rows), rows[0]["how"], rows[0]["who"])


async def choices_for_sync(
    sessions: async_sessionmaker[AsyncSession],
    company_id: str,
    call_id: str,
    integration_id: str,
    e164: str,
    now: datetime,
) -> Chosen | None:
    """Bind a pending dial intent to the call if one fits, then return the call's choice."""
    mine = (calls.c.company_id == company_id, calls.c.id == call_id)
    async with sessions.begin() as session:
        call = (await session.execute(select(calls).where(*mine))).mappings().first()
        if call is None:
            return None
        if not await sql.run(session, has_choice, company_id, call_id):
            await bind_intent(session, dict(call), e164, now)
        return await current(session, company_id, call_id, integration_id)


def has_choice(db: Connection, company_id: str, call_id: str) -> bool:
    """Tell whether any record was ever chosen for the call."""
    scope = {"company_id": company_id, "call_id": call_id}
    return db.execute(_ANY_CHOICE, scope).first() is not None


_ANY_CHOICE = select(call_selections.c.id).where(
    call_selections.c.company_id == bindparam("company_id"),
    call_selections.c.call_id == bindparam("call_id"),
)


def has_intent(db: Connection, company_id: str, user_id: str | None, e164: str | None) -> bool:
    """Tell whether the agent has an unbound dial intent for the number."""
    if user_id is None or e164 is None:
        return False
    scope = {"company_id": company_id, "user_id": user_id, "e164": e164}
    return db.execute(_OPEN_INTENT, scope).first() is not None


_OPEN_INTENT = select(dial_intents.c.id).where(
    dial_intents.c.company_id == bindparam("company_id"),
    dial_intents.c.user_id == bindparam("user_id"),
    dial_intents.c.phone_e164 == bindparam("e164"),
    dial_intents.c.call_id.is_(None),
)


async def drop_link(
    sessions: async_sessionmaker[AsyncSession],
    company_id: str,
    call_id: str,
    integration_id: str,
    record_id: str,
) -> None:
    """Forget that the call was logged on a record it moved away from."""
    async with sessions.begin() as session:
        await session.execute(
            delete(activity_links).where(
                activity_links.c.company_id == company_id,
                activity_links.c.call_id == call_id,
                activity_links.c.integration_id == integration_id,
                activity_links.c.record_id == record_id,
            )
        )


@dataclass(frozen=True)
class ChoiceMade:
    """A record chosen for a call in one integration: by whom, when, how, and if it still holds."""

    call_id: str
    integration_id: str
    record_id: str
    object_type: str
    name: str
    how: str
    chosen_by: str | None
    chosen_at: datetime
    replaced_at: datetime | None
    chosen_by_name: str | None

    @property
    def current(self) -> bool:
        """Tell whether this is the call's choice in force (no later choice replaced it)."""
        return self.replaced_at is None


async def history(session: AsyncSession, company_id: str, call_id: str) -> list[ChoiceMade]:
    """Return every choice made for the call, oldest first, with who chose, when and how."""
    query = (
        select(call_selections, users.c.name.label("chosen_by_name"))
        .outerjoin(users, users.c.id == call_selections.c.chosen_by)
        .where(call_selections.c.company_id == company_id, call_selections.c.call_id == call_id)
        .order_by(call_selections.c.chosen_at, call_selections.c.id)
    )
    rows = (await session.execute(query)).mappings().all()
    return [
        ChoiceMade(**{k: v for k, v in row.items() if k not in ("company_id", "id")})
        for row in rows
    ]


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
