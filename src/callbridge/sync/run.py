"""Sync one final call to one integration: match, classify, plan by the matrix, write once."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from callbridge.connectors.base import (
    Capability,
    Connector,
    supported,
    supports,
)
from callbridge.domain.call import fold
from callbridge.domain.phone import NoExternalNumber, PhoneNumber
from callbridge.domain.record import CrmRecord, ObjectType
from callbridge.errors import AuthFailed, ConnectorError, RateLimited
from callbridge.queue.base import Payload
from callbridge.queue.breaker import Breaker, BreakerPolicy
from callbridge.rules import agent_choice
from callbridge.rules.automatic_pick import pick
from callbridge.rules.external_party import external_number
from callbridge.rules.matrix import ActionType, Matrix, parse_matrix
from callbridge.rules.plan import ContactCell, Step, contact_cell, plan
from callbridge.rules.policy import CreationPolicy, decide_creation
from callbridge.rules.scenario import Scenario, classify
from callbridge.runtime import Runtime
from callbridge.runtime.connectors import connector_for
from callbridge.storage import accounts, agent_choices, call_history, integrations, matrices, units
from callbridge.sync import actions, people, record_lookup, writes
from callbridge.sync.writes import SyncContext, save_sync


@dataclass(frozen=True)
class Loaded:
    """Everything a sync reads before it talks to the CRM, read in one transaction."""

    ctx: SyncContext
    number: PhoneNumber | NoExternalNumber
    user_id: str | None
    agent: dict[str, str] | None
    directory: people.Directory
    decided: tuple[str, int] | None  # an earlier run's scenario key and matrix version
    declined: str | None  # why an earlier run created no contact for the unknown caller
    matrix_version: int
    matrix_json: dict[str, Any]
    may_have_choice: bool


# A paused integration's calls wait without dying; resuming it (the API) wakes them at once.
PAUSED_RECHECK_SECONDS = 300.0


async def sync_call(runtime: Runtime, payload: Payload) -> None:
    """Match the call's external number in one integration and carry out its scenario's plan."""
    loaded = await _load(runtime, payload)
    if loaded is None:  # the call or the integration was deleted meanwhile
        return
    ctx, number = loaded.ctx, loaded.number
    if isinstance(number, NoExternalNumber):
        reason = f"no external number to match ({number.reason}: {number.raw!r})"
        await save_sync(
            runtime, ctx, status="skipped", reason=reason, no_number_reason=number.reason.value
        )
        return
    if ctx.integration["status"] != "active":
        reason = f"integration is paused: {ctx.integration['status_reason']}"
        await save_sync(runtime, ctx, status="waiting", reason=reason, external_number=number.e164)
        raise RateLimited(reason, PAUSED_RECHECK_SECONDS)  # resuming it wakes the call sooner
    connector = connector_for(runtime, ctx.integration)
    policy = BreakerPolicy.from_settings(runtime.settings)
    breaker = Breaker(runtime.engine, runtime.queue, policy, runtime.clock)
    try:
        async with breaker.guard(ctx.company_id, ctx.integration_id):
            await _sync(runtime, loaded, connector, number)
    except ConnectorError as err:
        # Waiting for a limit, a paused integration or an unreachable CRM is not a failure.
        waits = isinstance(err, RateLimited | AuthFailed)
        await save_sync(
            runtime,
            ctx,
            status="waiting" if waits else "failed",
            reason=f"{type(err).__name__}: {err}",
            external_number=number.e164,
        )
        if isinstance(err, AuthFailed):
            await writes.pause(runtime, ctx, str(err))
            raise RateLimited(f"integration paused: {err}", PAUSED_RECHECK_SECONDS) from err
        raise
    except Exception as err:
        # Keep what was done for the call's page, and never leave it "running": the retry goes on.
        why = "interrupted" if ctx.journal else f"internal error ({type(err).__name__})"
        await save_sync(runtime, ctx, status="failed", reason=f"{why}; retrying")
        raise


async def _load(runtime: Runtime, payload: Payload) -> Loaded | None:
    return await units.read(runtime.engine, functools.partial(_read_inputs, payload))


def _read_inputs(payload: Payload, db: Connection) -> Loaded | None:
    """Read the call, the integration and what earlier runs left, in one transaction."""
    company_id = payload["company_id"]
    row = call_history.get_call(db, company_id, payload["call_id"])
    integration = integrations.get_integration(db, company_id, payload["integration_id"])
    if row is None or integration is None:
        return None
    call = fold(call_history.load_events(db, company_id, row["source_id"], row["provider_call_id"]))
    company = accounts.get_company(db, company_id)
    assert company is not None
    extensions = accounts.extensions(db, company_id)
    number = external_number(call, integration["default_region"], company, extensions)
    e164 = number.e164 if isinstance(number, PhoneNumber) else None
    earlier = call_history.get_sync(db, company_id, row["id"], integration["id"])
    decided, declined = None, None
    if earlier is not None and earlier["status"] == "no_match":
        declined = earlier["reason"] or "no contact was created"
    if earlier is not None and earlier["scenario"] is not None:
        decided = (earlier["scenario"], earlier["matrix_version"])
        stored = matrices.version(db, company_id, integration["id"], decided[1])
        assert stored is not None
        version, matrix_json = decided[1], stored
    else:
        version, matrix_json = matrices.current(db, company_id, integration["id"])
    links = call_history.get_links(db, company_id, row["id"], integration["id"])
    claim = call_history.get_claim(db, company_id, integration["id"], e164) if e164 else None
    may_choose = call.crm_record_id is None and (
        agent_choices.has_choice(db, company_id, row["id"])
        or agent_choices.has_intent(db, company_id, row["user_id"], e164)
    )
    directory = people.load_directory(db, company_id, integration["id"])
    ctx = SyncContext(company_id, row["id"], integration, call, links, claim)
    return Loaded(
        ctx, number, row["user_id"], row["agent"], directory, decided, declined, version,
        matrix_json, may_choose,
    )  # fmt: skip


async def _sync(
    runtime: Runtime, loaded: Loaded, connector: Connector, number: PhoneNumber
) -> None:
    ctx = loaded.ctx
    candidates = await connector.find_by_phone(number)
    who = await people.resolve_for(
        runtime,
        ctx.company_id,
        ctx.integration_id,
        loaded.user_id,
        loaded.agent,
        connector,
        refresh=True,
        directory=loaded.directory,
    )
    # The contact an earlier run of this sync created is not a record found by the number.
    created = writes.created_by_this_call(ctx, candidates, number)
    found = [c for c in candidates if created is None or c.id != created.id]
    matrix, scenario = _decide(loaded, bool(found), who)
    if scenario is None:
        await save_sync(runtime, ctx, status="skipped", reason="internal calls are not synced")
        return
    writes.note_sync(
        ctx,
        status="running",
        external_number=number.e164,
        scenario=scenario.key,
        matrix_version=loaded.matrix_version,
        matched=[_summary(c) for c in found],
    )
    targets, rule = await _targets(runtime, loaded, candidates, number, connector, created)
    if not targets:
        if created is not None:  # an interrupted run created it: this call's contact
            created = writes.adopt_contact(runtime, ctx, created, number)
        else:
            created = await _maybe_create(runtime, loaded, connector, number, matrix, scenario)
        if created is None:
            return
        targets, rule = [created], writes.creation_rule(ctx, created)
    # A later run keeps the records of the first: the call's page keeps the first run's reason.
    # It is noted before the writes, so it is written with the run's first link even if the
    # run stops before its end.
    if not rule.startswith("kept:"):
        writes.note_sync(ctx, match_rule=rule)
    await _carry_out(runtime, ctx, connector, number, matrix, scenario, who, targets)
    await save_sync(runtime, ctx, status="done", reason=None)


def _decide(loaded: Loaded, matched: bool, who: people.People) -> tuple[Matrix, Scenario | None]:
    """Classify once per call: a retry or late data reuses the first run's scenario and matrix."""
    matrix = _parsed(loaded.ctx.integration_id, loaded.matrix_version, loaded.matrix_json)
    if loaded.decided is not None:
        return matrix, Scenario.from_key(loaded.decided[0])
    scenario = classify(
        loaded.ctx.call,
        matched=matched,
        agent_mapped=who.agent_mapped,
        voicemail_is_missed=matrix.voicemail_is_missed,
    )
    return matrix, scenario


