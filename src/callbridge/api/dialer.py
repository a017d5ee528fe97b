"""The agent's dialer: candidates for a number, choices before and during a call, live events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.api.agent_auth import Actor, ActorDep
from callbridge.api.deps import RuntimeDep
from callbridge.api.dialer_models import (
    SSE_EVENT,
    CallCandidates,
    Candidates,
    EventStream,
    IntentIn,
    IntentMade,
    SelectionIn,
    SelectionMade,
)
from callbridge.dialer.events import broker, find_candidates, selection_scope, show
from callbridge.domain.phone import PhoneNumber, normalize
from callbridge.domain.record import CrmRecord, ObjectType
from callbridge.errors import ChoiceConflict, ConnectorError
from callbridge.queue import jobs
from callbridge.queue.base import JobQueue
from callbridge.refusal_codes import refusal
from callbridge.rules import agent_choice
from callbridge.runtime import Runtime
from callbridge.runtime.connectors import connector_for
from callbridge.storage import call_choices, call_history, dial_intents, integrations, sql, users
from callbridge.storage.integrations import IntegrationRow
from callbridge.sync import record_lookup
from callbridge.web.fields import Id, PathId, Phone
from callbridge.web.refusals import (
    AUTHENTICATED,
    BAD_GATEWAY,
    CONFLICT,
    FORBIDDEN,
    NOT_FOUND,
    in_json,
    refuse,
)

router = APIRouter(prefix="/dialer", tags=["dialer"], responses={**AUTHENTICATED, **FORBIDDEN})
KEEPALIVE_SECONDS = 15.0


async def _scope(runtime: Runtime, actor: Actor) -> list[IntegrationRow]:
    """Return the integrations where the actor may choose, or answer 403 saying what is missing."""
    scope, reason = await selection_scope(
        runtime, actor.company_id, None if actor.permissions is None else list(actor.permissions)
    )
    if reason is not None:
        gate = next(code for code, text in agent_choice.GATE_REASONS.items() if text == reason)
        raise HTTPException(403, refusal(f"selection_{gate}"))
    return scope


def _number(scope: list[IntegrationRow], raw: str) -> PhoneNumber:
    parsed = normalize(raw, scope[0]["default_region"])
    if not isinstance(parsed, PhoneNumber):
        raise refuse(("body", "number"), refusal("not_external_number", number=raw))
    return parsed


def _resolve(
    body: SelectionIn | IntentIn, found: dict[str, list[CrmRecord]]
) -> tuple[agent_choice.Choice, ...]:
    try:
        return agent_choice.resolve([(c.integration_id, c.record_id) for c in body.choices], found)
    except ChoiceConflict as err:
        raise refuse(("body", "choices"), err.problem) from err


def _confirmed(choices: tuple[agent_choice.Choice, ...]) -> list[dict[str, Any]]:
    return [{**item, "check": True} for item in call_choices.choices_json(choices)]


@router.get("/candidates")
async def candidates(
    actor: ActorDep,
    runtime: RuntimeDep,
    number: Annotated[Phone, Query()],
    object_type: ObjectType | None = None,
) -> Candidates:
    """List every record matching a number, grouped by object type, with a count."""
    scope = await _scope(runtime, actor)
    e164 = _number(scope, number).e164
    found = show(await find_candidates(runtime, scope, number), object_type)
    return Candidates.model_validate({"number": e164, **found})


@router.post("/intents", status_code=201, responses=BAD_GATEWAY)
async def create_intent(body: IntentIn, actor: ActorDep, runtime: RuntimeDep) -> IntentMade:
    """Choose the record(s) before dialling; the choice binds to the agent's next such call."""
    user_id = await _agent_of(runtime, actor, body.user_id, ("body", "user_id"))
    if body.crm_record_id is not None:
        chosen, e164 = await _click_to_dial(runtime, actor, body)
        how = agent_choice.How.CLICK_TO_DIAL
    else:
        scope = await _scope(runtime, actor)
        if not body.choices:
            raise refuse(("body", "choices"), refusal("pick_a_record"))
        e164 = _number(scope, body.number).e164
        chosen = _resolve(body, await find_candidates(runtime, scope, body.number))
        how = agent_choice.How.PRE_CALL
    async with runtime.sessions.begin() as session:
        intent_id = await sql.run(
            session,
            dial_intents.create_intent,
            {
                "company_id": actor.company_id,
                "user_id": user_id,
                "phone_e164": e164,
                "provider_call_id": body.provider_call_id,
                "how": how.value,
                "choices": call_choices.choices_json(chosen),
                "window_seconds": body.window_seconds,
                "created_at": runtime.clock(),
            },
        )
    binds = (
        f"call {body.provider_call_id}"
        if body.provider_call_id
        else f"your next call to {e164} within {body.window_seconds} s"
    )
    answer: dict[str, Any] = {"id": intent_id, "number": e164, "how": how.value}
    answer["binds_to"] = binds
    answer["confirmed"] = _confirmed(chosen)
    await broker(runtime.engine).publish(actor.company_id, user_id, {"type": "intent", **answer})
    return IntentMade.model_validate(answer)


