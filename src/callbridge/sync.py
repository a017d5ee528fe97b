"""Sync one final call to one integration: match, classify, plan by the matrix, write once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from callbridge import actions, people, writes
from callbridge.connectors.base import Connector, IntegrationContext, SupportsActivityRemoval
from callbridge.connectors.registry import factory
from callbridge.domain.call import fold
from callbridge.domain.phone import NoExternalNumber, PhoneNumber
from callbridge.domain.record import CrmRecord, ObjectType
from callbridge.errors import AuthFailed, ConnectorError
from callbridge.matching import external_number
from callbridge.queue.base import Payload
from callbridge.rules import choice
from callbridge.rules.matrix import ActionType, Matrix, parse_matrix
from callbridge.rules.plan import ContactCell, Step, contact_cell, plan
from callbridge.rules.policy import CreationPolicy, decide_creation
from callbridge.rules.scenario import Scenario, classify
from callbridge.rules.selection import pick
from callbridge.runtime import Runtime
from callbridge.storage import accounts, calls, integrations, matrices, selections
from callbridge.storage.tables import call_syncs
from callbridge.writes import SyncContext, save_sync


async def sync_call(runtime: Runtime, payload: Payload) -> None:
    """Match the call's external number in one integration and carry out its scenario's plan."""
    loaded = await _load(runtime, payload)
    if loaded is None:  # the call or the integration was deleted meanwhile
        return
    ctx, number = loaded
    if isinstance(number, NoExternalNumber):
        reason = f"no external number to match ({number.reason}: {number.raw!r})"
        await save_sync(
            runtime, ctx, status="skipped", reason=reason, no_number_reason=number.reason.value
        )
        return
    if ctx.integration["status"] != "active":
        raise AuthFailed(f"integration is paused: {ctx.integration['status_reason']}")
    connector = connector_for(runtime, ctx.integration)
    try:
        await _sync(runtime, ctx, connector, number)
    except ConnectorError as err:
        await save_sync(
            runtime,
            ctx,
            status="failed",
            reason=f"{type(err).__name__}: {err}",
            external_number=number.e164,
        )
        if isinstance(err, AuthFailed):
            await writes.pause(runtime, ctx, str(err))
        raise


async def _load(
    runtime: Runtime, payload: Payload
) -> tuple[SyncContext, PhoneNumber | NoExternalNumber] | None:
    async with runtime.reads() as session:
        row = await calls.get_call(session, payload["call_id"])
        integration = await integrations.get_integration(
            session, payload["company_id"], payload["integration_id"]
        )
        if row is None or integration is None or row["company_id"] != payload["company_id"]:
            return None
        call = fold(await calls.load_events(session, row["source_id"], row["provider_call_id"]))
        company = await accounts.get_company(session, payload["company_id"])
        extensions = await accounts.extensions(session, payload["company_id"])
    assert company is not None
    number = external_number(call, integration["default_region"], company, extensions)
    return SyncContext(payload["company_id"], row["id"], integration, call), number


def connector_for(runtime: Runtime, integration: dict[str, Any]) -> Connector:
    """Build the connector of an integration with its decrypted credentials."""
    sealed = integration["credentials_encrypted"]
    credentials = runtime.box.open(sealed) if sealed else {}
    assert isinstance(credentials, dict)
    context = IntegrationContext(
        integration_id=integration["id"],
        company_id=integration["company_id"],
        default_region=integration["default_region"],
        config=choice.connector_config(integration["config"] or {}),
        credentials=credentials,
        http=runtime.http,
        sessions=runtime.sessions,
        clock=runtime.clock,
        read_sessions=runtime.reads,
    )
    return factory(integration["connector"])(context)


async def _sync(
    runtime: Runtime, ctx: SyncContext, connector: Connector, number: PhoneNumber
) -> None:
    candidates = await connector.find_by_phone(number)
    who = await people.resolve(runtime, ctx.company_id, ctx.integration_id, ctx.call_id, connector)
    version, matrix, scenario = await _decide(runtime, ctx, bool(candidates), who)
    if scenario is None:
        await save_sync(runtime, ctx, status="skipped", reason="internal calls are not synced")
        return
    await save_sync(
        runtime,
        ctx,
        status="running",
        external_number=number.e164,
        scenario=scenario.key,
        matrix_version=version,
        matched=[_summary(c) for c in candidates],
    )
    targets, rule = await _targets(runtime, ctx, candidates, number, connector)
    if not targets:
        created = await _maybe_create(runtime, ctx, connector, number, matrix, scenario)
        if created is None:
            return
        targets, rule = [created], "created a contact for the unknown caller"
    await _carry_out(runtime, ctx, connector, number, matrix, scenario, who, targets)
    # A later run keeps the records of the first: the call's page keeps the first run's reason.
    kept = rule.startswith("kept:")
    await save_sync(
        runtime, ctx, status="done", reason=None, **({} if kept else {"match_rule": rule})
    )


async def _decide(
    runtime: Runtime, ctx: SyncContext, matched: bool, who: people.People
) -> tuple[int, Matrix, Scenario | None]:
    """Classify once per call: a retry or late data reuses the first run's scenario and matrix."""
    async with runtime.reads() as session:
        row = (
            await session.execute(
                select(call_syncs.c.scenario, call_syncs.c.matrix_version).where(
                    call_syncs.c.call_id == ctx.call_id,
                    call_syncs.c.integration_id == ctx.integration_id,
                )
            )
        ).first()
        if row is not None and row.scenario is not None:
            stored = await matrices.version(session, ctx.integration_id, row.matrix_version)
            assert stored is not None
            return row.matrix_version, parse_matrix(stored), Scenario.from_key(row.scenario)
        version, data = await matrices.current(session, ctx.integration_id)
    matrix = parse_matrix(data)
    scenario = classify(
        ctx.call,
        matched=matched,
        agent_mapped=who.agent_mapped,
        voicemail_is_missed=matrix.voicemail_is_missed,
    )
    return version, matrix, scenario


