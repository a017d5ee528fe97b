"""Fold a call's events into one call; once it is final, ask for its sync in each integration."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from callbridge.dialer import events as dialer_events
from callbridge.domain.call import Call, fold
from callbridge.domain.phone import PhoneNumber
from callbridge.fold import handoff, targets
from callbridge.fold.agents import agent_user
from callbridge.queue import jobs, successor
from callbridge.queue.base import NewJob, Payload
from callbridge.rules.external_party import external_number
from callbridge.runtime import Runtime
from callbridge.storage import accounts, agent_choices, call_history, integrations, units


async def fold_call(runtime: Runtime, payload: Payload) -> None:
    """Fold a call's events; once final, enqueue its sync to every integration not disabled."""
    folded = await units.write_with_jobs(
        runtime.engine, runtime.queue, functools.partial(_fold, payload, runtime.clock())
    )
    if folded.call_id is not None and folded.user_id is not None:  # only an agent's dialer
        dialer_events.announce_soon(runtime, payload["company_id"], folded.call_id)
    if folded.call_id is not None:
        _hand_to_sync(folded.call_id, folded)


@dataclass(frozen=True)
class Folded:
    """What a fold stored and read: the call's id, its agent, the call, its company's data."""

    call_id: str | None
    user_id: str | None
    call: Call
    company: accounts.Company | None = None  # read only for a final call
    extensions: list[str] | None = None


def _hand_to_sync(call_id: str, folded: Folded) -> None:
    """Leave the call to its sync if that sync runs next in this task (``fold.handoff``)."""
    adopted = successor.adopted()
    if adopted is None or adopted.task != jobs.SYNC:
        return
    if adopted.payload["call_id"] == call_id:
        handoff.give(call_id, folded.call, folded.company, folded.extensions)


def _fold(payload: Payload, now: datetime, db: Connection) -> tuple[Folded, list[NewJob]]:
    """Store the folded call; when it is final, ask for its sync in each integration.

    A fold that finds no event it has not folded already changes nothing and asks for nothing:
    a fold queued while the previous one ran may find its event already folded by it.
    """
    company_id, source_id = payload["company_id"], payload["source_id"]
    call = fold(call_history.load_events(db, company_id, source_id, payload["call"]))
    user_id = agent_user(db, company_id, call)
    call_id = call_history.save_call(db, company_id, source_id, call, user_id, now)
    if call_id is None:
        return Folded(None, None, call), []
    if not call.is_final:
        return Folded(call_id, user_id, call), []
    read = targets.read(db, company_id)  # the company, its extensions and its integrations
    if read is None:  # no integration: no sync to ask for
        return Folded(call_id, user_id, call), []
    company, extensions = read.company, read.extensions
    syncs = []
    for integration in read.integrations:
        if integration["status"] == integrations.DISABLED:  # an admin turned it off
            continue
        number = external_number(call, integration["default_region"], company, extensions)
        e164 = number.e164 if isinstance(number, PhoneNumber) else None
        window = agent_choices.choice_window(
            db, call_id, user_id, integration, e164, call.crm_record_id
        )
        # The sync runs at once; it waits out the window only if it finds a choice to make.
        until = now + timedelta(seconds=window) if window > 0 else None
        syncs.append(
            jobs.sync_job(company_id, call_id, integration["id"], e164, choice_until=until)
        )
    return Folded(call_id, user_id, call, company, extensions), syncs
