"""The records agents chose for a call, per integration: the choice in force and its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from callbridge.domain.record import ObjectType
from callbridge.rules.agent_choice import Choice
from callbridge.storage import driver
from callbridge.storage.tables import call_selections, users


@dataclass(frozen=True)
class Chosen:
    """The current choice for a call in one integration, and who made it, when and how."""

    choices: tuple[Choice, ...]
    how: str
    who: str | None


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


def from_json(item: dict[str, str]) -> Choice:
    """Return the choice a JSON value of :func:`choices_json` holds."""
    return Choice(
        item["integration_id"], item["record_id"], ObjectType(item["object_type"]), item["name"]
    )


def replace_choices(
    db: Connection,
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
        db.execute(
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
        db.execute(insert(call_selections), rows)


def current(db: Connection, company_id: str, call_id: str, integration_id: str) -> Chosen | None:
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
    rows = db.execute(query).mappings().all()
    if not rows:
        return None
    return Chosen(tuple(from_json(dict(row)) for row in rows), rows[0]["how"], rows[0]["who"])


def has_choice(db: Connection, company_id: str, call_id: str) -> bool:
    """Tell whether any record was ever chosen for the call."""
    scope = {"company_id": company_id, "call_id": call_id}
    return driver.execute(db, _ANY_CHOICE, scope).first() is not None


_ANY_CHOICE = select(call_selections.c.id).where(
    call_selections.c.company_id == bindparam("company_id"),
    call_selections.c.call_id == bindparam("call_id"),
)


def history(db: Connection, company_id: str, call_id: str) -> list[ChoiceMade]:
    """Return every choice made for the call, oldest first, with who chose, when and how."""
    query = (
        select(call_selections, users.c.name.label("chosen_by_name"))
        .outerjoin(users, users.c.id == call_selections.c.chosen_by)
        .where(call_selections.c.company_id == company_id, call_selections.c.call_id == call_id)
        .order_by(call_selections.c.chosen_at, call_selections.c.id)
    )
    rows = db.execute(query).mappings().all()
    return [
        ChoiceMade(**{k: v for k, v in row.items() if k not in ("company_id", "id")})
        for row in rows
    ]
