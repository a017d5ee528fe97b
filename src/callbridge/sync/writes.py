"""The record-level writes of a sync, each exactly once: contact under a claim, call under a link.

Also the bookkeeping every step leaves behind (actions, sync status) for the call's page. It is
kept in the sync's ``Journal`` and written in the same transaction as the next claim or link, or
at the end of the run: a run costs a few transactions, not one per step. A crash loses only
bookkeeping of a run that is then retried, and the retry writes it again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from callbridge.connectors.base import Connector, SupportsContactCreation
from callbridge.domain.activity import ActivityDraft
from callbridge.domain.call import Call, CallState
from callbridge.domain.event import Direction
from callbridge.domain.phone import PhoneNumber
from callbridge.domain.record import ContactDraft, CrmRecord, ObjectType
from callbridge.domain.said import Code, Said, code_of
from callbridge.queue.base import NewJob
from callbridge.rules.match_reason import MatchReason, Why
from callbridge.rules.policy import contact_name
from callbridge.runtime import Runtime
from callbridge.storage import call_history, integrations, sql, units
from callbridge.storage.integrations import IntegrationRow

# A contact we created is trusted for this long even if the CRM's search does not show it yet
# (search indexes of hosted CRMs lag behind their writes by seconds).
CLAIM_TRUST = timedelta(minutes=10)

# What the call's page says of a write an interrupted run made and its retry found.
RESUMED_CREATE = (
    "created by an earlier run of this sync, which stopped before recording it; found by its number"
)
RESUMED_LOG = Said(Code.RESUMED_LOG)
EARLIER = Said(Code.CREATED_EARLIER_NOT_FOUND)


@dataclass
class Journal:
    """A run's sync status and actions, waiting to be written with its next transaction."""

    sync: dict[str, Any] = field(default_factory=dict)
    actions: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    rows: list[Callable[[Connection], object]] = field(default_factory=list)
    counted: bool = False  # the run's attempt is already counted in call_syncs

    def __bool__(self) -> bool:
        """Tell whether anything waits to be written."""
        return bool(self.sync or self.actions or self.rows or not self.counted)


@dataclass(frozen=True)
class SyncContext:
    """What one sync job works on, with what it already knows of earlier runs."""

    company_id: str
    call_id: str
    integration: IntegrationRow
    call: Call
    links: dict[str, dict[str, Any]] = field(default_factory=dict)
    claim: dict[str, Any] | None = None
    journal: Journal = field(default_factory=Journal)

    @property
    def integration_id(self) -> str:
        """Return the integration's id."""
        return str(self.integration["id"])


async def create_contact(
    runtime: Runtime,
    ctx: SyncContext,
    connector: SupportsContactCreation,
    number: PhoneNumber,
    reason: str,
    owner: str | None = None,
) -> CrmRecord:
    """Create the contact (owned by ``owner``, a CRM user id) under a claim, exactly once."""
    name = _contact_name(ctx, number)
    claim = ctx.claim
    now = runtime.clock()
    if claim and claim["status"] == "done" and now - claim["created_at"] < CLAIM_TRUST:
        record = CrmRecord(claim["record_id"], ObjectType.CONTACT, name, (number.e164,))
        if claim["call_id"] != ctx.call_id:  # this call created nothing: say whose it is
            action(runtime, ctx, "create_contact", number.e164, "skipped", EARLIER, record.id)
        return record
    values = _claim_values(ctx, number, now)
    if claim and claim["status"] == "pending":
        # Its create may have reached the CRM, its answer lost: every retry, by any call from
        # the number, keeps the first call's id, which keys the contact in the CRM.
        values["call_id"] = claim["call_id"]
    pending = functools.partial(call_history.write_claim, values={**values, "status": "pending"})
    await commit_before_create(runtime, ctx, connector, pending)
    key = f"callbridge:contact:{values['call_id']}"
    draft = ContactDraft(name=name, phone_e164=number.e164, owner=owner, external_id=key)
    record = await connector.create_contact(draft)
    action(runtime, ctx, "create_contact", number.e164, "done", reason, record.id)
    # Written with the call's pending link, next: a retry in between finds the contact by phone.
    done = {**values, "status": "done", "record_id": record.id}
    ctx.journal.rows.append(functools.partial(call_history.write_claim, values=done))
    return record


