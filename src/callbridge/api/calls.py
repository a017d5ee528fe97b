"""The call history: list calls, and show one with its events, matches, actions and activities."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from callbridge.api.agent_auth import ActorDep
from callbridge.api.call_matches import CallMatch, MatchReasonShown, call_matches
from callbridge.api.deps import PrincipalDep, RuntimeDep
from callbridge.api.models import ChoiceShown, JsonShown
from callbridge.api.said_models import StoredSaid
from callbridge.domain.call import CallState
from callbridge.domain.event import Direction
from callbridge.queue import breaker
from callbridge.refusal_codes import refusal
from callbridge.runtime import Runtime
from callbridge.storage import call_choices, call_pages, sql
from callbridge.web.fields import ID_LENGTH, PHONE_LENGTH, Limit, Offset, PathId, Since, Storable
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
    """A page of the call history, newest first, with the cursors of the pages beside it."""

    calls: list[CallShown]
    older: str | None = Field(
        default=None, description="Pass as `after` for the next, older page (None: no more)"
    )
    newer: str | None = Field(
        default=None, description="Pass as `before` for the previous, newer page (None: none)"
    )


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
    match_rule: str | None = Field(description="Why the log went where it did, in English")
    match_reason: MatchReasonShown | None = Field(
        description="The same as a code and its parameters (None for syncs stored before it)"
    )
    scenario: str | None
    matrix_version: int | None
    status: str
    attempts: int
    reason: str | None
    reason_code: StoredSaid = Field(
        default=None,
        description="The same as a code and its parameters (null for syncs stored before it)",
    )
    updated_at: datetime
    crm_unreachable_since: datetime | None = Field(
        description="Set while the sync waits for a CRM that does not answer"
    )
    crm_status: str | None = Field(description='"CRM unreachable since …", or None')
    crm_state: Literal["unreachable", "probing"] | None = Field(
        default=None, description="The CRM's state as its circuit breaker sees it, or None"
    )
    crm_next_probe_at: datetime | None = Field(
        default=None, description="When a sync tries the unreachable CRM again"
    )


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
    reason_code: StoredSaid = Field(
        default=None,
        description="The same as a code and its parameters (null for a CRM's own words, or for "
        "actions stored before it)",
    )
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


SyncStatus = Literal["running", "waiting", "failed", "done", "no_match", "skipped"]
Cursor = Annotated[
    Storable | None,
    Query(max_length=200, description="A cursor from a page's `older` or `newer`"),
]
OurId = Annotated[Storable | None, Query(max_length=ID_LENGTH)]


@router.get("", responses=NOT_FOUND)
async def list_calls(
    who: PrincipalDep,
    runtime: RuntimeDep,
    state: CallState | None = None,
    direction: Direction | None = None,
    number: Annotated[
        Storable | None,
        Query(max_length=PHONE_LENGTH, description="The start of the from or to number"),
    ] = None,
    since: Since | None = None,
    until: Annotated[Since | None, Query(description="Calls created before this time")] = None,
    agent: Annotated[OurId, Query(description="The id of the user who took or made it")] = None,
    integration: Annotated[OurId, Query(description="Synced to this integration")] = None,
    status: Annotated[
        SyncStatus | None,
        Query(description="A sync in this status (in `integration` when given, else in any)"),
    ] = None,
    after: Cursor = None,
    before: Cursor = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> CallList:
    """List the company's calls, newest first, with optional filters that must all hold.

    An agent or integration not of the company is a 404. Page on with the answer's `older`
    cursor as `after`, back with its `newer` cursor as `before`.
    """
    wanted = call_pages.CallFilter(
        state, direction, number, since, until, agent, integration, status
    )
    async with runtime.reads() as session:
        if not await sql.run(session, call_pages.owns, who.company_id, agent, integration):
            raise HTTPException(404, refusal("no_agent_or_integration"))
    return await history(runtime, who.company_id, wanted, limit, offset, after, before)


async def history(
    runtime: Runtime,
    company_id: str,
    wanted: call_pages.CallFilter,
    limit: int,
    offset: int = 0,
    after: str | None = None,
    before: str | None = None,
) -> CallList:
    """Return a page of the company's calls with its cursors (the API's and the screens' read)."""
    older_than, newer_than = call_pages.Cursor.read(after), call_pages.Cursor.read(before)
    if newer_than is not None:
        older_than = None
    async with runtime.reads() as session:
        found = await sql.run(
            session,
            call_pages.page,
            company_id,
            wanted,
            limit + 1,
            offset,
            after=older_than,
            before=newer_than,
        )
    more = len(found) > limit
    found = (found[1:] if newer_than else found[:limit]) if more else found
    ends: list[str | None] = [None, None]
    if found:
        ends = [call_pages.Cursor.of(c.call).token() for c in (found[0], found[-1])]
    shown = [{**c.call, "matches": call_matches(c.syncs, c.links)} for c in found]
    return CallList(
        calls=[CallShown.model_validate(call) for call in shown],
        newer=ends[0] if (more if newer_than else older_than) else None,
        older=ends[1] if (newer_than or more) else None,
    )


@router.get("/mine")
async def my_calls(
    actor: ActorDep,
    runtime: RuntimeDep,
    after: Cursor = None,
    before: Cursor = None,
    limit: Limit = 20,
) -> CallList:
    """List the calls of the agent whose token asks (the dialer's My calls), newest first.

    Only the agent's own calls of their company; an admin key, which is nobody's, gets none.
    """
    mine = call_pages.CallFilter(agent=actor.user_id or NOBODY)
    return await history(runtime, actor.company_id, mine, limit, 0, after, before)


#: No user has this id: an actor without one (an admin's key) has no calls of their own.
NOBODY = "-"


@router.get("/{call_id}", responses=NOT_FOUND)
async def detail(call_id: PathId, who: PrincipalDep, runtime: RuntimeDep) -> CallDetail:
    """Show a call: its events, the record found by number and why, and every action taken."""
    async with runtime.reads() as session:
        found = await sql.run(session, call_pages.record, who.company_id, call_id)
        if found is None:
            raise HTTPException(404, refusal("no_call", call_id=call_id))
        down = await sql.run(session, breaker.states, who.company_id)
        chosen = await sql.run(session, call_choices.history, who.company_id, call_id)
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
    sync["crm_state"] = crm["state"] if crm else None
    sync["crm_next_probe_at"] = crm["next_probe_at"] if crm else None
    return sync


# Sync statuses of a call still to be written to its CRM.
UNSETTLED = frozenset({"running", "failed", "waiting"})