async def _agent_of(
    runtime: Runtime, actor: Actor, user_id: str | None, loc: tuple[str, str]
) -> str:
    """Return the agent a dialer request is for: the caller, or one of the company's users."""
    if user_id is not None and not actor.is_admin:
        raise HTTPException(403, refusal("admin_only_for_another"))
    agent = user_id or actor.user_id
    if agent is None:
        raise refuse(loc, refusal("agent_required"))
    if user_id is not None:
        async with runtime.reads() as session:
            role = await sql.run(session, users.user_role, actor.company_id, user_id)
        if role is None:
            raise refuse(loc, refusal("no_user", user_id=user_id))
    return agent


async def _click_to_dial(
    runtime: Runtime, actor: Actor, body: IntentIn
) -> tuple[tuple[agent_choice.Choice, ...], str]:
    """Take the CRM page's record, once found in that CRM: no gating, no question asked."""
    async with runtime.reads() as session:
        rows = await sql.run(session, integrations.list_integrations, actor.company_id)
    wanted = [r for r in rows if body.integration_id in (None, r["id"])]
    if not wanted:
        unknown = refusal("no_integration", integration_id=str(body.integration_id))
        raise refuse(("body", "integration_id"), unknown)
    integration = wanted[0]
    e164 = _number([integration], body.number).e164
    found = (await find_candidates(runtime, [integration], body.number))[integration["id"]]
    given = [CrmRecord(str(body.crm_record_id), ObjectType.CONTACT, "")]
    try:
        connector = connector_for(runtime, integration)
        resolved = await record_lookup.in_integration(connector, given, found)
    except ConnectorError as err:
        raise HTTPException(502, refusal("crm_unreachable_record", reason=str(err))) from err
    if not resolved.records:
        missing = refusal("no_crm_record", record_id=str(body.crm_record_id))
        raise refuse(("body", "crm_record_id"), missing)
    record = resolved.records[0]
    item = agent_choice.Choice(integration["id"], record.id, record.object_type, record.name)
    return (item,), e164


async def _own_call(runtime: Runtime, actor: Actor, call_id: str) -> call_history.CallRow:
    async with runtime.reads() as session:
        call = await sql.run(session, call_history.get_call, actor.company_id, call_id)
    if call is None or not actor.may_act_on(call["user_id"]):  # the query names the company
        raise HTTPException(404, refusal("no_call_of_yours", call_id=call_id))
    return call


def _external(call: call_history.CallRow) -> str:
    raw = call["from_number"] if call["direction"] == "incoming" else call["to_number"]
    if not raw:
        raise HTTPException(409, refusal("no_external_number"))
    return str(raw)


