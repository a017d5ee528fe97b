"""Sync one final call to one integration: match, decide, create if allowed, log exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from callbridge.connectors.base import Connector, IntegrationContext
from callbridge.connectors.registry import factory
from callbridge.domain.activity import ActivityDraft
from callbridge.domain.call import Call, CallState, fold
from callbridge.domain.event import Direction
from callbridge.domain.phone import NoExternalNumber, PhoneNumber
from callbridge.domain.record import ContactDraft, CrmRecord, ObjectType
from callbridge.errors import AuthFailed, ConnectorError
from callbridge.matching import external_number
from callbridge.queue.base import Payload
from callbridge.rules.policy import CreationPolicy, contact_name, decide_creation
from callbridge.rules.selection import pick
from callbridge.runtime import Runtime
from callbridge.storage import accounts, calls, integrations
from callbridge.storage.tables import activity_links

# A contact we created is trusted for this long even if the CRM's search does not show it yet
# (search indexes of hosted CRMs lag behind their writes by seconds).
CLAIM_TRUST = timedelta(minutes=10)


@dataclass(frozen=True)
class SyncContext:
    """What one sync job works on."""

    company_id: str
    call_id: str
    integration: dict[str, Any]
    call: Call

    @property
    def integration_id(self) -> str:
        """Return the integration's id."""
        return str(self.integration["id"])


async def sync_call(runtime: Runtime, payload: Payload) -> None:
    """Match the call's external number in one integration and log the call on the record(s)."""
    loaded = await _load(runtime, payload)
    if loaded is None:  # the call or the integration was deleted meanwhile
        return
    ctx, number = loaded
    if isinstance(number, NoExternalNumber):
        reason = f"no external number to match ({number.reason}: {number.raw!r})"
        await _save_sync(
            runtime, ctx, status="skipped", reason=reason, no_number_reason=number.reason.value
        )
        return
    if ctx.integration["status"] != "active":
        raise AuthFailed(f"integration is paused: {ctx.integration['status_reason']}")
    connector = connector_for(runtime, ctx.integration)
    try:
        await _sync(runtime, ctx, connector, number)
    except ConnectorError as err:
        await _save_sync(
            runtime,
            ctx,
            status="failed",
            reason=f"{type(err).__name__}: {err}",
            external_number=number.e164,
        )
        if isinstance(err, AuthFailed):
            await _pause(runtime, ctx, str(err))
        raise


async def _load(
    runtime: Runtime, payload: Payload
) -> tuple[SyncContext, PhoneNumber | NoExternalNumber] | None:
    async with runtime.sessions() as session:
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
        config=integration["config"] or {},
        credentials=credentials,
        http=runtime.http,
        sessions=runtime.sessions,
        clock=runtime.clock,
    )
    return factory(integration["connector"])(context)


async def _sync(
    runtime: Runtime, ctx: SyncContext, connector: Connector, number: PhoneNumber
) -> None:
    candidates = await connector.find_by_phone(number)
    targets, rule = await _targets(runtime, ctx, candidates)
    if not targets:
        decision = decide_creation(
            CreationPolicy(ctx.integration["creation_policy"]), ctx.call.call_types()
        )
        if not decision.create:
            await _action(runtime, ctx, "create_contact", number.e164, "skipped", decision.reason)
            await _save_sync(
                runtime,
                ctx,
                status="no_match",
                reason=decision.reason,
                external_number=number.e164,
                matched=[],
            )
            return
        targets = [await _create_contact(runtime, ctx, connector, number, decision.reason)]
        rule = f"created a contact: {decision.reason}"
    for record in targets:
        await _log(runtime, ctx, connector, record, number)
    await _save_sync(
        runtime,
        ctx,
        status="done",
        reason=None,
        external_number=number.e164,
        matched=[_summary(c) for c in candidates],
        match_rule=rule,
    )


async def _targets(
    runtime: Runtime, ctx: SyncContext, candidates: list[CrmRecord]
) -> tuple[list[CrmRecord], str]:
    """Keep the records a previous run logged on; otherwise choose by click-to-dial or rule."""
    async with runtime.sessions() as session:
        rows = (
            await session.execute(
                select(activity_links.c.record_id, activity_links.c.object_type).where(
                    activity_links.c.call_id == ctx.call_id,
                    activity_links.c.integration_id == ctx.integration_id,
                )
            )
        ).all()
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