# Matrix versions never change once saved, so each is parsed once per process.
_MATRICES: dict[tuple[str, int], Matrix] = {}


def _parsed(integration_id: str, version: int, data: dict[str, Any]) -> Matrix:
    key = (integration_id, version)
    matrix = _MATRICES.get(key)
    if matrix is None:
        if len(_MATRICES) > 1024:
            _MATRICES.clear()
        matrix = _MATRICES[key] = parse_matrix(data)
    return matrix


async def _maybe_create(
    runtime: Runtime,
    loaded: Loaded,
    connector: Connector,
    number: PhoneNumber,
    matrix: Matrix,
    scenario: Scenario,
) -> CrmRecord | None:
    """Create the contact when the policy (or the matrix's override) says so.

    The decision is the call's first: a policy change applies to the calls processed after it,
    not to late data of a call already decided without a contact.
    """
    ctx = loaded.ctx
    policy = decide_creation(
        CreationPolicy(ctx.integration["creation_policy"]), ctx.call.call_types()
    )
    cell = contact_cell(matrix, scenario, policy.create, policy.reason)
    if loaded.declined is not None:
        cell = ContactCell(False, "first decision", loaded.declined)
    if not supports(connector, Capability.CREATE_CONTACT):
        cell = ContactCell(False, "capability", "the CRM cannot create contacts")
    elif cell.create:
        return await writes.create_contact(runtime, ctx, connector, number, cell.reason)
    writes.action(runtime, ctx, "create_contact", number.e164, "skipped", cell.reason)
    await save_sync(runtime, ctx, status="no_match", reason=cell.reason)
    return None