async def _maybe_create(
    runtime: Runtime,
    ctx: SyncContext,
    connector: Connector,
    number: PhoneNumber,
    matrix: Matrix,
    scenario: Scenario,
) -> CrmRecord | None:
    """Create the contact when the policy (or the matrix's override) says so."""
    policy = decide_creation(
        CreationPolicy(ctx.integration["creation_policy"]), ctx.call.call_types()
    )
    cell = contact_cell(matrix, scenario, policy.create, policy.reason)
    if "create_contact" not in connector.capabilities:
        cell = ContactCell(False, "capability", "the CRM cannot create contacts")
    if not cell.create:
        await writes.action(runtime, ctx, "create_contact", number.e164, "skipped", cell.reason)
        await save_sync(runtime, ctx, status="no_match", reason=cell.reason)
        return None
    return await writes.create_contact(runtime, ctx, connector, number, cell.reason)


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
    steps = plan(matrix, scenario, {str(c) for c in connector.capabilities})
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
        await writes.action(
            runtime, ctx, "create_deal", "deal", made.status, made.reason, made.result_id
        )
    attach_to_deal = any(
        s.action.type is ActionType.ATTACH_RECORDING and "deal" in s.action.to and not s.skip
        for s in steps
    )
    for record in targets:
        deal_id = deal.id if deal and attach_to_deal and record is targets[0] else None
        await writes.log_call(runtime, ctx, connector, record, number, deal_id)
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
        await writes.action(runtime, ctx, step.action.type, step.key, "skipped", step.skip)
        return
    if step.action.type is ActionType.ATTACH_RECORDING:
        waiting = ctx.call.recording_url is None
        await writes.action(
            runtime,
            ctx,
            step.action.type,
            step.key,
            "waiting" if waiting else "done",
            "no recording yet; it is attached when it arrives" if waiting else None,
        )
        return
    result = await actions.run_step(connector, step, facts, deal)
    await writes.action(
        runtime, ctx, step.action.type, step.key, result.status, result.reason, result.result_id
    )


async def _targets(
    runtime: Runtime,
    ctx: SyncContext,
    candidates: list[CrmRecord],
    number: PhoneNumber,
    connector: Connector,
) -> tuple[list[CrmRecord], str]:
    """Honour the agent's choice (moving earlier logs), else keep links, else click-to-dial/rule."""
    chosen = None
    if ctx.call.crm_record_id is None:  # click-to-dial from a CRM page: no question asked
        chosen = await selections.choices_for_sync(
            runtime.sessions, ctx.call_id, ctx.integration_id, number.e164, runtime.clock()
        )
    rows = await selections.links(runtime.sessions, ctx.call_id, ctx.integration_id)
    if chosen is not None:
        targets = choice.as_records(chosen.choices, candidates)
        logged = {r.record_id: r.activity_id for r in rows}
        for record_id in choice.stale(logged, targets):
            removed = False
            if logged[record_id] and isinstance(connector, SupportsActivityRemoval):
                removed = await connector.remove_call(logged[record_id])
            await selections.drop_link(runtime.sessions, ctx.call_id, ctx.integration_id, record_id)
            note = "moved to the chosen record" + ("" if removed else "; the old activity stays")
            status = "done" if removed else "noted"
            await writes.action(runtime, ctx, "move_call", record_id, status, note)
        return targets, choice.rule(chosen.how, chosen.who)
    if rows:
        known = {c.id: c for c in candidates}
        return [
            known.get(r.record_id) or CrmRecord(r.record_id, ObjectType(r.object_type), "")
            for r in rows
        ], "kept: the records this call was already logged on"
    selection = pick(candidates, ctx.call.crm_record_id)
    if ctx.call.crm_record_id and not selection.records:
        record = CrmRecord(ctx.call.crm_record_id, ObjectType.CONTACT, "")
        return [record], "click-to-dial: the record the call was placed from"
    return list(selection.records), selection.rule


def _summary(record: CrmRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "object_type": record.object_type.value,
        "name": record.name,
        "owner": record.owner,
        "updated_at": record.updated_at.isoformat() if record.updated_at else None,
    }