def created_by_this_call(
    ctx: SyncContext, candidates: list[CrmRecord], number: PhoneNumber
) -> CrmRecord | None:
    """Return the contact an earlier run of this call's sync created, if there is one.

    An earlier run that stopped right after its create left only its pending claim: the
    contact it made is then the one the search finds named as Callbridge names contacts. This
    call found no record before it created one, and syncs of one number run one at a time, so
    no other sync made it.
    """
    claim = ctx.claim
    if claim is None or claim["call_id"] != ctx.call_id:
        return None
    name = _contact_name(ctx, number)
    if claim["record_id"] is not None:
        known = [c for c in candidates if c.id == claim["record_id"]]
        return known[0] if known else CrmRecord(claim["record_id"], ObjectType.CONTACT, name)
    mine = [c for c in candidates if c.object_type is ObjectType.CONTACT and c.name == name]
    return mine[0] if len(mine) == 1 else None


def adopt_contact(
    runtime: Runtime, ctx: SyncContext, record: CrmRecord, number: PhoneNumber
) -> CrmRecord:
    """Record the contact an interrupted earlier run created, as created by this call."""
    if ctx.claim and ctx.claim["status"] == "done":  # that run recorded it (then failed later)
        return record
    action(runtime, ctx, "create_contact", number.e164, "done", RESUMED_CREATE, record.id)
    created_at = ctx.claim["created_at"] if ctx.claim else runtime.clock()
    done = {**_claim_values(ctx, number, created_at), "status": "done", "record_id": record.id}
    ctx.journal.rows.append(functools.partial(call_history.write_claim, values=done))
    return record


def creation_reason(ctx: SyncContext, record: CrmRecord) -> MatchReason:
    """Say on the call's page why the call went to the contact ``create_contact`` returned."""
    claim = ctx.claim
    if claim and claim["record_id"] == record.id and claim["call_id"] != ctx.call_id:
        return MatchReason(Why.CREATED_EARLIER)
    return MatchReason(Why.CREATED)


def _contact_name(ctx: SyncContext, number: PhoneNumber) -> str:
    """Return the name Callbridge gives a contact it creates for ``number``."""
    integration = ctx.integration
    return contact_name(
        integration["language"], integration["name_template"], number.international()
    )


def _claim_values(ctx: SyncContext, number: PhoneNumber, created_at: datetime) -> dict[str, Any]:
    """Return the claim row of this call on ``number`` (its status and record added by callers)."""
    return {
        "company_id": ctx.company_id,
        "integration_id": ctx.integration_id,
        "phone_e164": number.e164,
        "call_id": ctx.call_id,
        "created_at": created_at,
    }


async def log_call(
    runtime: Runtime,
    ctx: SyncContext,
    connector: Connector,
    record: CrmRecord,
    number: PhoneNumber,
    deal_id: str | None = None,
    agent_crm_id: str | None = None,
) -> str:
    """Log the call on ``record`` (and its deal) once; later runs update the same activity."""
    draft = activity_draft(ctx, record.id, number, deal_id, agent_crm_id)
    known = ctx.links.get(record.id)
    activity_id = known["activity_id"] if known else None
    if known and activity_id is None:  # interrupted after the claim: was the activity written?
        activity_id = await connector.find_call(record.id, draft.external_id)
        if activity_id is not None:  # by this call's interrupted run: logged, not updated
            await connector.update_call(activity_id, draft)
            action(runtime, ctx, "log_call", record.id, "done", RESUMED_LOG, activity_id)
            note_link(runtime, ctx, record, activity_id)
            return str(activity_id)
    if activity_id is not None:
        await connector.update_call(activity_id, draft)
        action(runtime, ctx, "update_call", record.id, "done", None, activity_id)
        if known is None or known["activity_id"] != activity_id:
            note_link(runtime, ctx, record, activity_id)
        return str(activity_id)
    note_link(runtime, ctx, record, None)  # pending until the activity is written
    await commit_before_create(runtime, ctx, connector)
    activity_id = await connector.log_call(draft)
    action(runtime, ctx, "log_call", record.id, "done", None, activity_id)
    # Written with the run's next commit: a retry in between finds the activity by its id.
    note_link(runtime, ctx, record, activity_id)
    return activity_id


def activity_draft(
    ctx: SyncContext,
    record_id: str,
    number: PhoneNumber,
    deal_id: str | None = None,
    agent_crm_id: str | None = None,
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
        agent_crm_id=agent_crm_id,
    )