async def _carry_out(
    runtime: Runtime,
    ctx: SyncContext,
    connector: Connector,
    number: PhoneNumber,
    matrix: Matrix,
    scenario: Scenario,
    who: people.People,
    targets: list[CrmRecord],
) -> None:
    """Resolve the deal, log the call on every target, then run the remaining steps."""
    steps = plan(matrix, scenario, supported(connector))
    outcome = "answered" if scenario.outcome == "answered" else "missed"
    facts = actions.Facts(
        call_key=f"callbridge:{ctx.call_id}",
        scenario=scenario,
        record=targets[0],
        people=who,
        words=actions.words(ctx.call, number.international(), who, outcome),
        moment=ctx.call.ended_at or ctx.call.started_at or runtime.clock(),
        utm=ctx.call.utm,
    )
    deal, made = await actions.resolve_deal(connector, matrix, steps, facts)
    if made is not None:
        writes.action(runtime, ctx, "create_deal", "deal", made.status, made.reason, made.result_id)
    attach_to_deal = any(
        s.action.type is ActionType.ATTACH_RECORDING and "deal" in s.action.to and not s.skip
        for s in steps
    )
    for record in targets:
        deal_id = deal.id if deal and attach_to_deal and record is targets[0] else None
        await writes.log_call(runtime, ctx, connector, record, number, deal_id, who.agent_crm_id)
    for step in steps:
        await _run_step(runtime, ctx, connector, step, facts, deal)


async def _run_step(
    runtime: Runtime,
    ctx: SyncContext,
    connector: Connector,
    step: Step,
    facts: actions.Facts,
    deal: Any,
) -> None:
    if step.action.type is ActionType.CREATE_DEAL:
        return  # done by resolve_deal
    if step.skip:
        writes.action(runtime, ctx, step.action.type, step.key, "skipped", step.skip)
        return
    if step.action.type is ActionType.ATTACH_RECORDING:
        waiting = ctx.call.recording_url is None
        writes.action(
            runtime,
            ctx,
            step.action.type,
            step.key,
            "waiting" if waiting else "done",
            "no recording yet; it is attached when it arrives" if waiting else None,
        )
        return
    result = await actions.run_step(connector, step, facts, deal)
    writes.action(
        runtime, ctx, step.action.type, step.key, result.status, result.reason, result.result_id
    )


async def _targets(
    runtime: Runtime,
    loaded: Loaded,
    candidates: list[CrmRecord],
    number: PhoneNumber,
    connector: Connector,
    created: CrmRecord | None = None,
) -> tuple[list[CrmRecord], str]:
    """Honour the agent's choice (moving earlier logs), else keep links, else click-to-dial/rule."""
    ctx = loaded.ctx
    chosen = None
    if loaded.may_have_choice:  # click-to-dial from a CRM page asks no question: never here
        chosen = await agent_choices.choices_for_sync(
            runtime.sessions,
            ctx.company_id,
            ctx.call_id,
            ctx.integration_id,
            number.e164,
            runtime.clock(),
        )
    found = [c for c in candidates if created is None or c.id != created.id]
    if chosen is not None:
        resolved = await record_lookup.in_integration(
            connector, agent_choice.as_records(chosen.choices, candidates), candidates
        )
        if not resolved.records:
            return _by_number(found, resolved.missing, "chosen")
        targets = resolved.records
        logged = {record_id: row["activity_id"] for record_id, row in ctx.links.items()}
        for record_id in agent_choice.stale(logged, targets):
            removed = False
            if logged[record_id] and supports(connector, Capability.ACTIVITY_REMOVAL):
                removed = await connector.remove_call(logged[record_id])
            await agent_choices.drop_link(
                runtime.sessions, ctx.company_id, ctx.call_id, ctx.integration_id, record_id
            )
            del ctx.links[record_id]
            note = "moved to the chosen record" + ("" if removed else "; the old activity stays")
            status = "done" if removed else "noted"
            writes.action(runtime, ctx, "move_call", record_id, status, note)
        return targets, agent_choice.rule(chosen.how, chosen.who)
    if ctx.links:
        known = {c.id: c for c in candidates}
        return [
            known.get(record_id) or CrmRecord(record_id, ObjectType(row["object_type"]), "")
            for record_id, row in ctx.links.items()
        ], "kept: the records this call was already logged on"
    clicked = ctx.call.crm_record_id
    if clicked is not None:
        given = [CrmRecord(clicked, ObjectType.CONTACT, "")]
        resolved = await record_lookup.in_integration(connector, given, candidates)
        if not resolved.records:
            return _by_number(found, resolved.missing, "click-to-dial")
        return resolved.records, pick(resolved.records, clicked).rule
    selection = pick(found)
    return list(selection.records), selection.rule


def _by_number(found: list[CrmRecord], missing: list[str], how: str) -> tuple[list[CrmRecord], str]:
    """Fall back to the automatic rule when the records given by id are not in the CRM."""
    selection = pick(found)
    return list(selection.records), record_lookup.fallback_rule(missing, how, selection.rule)


def _summary(record: CrmRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "object_type": record.object_type.value,
        "name": record.name,
        "owner": record.owner,
        "updated_at": record.updated_at.isoformat() if record.updated_at else None,
    }
