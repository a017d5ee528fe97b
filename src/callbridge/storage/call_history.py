"""Calls, their events, and the record of what was synced where (syncs, actions, claims, links)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import Connection, bindparam, select

from callbridge.domain.call import Call
from callbridge.domain.event import CallEvent
from callbridge.storage import driver
from callbridge.storage.codec import event_from_json
from callbridge.storage.sql import select_where, upsert
from callbridge.storage.tables import (
    activity_links,
    call_actions,
    call_events,
    call_syncs,
    calls,
    contact_claims,
)


class CallRow(TypedDict):
    """A call as stored: folded from its events, one row per provider call."""

    id: str
    company_id: str
    source_id: str
    provider_call_id: str
    state: str
    direction: str | None
    from_number: str | None
    to_number: str | None
    user_id: str | None
    agent: dict[str, Any] | None
    started_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    duration: int | None
    recording_url: str | None
    notes: str | None
    tags: list[str]
    disposition: str | None
    utm: dict[str, Any] | None
    crm_record_id: str | None
    event_count: int
    created_at: datetime
    updated_at: datetime


class SyncRow(TypedDict):
    """A call's sync in one integration as stored: how it was matched and how the run ended."""

    id: int
    company_id: str
    call_id: str
    integration_id: str
    external_number: str | None
    no_number_reason: str | None
    matched: list[dict[str, Any]]
    match_rule: str | None
    match_reason: dict[str, Any] | None
    scenario: str | None
    matrix_version: int | None
    status: str
    attempts: int
    reason: str | None
    reason_code: dict[str, Any] | None
    updated_at: datetime


# Columns an upsert of a sync's bookkeeping never rewrites.
_KEEP = ("id", "company_id", "attempts")


def load_events(db: Connection, company_id: str, source_id: str, call_id: str) -> list[CallEvent]:
    """Return every stored event of one provider call."""
    scope = {"company_id": company_id, "source_id": source_id, "call_id": call_id}
    rows = driver.execute(db, _EVENTS, scope)
    return [event_from_json(row.data) for row in rows]


_EVENTS = select(call_events.c.data).where(
    call_events.c.company_id == bindparam("company_id"),
    call_events.c.source_id == bindparam("source_id"),
    call_events.c.provider_call_id == bindparam("call_id"),
)


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


def save_call(
    db: Connection,
    company_id: str,
    source_id: str,
    call: Call,
    user_id: str | None,
    now: datetime,
) -> str | None:
    """Insert or update the folded call and return Callbridge's id for it.

    None when the stored call was already folded from as many events: every event is stored
    once, so the same count means the same events (a fold merged, retried or replayed).
    """
    values = {
        "id": str(uuid.uuid4()),
        "company_id": company_id,
        "source_id": source_id,
        "provider_call_id": call.call_id,
        "created_at": now,
        "updated_at": now,
        **call_values(call, user_id),
    }
    keys = ("source_id", "provider_call_id")
    keep = ("id", "company_id", "created_at")
    saved = upsert(db, calls, values, keys, returning="id", keep=keep, unless_same="event_count")
    return None if saved is None else str(saved)


def get_call(db: Connection, company_id: str, call_id: str) -> CallRow | None:
    """Return a call of the company by Callbridge's id."""
    where = {"company_id": company_id, "id": call_id}
    row = select_where(db, calls, where).first()
    return cast(CallRow, dict(row._mapping)) if row else None  # the table's columns


def get_sync(db: Connection, company_id: str, call_id: str, integration_id: str) -> SyncRow | None:
    """Return the call's sync row in one integration, if it was ever synced there."""
    where = {"company_id": company_id, "call_id": call_id, "integration_id": integration_id}
    row = select_where(db, call_syncs, where).first()
    return cast(SyncRow, dict(row._mapping)) if row else None  # the table's columns


def save_sync(
    db: Connection,
    company_id: str,
    call_id: str,
    integration_id: str,
    now: datetime,
    *,
    new_run: bool = True,
    **values: Any,
) -> None:
    """Record how a call was matched in one integration (number, candidates, rule, status).

    ``new_run`` counts one more attempt; a run's later writes leave the count as it is.
    """
    ids = {"company_id": company_id, "call_id": call_id, "integration_id": integration_id}
    defaults = {"status": "running"}  # a new row needs a status; an update keeps its own
    row = {**ids, **defaults, "updated_at": now, "attempts": 1, **values}
    keep = _KEEP + tuple(name for name in defaults if name not in values)
    counter = ("attempts", 1 if new_run else 0)
    upsert(db, call_syncs, row, ("call_id", "integration_id"), counter, keep=keep)


def save_action(
    db: Connection,
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
    row = {"company_id": company_id, "updated_at": now, "attempts": 1, **key, **values}
    upsert(db, call_actions, row, tuple(key), ("attempts", 1), keep=_KEEP)


def get_claim(
    db: Connection, company_id: str, integration_id: str, phone_e164: str
) -> dict[str, Any] | None:
    """Return the contact-creation claim for a number in an integration."""
    where = {"company_id": company_id, "integration_id": integration_id, "phone_e164": phone_e164}
    row = select_where(db, contact_claims, where).first()
    return dict(row._mapping) if row else None


def write_claim(db: Connection, values: dict[str, Any]) -> None:
    """Write (or take over) the claim to create a contact for a number."""
    keys = ("integration_id", "phone_e164")
    upsert(db, contact_claims, {"record_id": None, **values}, keys, keep=_KEEP)


def get_links(
    db: Connection, company_id: str, call_id: str, integration_id: str
) -> dict[str, dict[str, Any]]:
    """Return where the call was logged in one integration, by record id."""
    where = {"company_id": company_id, "call_id": call_id, "integration_id": integration_id}
    rows = select_where(db, activity_links, where)
    return {row.record_id: dict(row._mapping) for row in rows}


def save_link(db: Connection, values: dict[str, Any]) -> None:
    """Record (or complete) the link between a call and its activity on a record."""
    keys = ("call_id", "integration_id", "record_id")
    upsert(db, activity_links, values, keys, keep=(*_KEEP, "object_type"))
