"""The record-level writes of a sync, each exactly once: contact under a claim, call under a link.

Also the bookkeeping every step leaves behind (actions, sync status) for the call's page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from callbridge.connectors.base import Connector
from callbridge.domain.activity import ActivityDraft
from callbridge.domain.call import Call, CallState
from callbridge.domain.event import Direction
from callbridge.domain.phone import PhoneNumber
from callbridge.domain.record import ContactDraft, CrmRecord, ObjectType
from callbridge.rules.policy import contact_name
from callbridge.runtime import Runtime
from callbridge.storage import calls, integrations

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


async def create_contact(
    runtime: Runtime, ctx: SyncContext, connector: Connector, number: PhoneNumber, reason: str
) -> CrmRecord:
    """Create the contact under a claim, so a crash or a retry never creates a second one."""
    name = contact_name(
        ctx.integration["language"], ctx.integration["name_template"], number.international()
    )
    async with runtime.reads() as session:
        claim = await calls.get_claim(session, ctx.integration_id, number.e164)
    now = runtime.clock()
    if claim and claim["status"] == "done" and now - claim["created_at"] < CLAIM_TRUST:
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
    await action(runtime, ctx, "create_contact", number.e164, "done", reason, record.id)
    return record


async def log_call(
    runtime: Runtime,
    ctx: SyncContext,
    connector: Connector,
    record: CrmRecord,
    number: PhoneNumber,
    deal_id: str | None = None,
) -> str:
    """Log the call on ``record`` (and its deal) once; later runs update the same activity."""
    draft = activity_draft(ctx, record.id, number, deal_id)
    async with runtime.reads() as session:
        known = await calls.get_link(session, ctx.call_id, ctx.integration_id, record.id)
    activity_id = known["activity_id"] if known else None
    if known and activity_id is None:  # interrupted after the claim: was the activity written?
        activity_id = await connector.find_call(record.id, draft.external_id)
    if activity_id is not None:
        await connector.update_call(activity_id, draft)
        await link(runtime, ctx, record, activity_id)
        await action(runtime, ctx, "update_call", record.id, "done", None, activity_id)
        return str(activity_id)
    await link(runtime, ctx, record, None)
    activity_id = await connector.log_call(draft)
    await link(runtime, ctx, record, activity_id)
    await action(runtime, ctx, "log_call", record.id, "done", None, activity_id)
    return activity_id


def activity_draft(
    ctx: SyncContext, record_id: str, number: PhoneNumber, deal_id: str | None = None
) -> ActivityDraft:
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
        deal_id=deal_id,
    )


async def link(
    runtime: Runtime, ctx: SyncContext, record: CrmRecord, activity_id: str | None
) -> None:
    """Record where the call's activity on ``record`` went (pending until written)."""
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


async def action(
    runtime: Runtime,
    ctx: SyncContext,
    action: str,
    target: str,
    status: str,
    reason: str | None,
    result_id: str | None = None,
) -> None:
    """Record one action's status, reason and result on the call's page."""
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


async def save_sync(runtime: Runtime, ctx: SyncContext, **values: Any) -> None:
    """Record how the call was matched in the integration, and where the sync stands."""
    async with runtime.sessions.begin() as session:
        await calls.save_sync(
            session, ctx.company_id, ctx.call_id, ctx.integration_id, runtime.clock(), **values
        )


async def pause(runtime: Runtime, ctx: SyncContext, reason: str) -> None:
    """Pause the integration after the CRM refused its credentials."""
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
