"""Sync one final call to one integration: read, decide, carry the decision out, write once.

What is read is in ``inputs``, the decision in ``decide`` (shared with explain), the matrix's
actions in ``executors``, the exactly-once writes in ``writes``.
"""

from __future__ import annotations

import asyncio
import functools
from datetime import timedelta
from typing import Any

from callbridge.connectors.base import Capability, Connector, supports
from callbridge.domain.phone import NoExternalNumber, PhoneNumber
from callbridge.domain.record import CrmRecord
from callbridge.domain.said import Code, Said
from callbridge.errors import (
    AuthFailed,
    ConnectorError,
    DailyLimitReached,
    RateLimited,
    SyncTimedOut,
)
from callbridge.queue import jobs
from callbridge.queue.base import Payload
from callbridge.queue.breaker import Breaker, BreakerPolicy
from callbridge.rules import agent_choice
from callbridge.rules.plan import contact_step
from callbridge.runtime import Runtime
from callbridge.runtime.connectors import connector_for
from callbridge.storage import agent_choices, call_history, integrations, units
from callbridge.storage.agent_choices import Chosen
from callbridge.sync import executors, inputs, writes
from callbridge.sync.decide import Decision, Source, decide
from callbridge.sync.executors import Run, Stage
from callbridge.sync.inputs import Loaded
from callbridge.sync.writes import SyncContext, save_sync

# A paused integration's calls wait without dying; resuming it (the API) wakes them at once.
PAUSED_RECHECK_SECONDS = 300.0


async def sync_call(runtime: Runtime, payload: Payload) -> None:
    """Match the call's external number in one integration and carry out its scenario's plan."""
    loaded = await inputs.load(runtime, payload)
    if loaded is None:  # the call or the integration was deleted meanwhile
        return
    ctx, number = loaded.ctx, loaded.number
    if ctx.integration["status"] == integrations.DISABLED:  # queued before an admin disabled it
        await _skip_disabled(runtime, ctx)
        return
    if isinstance(number, NoExternalNumber):
        reason = Said(Code.SYNC_NO_NUMBER, why=number.reason, raw=repr(number.raw))
        await save_sync(
            runtime, ctx, status="skipped", reason=reason, no_number_reason=number.reason.value
        )
        return
    if ctx.integration["status"] != "active":
        reason = Said(
            Code.SYNC_PAUSED,
            why=ctx.integration["status_reason"],
            why_code=ctx.integration["status_reason_code"] or "",
        )
        await save_sync(runtime, ctx, status="waiting", reason=reason, external_number=number.e164)
        raise RateLimited(reason, PAUSED_RECHECK_SECONDS)  # resuming it wakes the call sooner
    connector = connector_for(runtime, ctx.integration)
    try:
        await _watched(runtime, loaded, connector, number)
    except SyncTimedOut as err:
        reason = Said(Code.SYNC_TIMED_OUT, seconds=f"{err.seconds:g}")
        await save_sync(runtime, ctx, status="failed", reason=reason)
        raise
    except ConnectorError as err:
        # Waiting for a limit, a paused integration or an unreachable CRM is not a failure.
        waits = isinstance(err, RateLimited | AuthFailed)
        await save_sync(
            runtime,
            ctx,
            status="waiting" if waits else "failed",
            reason=Said(
                Code.SYNC_CRM_WAITING if waits else Code.SYNC_CRM_FAILED,
                error_type=type(err).__name__,
                error=err,
            ),
            external_number=number.e164,
        )
        if isinstance(err, DailyLimitReached):
            until = runtime.clock() + timedelta(seconds=err.retry_after)
            await writes.note_daily_limit(runtime, ctx, until)
        if isinstance(err, AuthFailed):
            await writes.pause(runtime, ctx, str(err), err.code)
            raise RateLimited(f"integration paused: {err}", PAUSED_RECHECK_SECONDS) from err
        raise
    except Exception as err:
        # Keep what was done for the call's page, and never leave it "running": the retry goes on.
        why = (
            Said(Code.SYNC_INTERRUPTED)
            if ctx.journal
            else Said(Code.SYNC_INTERNAL_ERROR, error_type=type(err).__name__)
        )
        await save_sync(runtime, ctx, status="failed", reason=why)
        raise


async def _watched(
    runtime: Runtime, loaded: Loaded, connector: Connector, number: PhoneNumber
) -> None:
    """Run the sync through the integration's breaker, stopped if it outlasts its watchdog.

    A run that never ends (a CRM that never answers, a bug that waits forever) would hold its
    job's lease for good while the heartbeat renews it: the call would never sync, never fail.
    Stopped, it is retried with backoff. The breaker does not count it: it says nothing of the
    CRM's health that the requests' own timeouts have not said.
    """
    ctx, limit = loaded.ctx, runtime.settings.sync_timeout_seconds
    policy = BreakerPolicy.from_settings(runtime.settings)
    breaker = Breaker(runtime.engine, runtime.queue, policy, runtime.clock)
    watchdog = asyncio.timeout(limit)
    try:
        guard = breaker.guard(ctx.company_id, ctx.integration_id, loaded.breaker_row)
        async with watchdog, guard:
            await _sync(runtime, loaded, connector, number)
    except TimeoutError:
        if not watchdog.expired():  # raised by the run itself, not by its watchdog
            raise
        raise SyncTimedOut(limit) from None


async def _skip_disabled(runtime: Runtime, ctx: SyncContext) -> None:
    """End a sync of a disabled integration: skipped, or still done if an earlier run was."""
    ids = (ctx.company_id, ctx.call_id, ctx.integration_id)
    earlier = await units.read(runtime.engine, lambda db: call_history.get_sync(db, *ids))
    if earlier is not None and earlier["status"] == "done":
        await save_sync(runtime, ctx, reason=Said(Code.SYNC_DISABLED_AFTER_DONE))
    else:
        await save_sync(runtime, ctx, status="skipped", reason=Said(Code.SYNC_DISABLED))


