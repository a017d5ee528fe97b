"""The dry run of the matrix: what would happen to a call, computed without writing anything."""

from __future__ import annotations

import json
from typing import Any

from callbridge.api.refusals import loc_of, refuse
from callbridge.connectors.base import supported
from callbridge.domain.call import fold
from callbridge.domain.phone import NoExternalNumber
from callbridge.errors import PayloadError
from callbridge.fold.agents import agent_user
from callbridge.rules.automatic_pick import pick
from callbridge.rules.external_party import external_number
from callbridge.rules.matrix import parse_matrix
from callbridge.rules.plan import contact_cell, plan
from callbridge.rules.policy import CreationPolicy, decide_creation
from callbridge.rules.scenario import classify
from callbridge.runtime import Runtime
from callbridge.runtime.connectors import connector_for
from callbridge.storage import accounts, matrices
from callbridge.sync.people import resolve_for
from callbridge.telephony.generic import GenericAdapter


async def explain_call(
    runtime: Runtime, integration: dict[str, Any], events: list[dict[str, Any]]
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
        version, data = await session.run_sync(
            matrices.current, integration["company_id"], integration["id"]
        )
        user_id = await session.run_sync(agent_user, company_id, call)
    assert company is not None
    number = external_number(call, integration["default_region"], company, extensions)
    if isinstance(number, NoExternalNumber):
        return {
            "scenario": None,
            "matrix_version": version,
            "external_number": None,
            "reason": f"no external number to match ({number.reason})",
            "plan": [],
        }
    connector = connector_for(runtime, integration)
    candidates = await connector.find_by_phone(number)
    who = await resolve_for(
        runtime,
        company_id,
        integration["id"],
        user_id,
        vars(call.agent) if call.agent else None,
        connector,
        refresh=False,
    )
    matrix = parse_matrix(data)
    scenario = classify(
        call,
        matched=bool(candidates),
        agent_mapped=who.agent_mapped,
        voicemail_is_missed=matrix.voicemail_is_missed,
    )
    if scenario is None:
        return {"scenario": None, "matrix_version": version, "reason": "internal call", "plan": []}
    policy = decide_creation(CreationPolicy(integration["creation_policy"]), call.call_types())
    selection = pick(candidates, call.crm_record_id)
    return {
        "scenario": scenario.key,
        "matrix_version": version,
        "external_number": number.e164,
        "matched": [{"id": c.id, "object_type": c.object_type, "name": c.name} for c in candidates],
        "selection": {"records": [r.id for r in selection.records], "rule": selection.rule},
        "contact_creation": vars(contact_cell(matrix, scenario, policy.create, policy.reason))
        if not candidates
        else None,
        "plan": [
            {
                "rule": s.rule,
                "action": s.action.type,
                "skip": s.skip,
                "assignee": s.action.assignee if s.action.type == "create_task" else None,
            }
            for s in plan(matrix, scenario, supported(connector))
        ],
    }
