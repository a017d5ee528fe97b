"""The dry run of the matrix: the sync's own decision for a call, computed without writing.

Both entries read as the sync reads (:mod:`callbridge.sync.inputs`) and decide with the sync's
:func:`~callbridge.sync.decide.decide`, only without writing: the people are mapped with the
links already made, and a dial intent is not bound to the call.
"""

from __future__ import annotations

import json
from typing import Any

from callbridge.domain.call import fold
from callbridge.domain.phone import NoExternalNumber, PhoneNumber
from callbridge.errors import PayloadError
from callbridge.fold.agents import agent_user
from callbridge.rules.external_party import external_number
from callbridge.rules.matrix import ActionType
from callbridge.runtime import Runtime
from callbridge.runtime.connectors import connector_for
from callbridge.storage import accounts, agent_choices, matrices
from callbridge.storage.agent_choices import Chosen
from callbridge.storage.integrations import IntegrationRow
from callbridge.sync import inputs
from callbridge.sync.decide import Decision, decide
from callbridge.sync.inputs import Loaded
from callbridge.sync.writes import SyncContext
from callbridge.telephony.generic import GenericAdapter
from callbridge.web.refusals import loc_of, refuse

# The call id a call explained from its events has: no stored call (nor claim) has it.
UNSTORED = "explained"


async def explain_call(
    runtime: Runtime, integration: IntegrationRow, events: list[dict[str, Any]]
) -> dict[str, Any]:
    """Return the scenario, the matched records and the plan for a call's events."""
    try:
        delivery = GenericAdapter().parse(json.dumps(events).encode())
    except PayloadError as err:
        raise refuse(("body", "events", *loc_of(err.field)), err.problem) from err
    call = fold(delivery.events)
    company_id = integration["company_id"]
    async with runtime.reads() as session:
        company = await session.run_sync(accounts.get_company, company_id)
        extensions = await session.run_sync(accounts.extensions, company_id)
        version, data = await session.run_sync(matrices.current, company_id, integration["id"])
        user_id = await session.run_sync(agent_user, company_id, call)
    assert company is not None
    number = external_number(call, integration["default_region"], company, extensions)
    ctx = SyncContext(company_id, UNSTORED, integration, call)
    agent = vars(call.agent) if call.agent else None
    loaded = Loaded(ctx, number, user_id, agent, None, None, None, version, data, False)
    return await _explain(runtime, loaded)


async def explain_stored_call(
    runtime: Runtime, integration: IntegrationRow, call_id: str
) -> dict[str, Any] | None:
    """Return what the call's next sync run in the integration would do; None: no such call.

    The call's history counts as it does for the sync: the first run's scenario and matrix
    version, the records it was logged on, the agent's choice, a declined contact.
    """
    payload = {
        "company_id": integration["company_id"],
        "call_id": call_id,
        "integration_id": integration["id"],
    }
    loaded = await inputs.load(runtime, payload)
    return None if loaded is None else await _explain(runtime, loaded)


async def _explain(runtime: Runtime, loaded: Loaded) -> dict[str, Any]:
    number = loaded.number
    if isinstance(number, NoExternalNumber):
        return {
            "scenario": None,
            "matrix_version": loaded.matrix_version,
            "external_number": None,
            "reason": f"no external number to match ({number.reason})",
            "plan": [],
        }
    decision = await explained_decision(runtime, loaded, number)
    return shown(decision, number)


async def explained_decision(runtime: Runtime, loaded: Loaded, number: PhoneNumber) -> Decision:
    """Read as the sync reads, without writing, and return the sync's decision."""
    ctx = loaded.ctx

    async def choice() -> Chosen | None:
        async with runtime.reads() as session:
            return await agent_choices.current(
                session, ctx.company_id, ctx.call_id, ctx.integration_id
            )

    connector = connector_for(runtime, ctx.integration)
    found = await inputs.find(runtime, loaded, connector, number, choice, refresh=False)
    return decide(loaded, number, found)


def shown(decision: Decision, number: PhoneNumber) -> dict[str, Any]:
    """Return a decision as explain answers it."""
    if decision.scenario is None:
        version = decision.matrix_version
        return {"scenario": None, "matrix_version": version, "reason": "internal call", "plan": []}
    targets = decision.targets
    return {
        "scenario": decision.scenario.key,
        "matrix_version": decision.matrix_version,
        "scenario_from": "the call's first run" if decision.reused else "this run",
        "external_number": number.e164,
        "matched": [
            {"id": c.id, "object_type": c.object_type, "name": c.name} for c in decision.matched
        ],
        "selection": {
            "records": [r.id for r in targets.records],
            "rule": targets.rule,
            "source": targets.source.value,
            "moves": list(targets.moves),
            "created_earlier": decision.created.id if decision.created else None,
        },
        "contact_creation": vars(decision.creation) if decision.creation else None,
        "plan": [
            {
                "rule": s.rule,
                "action": s.action.type,
                "skip": s.skip,
                "assignee": s.action.assignee if s.action.type is ActionType.CREATE_TASK else None,
            }
            for s in decision.steps
        ],
    }