@router.get("/calls/{call_id}/candidates", responses={**NOT_FOUND, **CONFLICT})
async def call_candidates(
    call_id: PathId, actor: ActorDep, runtime: RuntimeDep, object_type: ObjectType | None = None
) -> CallCandidates:
    """List the records matching a call's number (filterable by object type), and the choice."""
    call = await _own_call(runtime, actor, call_id)
    scope = await _scope(runtime, actor)
    found = await find_candidates(runtime, scope, _external(call))
    async with runtime.reads() as session:
        chosen = await sql.run(session, call_choices.history, actor.company_id, call_id)
    return CallCandidates.model_validate(
        {
            "call_id": call_id,
            "state": call["state"],
            **show(found, object_type),
            "chosen": [c for c in chosen if c.current],
        }
    )


@router.post("/calls/{call_id}/selection", responses={**NOT_FOUND, **CONFLICT})
async def select(
    call_id: PathId, body: SelectionIn, actor: ActorDep, runtime: RuntimeDep
) -> SelectionMade:
    """Choose the record(s) for a call: during it, in the grace window, or later (it moves)."""
    call = await _own_call(runtime, actor, call_id)
    scope = await _scope(runtime, actor)
    number = _external(call)
    chosen = _resolve(body, await find_candidates(runtime, scope, number))
    final = call["state"] in ("ended", "missed", "voicemail")
    async with runtime.sessions.begin() as session:
        await sql.run(
            session, call_choices.replace_choices, actor.company_id, call_id, chosen,
            how=agent_choice.How.IN_CALL.value, user_id=actor.user_id, now=runtime.clock(),
        )  # fmt: skip
        woken = await _resync(session, runtime.queue, call, scope, chosen, number) if final else []
    for lock_key in woken:  # a sync waiting out the grace window runs now, with the choice
        await runtime.queue.wake(lock_key)
    if final:
        runtime.queue.notify()
    answer: dict[str, Any] = {"call_id": call_id, "confirmed": _confirmed(chosen)}
    answer["applies"] = "now: the call is synced again" if final else "at the end of the call"
    if call["user_id"]:
        event = {"type": "selection", **answer}
        await broker(runtime.engine).publish(actor.company_id, call["user_id"], event)
    return SelectionMade.model_validate(answer)


async def _resync(
    session: AsyncSession,
    queue: JobQueue,
    call: call_history.CallRow,
    scope: list[IntegrationRow],
    chosen: tuple[agent_choice.Choice, ...],
    raw: str,
) -> list[str]:
    """Sync the finished call again in each integration whose choice changed (it moves).

    Return the lock keys of those syncs: one already waiting for the end of the agent's grace
    window holds the queueing lock, so the new request is dropped and the waiting one is woken.
    """
    locks = []
    for integration in scope:
        if not any(c.integration_id == integration["id"] for c in chosen):
            continue
        number = normalize(raw, integration["default_region"])
        e164 = number.e164 if isinstance(number, PhoneNumber) else None
        job = jobs.sync_job(call["company_id"], call["id"], integration["id"], e164)
        await queue.enqueue(
            await session.connection(),
            job.task,
            job.payload,
            lock_key=job.lock_key,
            queueing_lock=job.queueing_lock,
        )
        if job.lock_key:
            locks.append(job.lock_key)
    return locks


@router.get(
    "/events",
    response_class=EventStream,
    responses={
        **in_json({**AUTHENTICATED, **FORBIDDEN}),
        200: {"content": {"text/event-stream": {"schema": SSE_EVENT}}},
    },
)
async def events(
    request: Request, actor: ActorDep, user_id: Annotated[Id | None, Query()] = None
) -> EventStream:
    """Stream the agent's dialer events (Server-Sent Events): ringing calls, confirmations."""
    runtime: Runtime = request.app.state.runtime
    agent = await _agent_of(runtime, actor, user_id, ("query", "user_id"))
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    stream = _stream(runtime, actor.company_id, agent, request)
    return EventStream(stream, headers=headers)


async def _stream(
    runtime: Runtime, company_id: str, user_id: str, request: Request
) -> AsyncIterator[str]:
    async with broker(runtime.engine).subscribe(company_id, user_id) as queue:
        yield f"event: ready\ndata: {json.dumps({'user_id': user_id})}\n\n"
        while not await request.is_disconnected():
            try:
                item = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            yield f"event: {item.get('type', 'message')}\ndata: {json.dumps(item, default=str)}\n\n"
