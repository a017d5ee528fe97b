"""The call history: list calls, and show one with its events, matches, actions and activities."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from callbridge.api.call_matches import CallMatch, call_matches
from callbridge.api.deps import PrincipalDep, RuntimeDep
from callbridge.api.models import ChoiceShown, JsonShown
from callbridge.domain.call import CallState
from callbridge.domain.event import Direction
from callbridge.queue import breaker
from callbridge.storage import agent_choices, call_pages, sql
from callbridge.web.fields import PHONE_LENGTH, Limit, Offset, PathId, Since, Storable
from callbridge.web.refusals import AUTHENTICATED, NOT_FOUND

router = APIRouter(prefix="/calls", tags=["calls"], responses=AUTHENTICATED)


class CallShown(BaseModel):
    """A call as folded from its events (a row of the call history)."""

    id: str
    company_id: str
    source_id: str = Field(description="The telephony source its webhooks came from")
    provider_call_id: str = Field(description="The telephony platform's id of the call")
    state: CallState
    direction: Direction | None
    from_number: str | None
    to_number: str | None
    user_id: str | None = Field(description="The employee who took or made the call")
    agent: JsonShown | None = Field(description="The agent as the telephony platform named them")
    started_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    duration: int | None = Field(description="Seconds")
    recording_url: str | None
    notes: str | None
    tags: list[str]
    disposition: str | None
    utm: JsonShown | None
    crm_record_id: str | None = Field(description="The CRM record the platform named, if any")
    event_count: int
    created_at: datetime
    updated_at: datetime
    matches: list[CallMatch] = Field(
        description="In each integration: the record found automatically by the number, and the "
        "record(s) the call was logged on, and why"
    )


class CallList(BaseModel):
    """A page of the call history, newest first."""

    calls: list[CallShown]


class EventShown(BaseModel):
    """One event of a call as it was received."""

    event_id: str
    kind: str
    occurred_at: datetime


class SyncShown(BaseModel):
    """Where a call stands in one integration: the number searched, the match, the scenario."""

    id: int
    company_id: str
    call_id: str
    integration_id: str
    external_number: str | None
    no_number_reason: str | None
    matched: list[JsonShown] = Field(description="The records the number matched")
    match_rule: str | None
    scenario: str | None
    matrix_version: int | None
    status: str
    attempts: int
    reason: str | None
    updated_at: datetime
    crm_unreachable_since: datetime | None = Field(
        description="Set while the sync waits for a CRM that does not answer"
    )
    crm_status: str | None = Field(description='"CRM unreachable since …", or None')


class ActionShown(BaseModel):
    """One action the matrix planned for the call in an integration, and its outcome."""

    id: int
    company_id: str
    call_id: str
    integration_id: str
    action: str
    target: str
    status: str
    attempts: int
    reason: str | None
    result_id: str | None = Field(description="The CRM object the action wrote")
    updated_at: datetime


class ActivityShown(BaseModel):
    """The CRM activity a call was logged as, on one record."""

    id: int
    company_id: str
    call_id: str
    integration_id: str
    record_id: str
    object_type: str
    activity_id: str | None
    status: str
    updated_at: datetime


class CallDetail(CallShown):
    """A call with its events, its sync in each integration, its actions and agents' choices."""

    events: list[EventShown]
    syncs: list[SyncShown]
    actions: list[ActionShown]
    activities: list[ActivityShown]
    selections: list[ChoiceShown]


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
) -> CallList:
    """List the company's calls, newest first, with optional filters."""
    wanted = call_pages.CallFilter(state, direction, number, since)
    async with runtime.reads() as session:
        found = await sql.run(session, call_pages.page, who.company_id, wanted, limit, offset)
    shown = [{**c.call, "matches": call_matches(c.syncs, c.links)} for c in found]
    return CallList.model_validate({"calls": shown})


@router.get("/{call_id}", responses=NOT_FOUND)
async def detail(call_id: PathId, who: PrincipalDep, runtime: RuntimeDep) -> CallDetail:
    """Show a call: its events, the record found by number and why, and every action taken."""
    async with runtime.reads() as session:
        found = await sql.run(session, call_pages.record, who.company_id, call_id)
        if found is None:
            raise HTTPException(404, f"no call {call_id} in this company")
        down = await sql.run(session, breaker.states, who.company_id)
        chosen = await agent_choices.history(session, who.company_id, call_id)
    return CallDetail.model_validate(
        {
            **found.call,
            "events": found.events,
            "syncs": [_with_crm_status(sync, down) for sync in found.syncs],
            "actions": found.actions,
            "activities": found.links,
            "selections": chosen,
            "matches": call_matches(found.syncs, found.links),
        }
    )


def _with_crm_status(sync: dict[str, Any], down: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Say "CRM unreachable since …" on a sync not settled yet whose CRM does not answer."""
    crm = down.get(sync["integration_id"]) if sync["status"] in UNSETTLED else None
    sync["crm_unreachable_since"] = crm["since"] if crm else None
    sync["crm_status"] = crm["message"] if crm else None
    return sync


# Sync statuses of a call still to be written to its CRM.
UNSETTLED = frozenset({"running", "failed", "waiting"})
