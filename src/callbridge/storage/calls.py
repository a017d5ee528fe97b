"""Calls, their events, and the record of what was synced where (syncs, actions, claims, links)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.domain.call import Call
from callbridge.domain.event import CallEvent
from callbridge.storage.codec import event_from_json
from callbridge.storage.sql import insert_ignore
from callbridge.storage.tables import (
    activity_links,
    call_actions,
    call_events,
    call_syncs,
    calls,
    contact_claims,
)


async def load_events(session: AsyncSession, source_id: str, call_id: str) -> list[CallEvent]:
    """Return every stored event of one provider call."""
    rows = await session.execute(
        select(call_events.c.data).where(
            call_events.c.source_id == source_id, call_events.c.provider_call_id == call_id
        )
    )
    return [event_from_json(row.data) for row in rows]


def call_values(call: Call, user_id: str | None) -> dict[str, Any]:
    """Return the ``calls`` columns describing the folded call."""
    return {
        "state": call.state.value,
        "direction": call.direction.value if call.direction else None,
        "from_number": call.from_number,
        "to_number": call.to_number,
        "user_id": user_id,
        "agent": {k: v for k, v in vars(call.agent).items() if v} if call.agent else None,
        "started_at": call.started_at,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "duration": call.duration,
        "recording_url": call.recording_url,
        "notes": call.notes,
        "tags": list(call.tags),
        "disposition": call.disposition,
        "utm": {k: v for k, v in vars(call.utm).items() if v} if call.utm else None,
        "crm_record_id": call.crm_record_id,
        "event_count": len(call.event_ids),
    }


async def save_call(
    session: AsyncSession,
    company_id: str,
    source_id: str,
    call: Call,
    user_id: str | None,
    now: datetime,
) -> str:
    """Insert or update the folded call and return Callbridge's id for it."""
    values = call_values(call, user_id)
    inserted = await insert_ignore(
        session,
        calls,
        {
            "id": str(uuid.uuid4()),
            "company_id": company_id,
            "source_id": source_id,
            "provider_call_id": call.call_id,
            "created_at": now,
            "updated_at": now,
            **values,
        },
    )
    where = (calls.c.source_id == source_id, calls.c.provider_call_id == call.call_id)
    if not inserted:
        await session.execute(update(calls).where(*where).values(updated_at=now, **values))
    return str((await session.execute(select(calls.c.id).where(*where))).scalar_one())


async def get_call(session: AsyncSession, call_id: str) -> dict[str, Any] | None:
    """Return a call row by Callbridge's id (callers check the company)."""
    row = (await session.execute(select(calls).where(calls.c.id == call_id))).first()
    return dict(row._mapping) if row else None


async def save_sync(
    session: AsyncSession,
    company_id: str,
    call_id: str,
    integration_id: str,
    now: datetime,
    **values: Any,
) -> None:
    """Record how a call was matched in one integration (number, candidates, rule, status)."""
    inserted = await insert_ignore(
        session,
        call_syncs,
        {
            "company_id": company_id,
            "call_id": call_id,
            "integration_id": integration_id,
            "updated_at": now,
            "attempts": 1,
            **values,
        },
    )
    if not inserted:
        await session.execute(
            update(call_syncs)
            .where(call_syncs.c.call_id == call_id, call_syncs.c.integration_id == integration_id)
            .values(updated_at=now, attempts=call_syncs.c.attempts + 1, **values)
        )


async def save_action(
    session: AsyncSession,
    company_id: str,
    call_id: str,
    integration_id: str,
    action: str,
    target: str,
    now: datetime,
    **values: Any,
) -> None:
    """Record one action's status, attempts, reason and result for a call."""
    key = {"call_id": call_id, "integration_id": integration_id, "action": action, "target": target}
    inserted = await insert_ignore(
        session,
        call_actions,
        {"company_id": company_id, "updated_at": now, "attempts": 1, **key, **values},
    )
    if not inserted:
        await session.execute(
            update(call_actions)
            .where(*(call_actions.c[name] == value for name, value in key.items()))
            .values(updated_at=now, attempts=call_actions.c.attempts + 1, **values)
        )


async def get_claim(
    session: AsyncSession, integration_id: str, phone_e164: str
) -> dict[str, Any] | None:
    """Return the contact-creation claim for a number in an integration."""
    row = (
        await session.execute(
            select(contact_claims).where(
                contact_claims.c.integration_id == integration_id,
                contact_claims.c.phone_e164 == phone_e164,
            )
        )
    ).first()
    return dict(row._mapping) if row else None


async def write_claim(session: AsyncSession, values: dict[str, Any]) -> None:
    """Write (or take over) the claim to create a contact for a number."""
    if not await insert_ignore(session, contact_claims, values):
        await session.execute(
            update(contact_claims)
            .where(
                contact_claims.c.integration_id == values["integration_id"],
                contact_claims.c.phone_e164 == values["phone_e164"],
            )
            .values(
                status=values["status"],
                call_id=values["call_id"],
                record_id=values.get("record_id"),
                created_at=values["created_at"],
            )
        )


async def get_link(
    session: AsyncSession, call_id: str, integration_id: str, record_id: str
) -> dict[str, Any] | None:
    """Return where a call's activity on one record went, if it was logged."""
    row = (
        await session.execute(
            select(activity_links).where(
                activity_links.c.call_id == call_id,
                activity_links.c.integration_id == integration_id,
                activity_links.c.record_id == record_id,
            )
        )
    ).first()
    return dict(row._mapping) if row else None


async def save_link(session: AsyncSession, values: dict[str, Any]) -> None:
    """Record (or complete) the link between a call and its activity on a record."""
    if not await insert_ignore(session, activity_links, values):
        await session.execute(
            update(activity_links)
            .where(
                activity_links.c.call_id == values["call_id"],
                activity_links.c.integration_id == values["integration_id"],
                activity_links.c.record_id == values["record_id"],
            )
            .values(
                status=values["status"],
                activity_id=values.get("activity_id"),
                updated_at=values["updated_at"],
            )
        )