def note_link(
    runtime: Runtime, ctx: SyncContext, record: CrmRecord, activity_id: str | None
) -> None:
    """Note where the call's activity on ``record`` went, for the run's next commit."""
    row = {
        "company_id": ctx.company_id,
        "call_id": ctx.call_id,
        "integration_id": ctx.integration_id,
        "record_id": record.id,
        "object_type": record.object_type.value,
        "activity_id": activity_id,
        "status": "done" if activity_id else "pending",
        "updated_at": runtime.clock(),
    }
    ctx.links[record.id] = row
    ctx.journal.rows.append(functools.partial(call_history.save_link, values=row))


def action(
    runtime: Runtime,
    ctx: SyncContext,
    action: str,
    target: str,
    status: str,
    reason: str | None,
    result_id: str | None = None,
) -> None:
    """Note one action's status, reason and result for the call's page (written with the run)."""
    ctx.journal.actions[(action, target)] = {
        "now": runtime.clock(),
        "status": status,
        "reason": reason,
        "reason_code": code_of(reason),
        "result_id": result_id,
    }


def note_sync(ctx: SyncContext, **values: Any) -> None:
    """Note how the call was matched in the integration and where the sync stands.

    A ``reason`` is stored with its code and parameters (``reason_code``) when it has them.
    """
    if "reason" in values:
        values["reason_code"] = code_of(values["reason"])
    ctx.journal.sync.update(values)


async def save_sync(runtime: Runtime, ctx: SyncContext, **values: Any) -> None:
    """Note the sync's state and write everything the run noted, now."""
    note_sync(ctx, **values)
    await commit(runtime, ctx)


async def commit_before_create(
    runtime: Runtime,
    ctx: SyncContext,
    connector: object,
    rows: Callable[[Connection], object] | None = None,
) -> None:
    """Write ``rows`` and what the run noted before ``connector`` creates a CRM object.

    A connector that writes its own claim before each create (``claims_before_creates``:
    HubSpot) takes them into that claim's transaction: both are stored before its request, in
    one transaction instead of two. Any other connector's create waits for them here.
    """
    if getattr(connector, "claims_before_creates", False):
        await units.later(runtime.engine, _journal_work(runtime, ctx, rows))
    else:
        await commit(runtime, ctx, rows)


async def commit(
    runtime: Runtime,
    ctx: SyncContext,
    rows: Callable[[Connection], object] | None = None,
    jobs: Sequence[NewJob] = (),
) -> None:
    """Write ``rows`` (a claim, a link), ``jobs`` and what the run noted, in one transaction."""
    work = _journal_work(runtime, ctx, rows)

    def with_jobs(db: Connection) -> tuple[None, list[NewJob]]:
        work(db)
        return None, list(jobs)

    await units.write_with_jobs(runtime.engine, runtime.queue, with_jobs)


def _journal_work(
    runtime: Runtime, ctx: SyncContext, rows: Callable[[Connection], object] | None
) -> Callable[[Connection], None]:
    """Take what the run noted (and ``rows``) off its journal as one write."""
    journal = ctx.journal
    sync, noted, new_run = journal.sync, journal.actions, not journal.counted
    queued = [*journal.rows, *([rows] if rows is not None else [])]
    journal.sync, journal.actions, journal.rows, journal.counted = {}, {}, [], True
    ids = (ctx.company_id, ctx.call_id, ctx.integration_id)
    now = runtime.clock()

    def work(db: Connection) -> None:
        for write in queued:
            write(db)
        if sync or new_run:
            call_history.save_sync(db, *ids, now, new_run=new_run, **sync)
        for (name, target), values in noted.items():
            call_history.save_action(db, *ids, name, target, **values)

    return work


async def pause(runtime: Runtime, ctx: SyncContext, reason: str, code: str) -> None:
    """Pause the integration after the CRM refused its credentials (``code``: which refusal)."""
    async with runtime.sessions.begin() as session:
        await sql.run(
            session,
            integrations.update_integration,
            ctx.company_id,
            ctx.integration_id,
            runtime.clock(),
            unless_status=integrations.DISABLED,  # an admin's "off" outranks the CRM's refusal
            status="paused",
            status_reason=f"CRM refused the credentials: {reason}. "
            "Re-enter them: the waiting calls then sync.",
            status_reason_code=code,
        )


async def note_daily_limit(runtime: Runtime, ctx: SyncContext, until: datetime) -> None:
    """Note on the integration that the CRM's daily limit holds its syncs until ``until``."""
    ids = (ctx.company_id, ctx.integration_id)
    async with runtime.sessions.begin() as session:
        await sql.run(session, integrations.note_daily_limit, *ids, until)
