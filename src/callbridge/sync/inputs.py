"""What a sync reads before it decides: the call's inputs, then what the CRM and agents say.

Both are read the same way by the sync and by explain (:mod:`callbridge.api.explain`); only
explain reads without writing (no user links made, no dial intent bound).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from callbridge.connectors.base import Capability, Connector, supports
from callbridge.domain import said
from callbridge.domain.call import Call, fold
from callbridge.domain.phone import NoExternalNumber, PhoneNumber
from callbridge.domain.record import CrmRecord, ObjectType
from callbridge.fold import handoff
from callbridge.queue import breaker, jobs
from callbridge.queue.base import Payload
from callbridge.rules import agent_choice
from callbridge.rules.external_party import external_number
from callbridge.runtime import Runtime
from callbridge.storage import (
    accounts,
    agent_choices,
    call_history,
    matrices,
    sync_start,
    units,
    users,
)
from callbridge.storage.agent_choices import Chosen
from callbridge.sync import people, record_lookup
from callbridge.sync.record_lookup import Resolved
from callbridge.sync.writes import SyncContext


@dataclass(frozen=True)
class Loaded:
    """Everything a sync reads before it talks to the CRM, read in one transaction."""

    ctx: SyncContext
    number: PhoneNumber | NoExternalNumber
    user_id: str | None
    agent: dict[str, str] | None
    directory: people.Directory | None  # None: read when the people are resolved
    decided: tuple[str, int] | None  # an earlier run's scenario key and matrix version
    declined: str | None  # why an earlier run created no contact for the unknown caller
    matrix_version: int
    matrix_json: dict[str, Any]
    may_have_choice: bool
    choice_until: datetime | None = None  # the end of the agent's grace window, if it is open
    row: call_history.CallRow | None = None  # the call's row as read (None: a call not stored)
    breaker_row: Any = breaker.UNREAD  # the integration's circuit breaker, read with the rest


@dataclass(frozen=True)
class Found:
    """What the CRM and the agents say about the call, read before deciding."""

    candidates: tuple[CrmRecord, ...]
    people: people.People
    capabilities: frozenset[Capability]
    chosen: Chosen | None  # the agent's choice for the call in this integration
    given: Resolved | None  # the records named by id (the choice, else click-to-dial) it has


# Reads the agent's choice for the call: the sync's binds a fitting dial intent first.
ChoiceReader = Callable[[], Awaitable[Chosen | None]]


async def load(runtime: Runtime, payload: Payload) -> Loaded | None:
    """Read a sync job's inputs; None when the call or the integration was deleted meanwhile."""
    handed = handoff.take(payload["call_id"])
    return await units.read(runtime.engine, functools.partial(read_inputs, payload, handed=handed))


def read_inputs(
    payload: Payload, db: Connection, handed: handoff.Handed | None = None
) -> Loaded | None:
    """Read the call, the integration and what earlier runs left, in one transaction.

    ``handed``: what its fold just stored and read (``fold.handoff``), used instead of folding
    the events again when the stored call was folded from as many events (the same events).
    """
    company_id = payload["company_id"]
    start = sync_start.read(db, company_id, payload["call_id"], payload["integration_id"])
    if start is None:
        return None
    row, integration, earlier = start.call, start.integration, start.sync
    call, company, extensions = _call_and_company(db, company_id, row, handed)
    number = external_number(call, integration["default_region"], company, extensions)
    e164 = number.e164 if isinstance(number, PhoneNumber) else None
    declined = None
    if earlier is not None and earlier["status"] == "no_match":
        declined = said.loaded(earlier.get("reason_code")) or earlier["reason"]
        declined = declined or said.Said(said.Code.NO_CONTACT_CREATED)
    decided = _decided(earlier)
    if decided is not None:
        stored = matrices.version(db, company_id, integration["id"], decided[1])
        assert stored is not None
        version, matrix_json = decided[1], stored
    else:
        version, matrix_json = matrices.current(db, company_id, integration["id"])
    links = call_history.get_links(db, company_id, row["id"], integration["id"])
    claim = call_history.get_claim(db, company_id, integration["id"], e164) if e164 else None
    may_choose = call.crm_record_id is None and (
        start.chosen or agent_choices.has_intent(db, company_id, row["user_id"], e164)
    )
    directory = people.load_directory(db, company_id, integration["id"])
    ctx = SyncContext(company_id, row["id"], integration, call, links, claim)
    until = payload.get(jobs.CHOICE_UNTIL)
    return Loaded(
        ctx, number, row["user_id"], row["agent"], directory, decided, declined, version,
        matrix_json, may_choose, datetime.fromisoformat(until) if until else None, row,
        breaker.state(db, company_id, integration["id"]),
    )  # fmt: skip


def _call_and_company(
    db: Connection, company_id: str, row: call_history.CallRow, handed: handoff.Handed | None
) -> tuple[Call, accounts.Company, list[str]]:
    """Return the folded call, its company and the users' extensions: handed, else read."""
    if handed is not None and len(handed.call.event_ids) == row["event_count"]:
        if handed.company is not None and handed.extensions is not None:
            return handed.call, handed.company, handed.extensions
        call = handed.call
    else:
        events = call_history.load_events(db, company_id, row["source_id"], row["provider_call_id"])
        call = fold(events)
    company = accounts.get_company(db, company_id)
    assert company is not None
    return call, company, users.extensions(db, company_id)


def _decided(earlier: call_history.SyncRow | None) -> tuple[str, int] | None:
    """Return the scenario an earlier run decided and the matrix version it decided it by.

    A run stores both at once (``run.note_sync``), so a scenario without its version is a
    damaged row: the sync fails saying so rather than replay the scenario by another matrix.
    """
    if earlier is None or earlier["scenario"] is None:
        return None
    if earlier["matrix_version"] is None:
        raise ValueError(
            f"the stored sync {earlier['id']} has scenario {earlier['scenario']!r} "
            "but no matrix version"
        )
    return earlier["scenario"], earlier["matrix_version"]


async def find(
    runtime: Runtime,
    loaded: Loaded,
    connector: Connector,
    number: PhoneNumber,
    choice: ChoiceReader,
    *,
    refresh: bool,
) -> Found:
    """Search the number, map the people, read the agent's choice and the records named by id.

    ``refresh`` lets the people's mapping read the CRM's users and write the links it finds.
    """
    ctx = loaded.ctx
    candidates = tuple(await connector.find_by_phone(number))
    who = await people.resolve_for(
        runtime,
        ctx.company_id,
        ctx.integration_id,
        loaded.user_id,
        loaded.agent,
        connector,
        refresh=refresh,
        directory=loaded.directory,
    )
    # Click-to-dial from a CRM page asks no question: its calls are never chosen for.
    chosen = await choice() if loaded.may_have_choice else None
    return Found(
        candidates,
        who,
        frozenset(c for c in Capability if supports(connector, c)),
        chosen,
        await _given(connector, loaded, chosen, candidates),
    )


async def _given(
    connector: Connector,
    loaded: Loaded,
    chosen: Chosen | None,
    candidates: tuple[CrmRecord, ...],
) -> Resolved | None:
    """Read back the records named by id that the decision will weigh, and only those."""
    if chosen is not None:
        given = agent_choice.as_records(chosen.choices, candidates)
    elif not loaded.ctx.links and loaded.ctx.call.crm_record_id is not None:
        given = [CrmRecord(loaded.ctx.call.crm_record_id, ObjectType.CONTACT, "")]
    else:
        return None
    return await record_lookup.in_integration(connector, given, candidates)