async def _sync(
    runtime: Runtime, loaded: Loaded, connector: Connector, number: PhoneNumber
) -> None:
    ctx = loaded.ctx
    choice = functools.partial(_choice, runtime, ctx, number)
    found = await inputs.find(runtime, loaded, connector, number, choice, refresh=True)
    decision = decide(loaded, number, found)
    if decision.scenario is None:
        await save_sync(runtime, ctx, status="skipped", reason=Said(Code.SYNC_INTERNAL_CALL))
        return
    if await _held_for_choice(runtime, loaded, decision, found.chosen, number):
        return
    writes.note_sync(
        ctx,
        status="running",
        external_number=number.e164,
        scenario=decision.scenario.key,
        matrix_version=decision.matrix_version,
        matched=[_summary(c) for c in decision.matched],
    )
    for record_id in decision.targets.moves:
        await _move(runtime, ctx, connector, record_id)
    run = Run(runtime, ctx, connector, number, decision, found.people)
    if not await _target(run):
        return
    await _carry_out(run)
    await save_sync(runtime, ctx, status="done", reason=None)


async def _held_for_choice(
    runtime: Runtime, loaded: Loaded, decision: Decision, chosen: Chosen | None, number: PhoneNumber
) -> bool:
    """Wait out the agent's grace window when there is a choice to make; True: the sync waits.

    Nothing is written to the CRM: the call's page says it waits, and the same sync is queued
    again for the window's end, when a choice made meanwhile applies, else the automatic rule.
    """
    ctx = loaded.ctx
    undecided = (
        decision.targets.source is Source.RULE
        and decision.created is None
        and chosen is None
        and ctx.call.crm_record_id is None
    )
    until, matches = loaded.choice_until, len(decision.matched)
    seconds = agent_choice.wait_for_choice(until, runtime.clock(), undecided, matches)
    if seconds <= 0 or until is None:
        return False
    job = jobs.sync_job(
        ctx.company_id, ctx.call_id, ctx.integration_id, number.e164, seconds, choice_until=until
    )
    reason = Said(
        Code.SYNC_WAITING_CHOICE, matches=matches, until=until.isoformat(timespec="seconds")
    )
    ctx.journal.counted = True  # waiting for the agent is not an attempt
    writes.note_sync(
        ctx,
        status="waiting",
        reason=reason,
        external_number=number.e164,
        matched=[_summary(c) for c in decision.matched],
        attempts=0,
    )
    await writes.commit(runtime, ctx, jobs=[job])
    return True


async def _choice(runtime: Runtime, ctx: SyncContext, number: PhoneNumber) -> Chosen | None:
    """Read the agent's choice for the call, binding a fitting dial intent to it first."""
    return await agent_choices.choices_for_sync(
        runtime.sessions,
        ctx.company_id,
        ctx.call_id,
        ctx.integration_id,
        number.e164,
        runtime.clock(),
    )


async def _move(runtime: Runtime, ctx: SyncContext, connector: Connector, record_id: str) -> None:
    """Take the call off a record the agent's choice no longer names."""
    activity_id = ctx.links[record_id]["activity_id"]
    removed = False
    if activity_id and supports(connector, Capability.ACTIVITY_REMOVAL):
        removed = await connector.remove_call(activity_id)
    await agent_choices.drop_link(
        runtime.sessions, ctx.company_id, ctx.call_id, ctx.integration_id, record_id
    )
    del ctx.links[record_id]
    note = "moved to the chosen record" + ("" if removed else "; the old activity stays")
    writes.action(runtime, ctx, "move_call", record_id, "done" if removed else "noted", note)


async def _target(run: Run) -> bool:
    """Settle the records the call goes to, creating its contact if the decision says so."""
    decision, ctx = run.decision, run.ctx
    run.targets = list(decision.targets.records)
    reason = decision.targets.reason
    if not run.targets:
        if decision.created is not None:  # an interrupted run created it: this call's contact
            run.targets = [writes.adopt_contact(run.runtime, ctx, decision.created, run.number)]
        elif decision.creation is not None:
            await executors.execute(run, contact_step(decision.creation))
        if not run.targets:
            return False
        reason = writes.creation_reason(ctx, run.targets[0])
    # A later run keeps the records of the first: the call's page keeps the first run's reason.
    # It is noted before the writes, so it is written with the run's first link even if the
    # run stops before its end.
    if decision.targets.source is not Source.KEPT:
        writes.note_sync(ctx, match_rule=reason.text, match_reason=reason.stored())
    return True


async def _carry_out(run: Run) -> None:
    """Make the call's deal, log the call on every target, then run the follow-up steps."""
    run.deal = await executors.open_deal(run)
    await executors.execute_stage(run, Stage.RECORD)
    for record in run.targets:
        deal_id = executors.deal_to_link(run) if record is run.targets[0] else None
        await writes.log_call(
            run.runtime, run.ctx, run.connector, record, run.number, deal_id,
            run.people.agent_crm_id,
        )  # fmt: skip
    await executors.execute_stage(run, Stage.FOLLOW_UP)


def _summary(record: CrmRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "object_type": record.object_type.value,
        "name": record.name,
        "owner": record.owner,
        "updated_at": record.updated_at.isoformat() if record.updated_at else None,
        # Set when the record matched only through a stored number's second reading (digits
        # whose "+" was dropped): the call's page says so.
        "matched_reading": record.matched_reading,
    }
