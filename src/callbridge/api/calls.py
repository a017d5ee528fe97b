"""The call history: list calls, and show one with its events, matches, actions and activities."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import or_, select

from callbridge.api.deps import PrincipalDep, RuntimeDep
from callbridge.api.fields import PHONE_LENGTH, Limit, Offset, PathId, Since, Storable
from callbridge.api.refusals import AUTHENTICATED, NOT_FOUND
from callbridge.domain.call import CallState
from callbridge.domain.event import Direction
from callbridge.queue import breaker
from callbridge.storage import agent_choices
from callbridge.storage.tables import activity_links, call_actions, call_events, call_syncs, calls

router = APIRouter(prefix="/calls", tags=["calls"], responses=AUTHENTICATED)


@router.get("")
async def list_calls(
    who: PrincipalDep,
    runtime: RuntimeDep,
    state: CallState | None = None,
    direction: Direction | None = None,
    number: Annotated[
        Storable | None,
        Query(max_length=PHONE_LENGTH, description="Substring of from/to"),
    ] = None,
    since: Since | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """List the company's calls, newest first, with optional filters."""
    query = select(calls).where(calls.c.company_id == who.company_id)
    if state:
        query = query.where(calls.c.state == state)
    if direction:
        query = query.where(calls.c.direction == direction)
    if number:
        pattern = f"%{number}%"
        query = query.where(or_(calls.c.from_number.like(pattern), calls.c.to_number.like(pattern)))
    if since:
        query = query.where(calls.c.created_at >= since)
    query = query.order_by(calls.c.created_at.desc(), calls.c.id).limit(limit).offset(offset)
    async with runtime.reads() as session:
        rows = (await session.execute(query)).mappings().all()
    return {"calls": [dict(row) for row in rows]}


@router.get("/{call_id}", responses=NOT_FOUND)
async def detail(call_id: PathId, who: PrincipalDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Show a call: its events, the record found by number and why, and every action taken."""
    async with runtime.reads() as session:
        row = (
            (
                await session.execute(
                    select(calls).where(calls.c.id == call_id, calls.c.company_id == who.company_id)
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            raise HTTPException(404, f"no call {call_id} in this company")
        events = await _rows(
            session,
            select(call_events.c.event_id, call_events.c.kind, call_events.c.occurred_at)
            .where(
                call_events.c.company_id == who.company_id,
                call_events.c.source_id == row["source_id"],
                call_events.c.provider_call_id == row["provider_call_id"],
            )
            .order_by(call_events.c.occurred_at),
        )
        syncs = await _rows(
            session,
            select(call_syncs).where(
                call_syncs.c.company_id == who.company_id, call_syncs.c.call_id == call_id
            ),
        )
        actions = await _rows(
            session,
            select(call_actions)
            .where(call_actions.c.company_id == who.company_id, call_actions.c.call_id == call_id)
            .order_by(call_actions.c.id),
        )
        links = await _rows(
            session,
            select(activity_links).where(
                activity_links.c.company_id == who.company_id,
                activity_links.c.call_id == call_id,
            ),
        )
        down = await session.run_sync(breaker.states, who.company_id)
        chosen = await agent_choices.history(session, who.company_id, call_id)
    return {
        **dict(row),
        "events": events,
        "syncs": [_with_crm_status(sync, down) for sync in syncs],
        "actions": actions,
        "activities": links,
        "selections": chosen,
    }


def _with_crm_status(sync: dict[str, Any], down: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Say "CRM unreachable since …" on a sync not settled yet whose CRM does not answer."""
    crm = down.get(sync["integration_id"]) if sync["status"] in UNSETTLED else None
    sync["crm_unreachable_since"] = crm["since"] if crm else None
    sync["crm_status"] = crm["message"] if crm else None
    return sync


# Sync statuses of a call still to be written to its CRM.
UNSETTLED = frozenset({"running", "failed", "waiting"})


async def _rows(session: Any, query: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in (await session.execute(query)).mappings().all()]