async def _create_contact(
    runtime: Runtime, ctx: SyncContext, connector: Connector, number: PhoneNumber, reason: str
) -> CrmRecord:
    """Create the contact under a claim, so a crash or a retry never creates a second one."""
    name = contact_name(
        ctx.integration["language"], ctx.integration["name_template"], number.international()
    )
    async with runtime.sessions() as session:
        claim = await calls.get_claim(session, ctx.integration_id, number.e164)
    now = runtime.clock()
    if claim and claim["status"] == "done" and now - _utc(claim["created_at"]) < CLAIM_TRUST:
        return CrmRecord(claim["record_id"], ObjectType.CONTACT, name, (number.e164,))
    values = {
        "company_id": ctx.company_id,
        "integration_id": ctx.integration_id,
        "phone_e164": number.e164,
        "call_id": ctx.call_id,
        "created_at": now,
    }
    async with runtime.sessions.begin() as session:
        await calls.write_claim(session, {**values, "status": "pending"})
    record = await connector.create_contact(ContactDraft(name=name, phone_e164=number.e164))
    async with runtime.sessions.begin() as session:
        await calls.write_claim(session, {**values, "status": "done", "record_id": record.id})
    await _action(runtime, ctx, "create_contact", number.e164, "done", reason, record.id)
    return record


async def _log(
    runtime: Runtime,
    ctx: SyncContext,
    connector: Connector,
    record: CrmRecord,
    number: PhoneNumber,
) -> None:
    """Log the call on ``record`` once; later runs update the same activity."""
    draft = activity_draft(ctx, record.id, number)
    async with runtime.sessions() as session:
        link = await calls.get_link(session, ctx.call_id, ctx.integration_id, record.id)
    activity_id = link["activity_id"] if link else None
    if link and activity_id is None:  # interrupted after the claim: was the activity written?
        activity_id = await connector.find_call(record.id, draft.external_id)
    if activity_id is not None:
        await connector.update_call(activity_id, draft)
        await _link(runtime, ctx, record, activity_id)
        await _action(runtime, ctx, "update_call", record.id, "done", None, activity_id)
        return
    await _link(runtime, ctx, record, None)
    activity_id = await connector.log_call(draft)
    await _link(runtime, ctx, record, activity_id)
    await _action(runtime, ctx, "log_call", record.id, "done", None, activity_id)


def activity_draft(ctx: SyncContext, record_id: str, number: PhoneNumber) -> ActivityDraft:
    """Describe the call as the activity to write on ``record_id``."""
    call = ctx.call
    status = {CallState.ENDED: "answered", CallState.VOICEMAIL: "voicemail"}.get(
        call.state, "missed" if call.direction is Direction.INCOMING else "no_answer"
    )
    incoming = call.direction is Direction.INCOMING
    label = {
        "answered": "call",
        "voicemail": "voicemail",
        "missed": "missed call",
        "no_answer": "unanswered call",
    }[status]
    subject = f"{'Incoming' if incoming else 'Outgoing'} {label} " + (
        f"from {number.international()}" if incoming else f"to {number.international()}"
    )
    agent = call.agent.name or call.agent.email or call.agent.id if call.agent else None
    return ActivityDraft(
        external_id=f"callbridge:{ctx.call_id}",
        record_id=record_id,
        direction=call.direction.value if call.direction else "incoming",
        status=status,
        subject=subject,
        started_at=call.started_at,
        duration=call.duration,
        agent=agent,
        recording_url=call.recording_url,
        notes=call.notes,
        tags=call.tags,
        disposition=call.disposition,
    )


def _summary(record: CrmRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "object_type": record.object_type.value,
        "name": record.name,
        "owner": record.owner,
        "updated_at": record.updated_at.isoformat() if record.updated_at else None,
    }


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def _link(
    runtime: Runtime, ctx: SyncContext, record: CrmRecord, activity_id: str | None
) -> None:
    async with runtime.sessions.begin() as session:
        await calls.save_link(
            session,
            {
                "company_id": ctx.company_id,
                "call_id": ctx.call_id,
                "integration_id": ctx.integration_id,
                "record_id": record.id,
                "object_type": record.object_type.value,
                "activity_id": activity_id,
                "status": "done" if activity_id else "pending",
                "updated_at": runtime.clock(),
            },
        )


async def _action(
    runtime: Runtime,
    ctx: SyncContext,
    action: str,
    target: str,
    status: str,
    reason: str | None,
    result_id: str | None = None,
) -> None:
    async with runtime.sessions.begin() as session:
        await calls.save_action(
            session,
            ctx.company_id,
            ctx.call_id,
            ctx.integration_id,
            action,
            target,
            runtime.clock(),
            status=status,
            reason=reason,
            result_id=result_id,
        )


async def _save_sync(runtime: Runtime, ctx: SyncContext, **values: Any) -> None:
    async with runtime.sessions.begin() as session:
        await calls.save_sync(
            session, ctx.company_id, ctx.call_id, ctx.integration_id, runtime.clock(), **values
        )


async def _pause(runtime: Runtime, ctx: SyncContext, reason: str) -> None:
    async with runtime.sessions.begin() as session:
        await integrations.update_integration(
            session,
            ctx.company_id,
            ctx.integration_id,
            runtime.clock(),
            status="paused",
            status_reason=f"CRM refused the credentials: {reason}. "
            "Re-enter them, then replay the dead jobs.",
        )
