"""The dry run of the matrix: the sync's own decision for a call, computed without writing.

Both entries read as the sync reads (:mod:`callbridge.sync.inputs`) and decide with the sync's
:func:`~callbridge.sync.decide.decide`, only without writing. What the sync writes before it
decides is read instead: the links by e-mail its people mapping would make
(:func:`callbridge.sync.people.with_email_links`) and the pending dial intent it would bind
(:func:`callbridge.storage.agent_choices.choice_before_sync`).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from callbridge.api.explain_models import Explanation
from callbridge.api.said_models import said_shown
from callbridge.domain.call import Call, fold
from callbridge.domain.phone import NoExternalNumber, PhoneNumber
from callbridge.domain.said import Code, Said
from callbridge.errors import PayloadError
from callbridge.fold.agents import agent_user
from callbridge.rules.external_party import external_number
from callbridge.rules.matrix import ActionType
from callbridge.runtime import Runtime
from callbridge.runtime.connectors import connector_for
from callbridge.storage import (
    accounts,
    agent_choices,
    dial_intents,
    matrices,
    sql,
    users,
)
from callbridge.storage.call_choices import Chosen
from callbridge.storage.integrations import IntegrationRow
from callbridge.sync import inputs, people
from callbridge.sync.decide import Decision, decide
from callbridge.sync.inputs import Found, Loaded
from callbridge.sync.writes import SyncContext
from callbridge.telephony.generic import GenericAdapter
from callbridge.web.refusals import loc_of, refuse

# The call id a call explained from its events has: no stored call (nor claim) has it.
UNSTORED = "explained"


@dataclass(frozen=True)
class Explained:
    """The sync's decision, with what it read and what it would write before deciding."""

    decision: Decision
    found: Found
    email_links: dict[str, str]  # employee → CRM user, linked by e-mail before deciding
    dial_intent: str | None  # the pending dial intent the sync would bind to the call


async def explain_call(
    runtime: Runtime, integration: IntegrationRow, events: list[dict[str, Any]]
) -> Explanation:
    """Return the scenario, the matched records and the plan for a call's events."""
    try:
        delivery = GenericAdapter().parse(json.dumps(events).encode())
    except PayloadError as err:
        raise refuse(("body", "events", *loc_of(err.field)), err.problem) from err
    call = fold(delivery.events)
    company_id = integration["company_id"]
    async with runtime.reads() as session:
        company = await sql.run(session, accounts.get_company, company_id)
        extensions = await sql.run(session, users.extensions, company_id)
        version, data = await sql.run(session, matrices.current, company_id, integration["id"])
        user_id = await sql.run(session, agent_user, company_id, call)
        assert company is not None
        number = external_number(call, integration["default_region"], company, extensions)
        e164 = number.e164 if isinstance(number, PhoneNumber) else None
        intent = await sql.run(session, dial_intents.has_intent, company_id, user_id, e164)
    ctx = SyncContext(company_id, UNSTORED, integration, call)
    agent = vars(call.agent) if call.agent else None
    may_choose = call.crm_record_id is None and intent
    loaded = Loaded(ctx, number, user_id, agent, None, None, None, version, data, may_choose)
    return await _explain(runtime, loaded, _unstored(call, company_id, user_id, runtime))


def _unstored(call: Call, company_id: str, user_id: str | None, runtime: Runtime) -> dict[str, Any]:
    """Return the call's row as a dial intent is bound to it, were it stored now."""
    now = runtime.clock()
    return {
        "id": None,
        "company_id": company_id,
        "user_id": user_id,
        "provider_call_id": call.call_id,
        "started_at": call.started_at,
        "created_at": now,
    }


async def explain_stored_call(
    runtime: Runtime, integration: IntegrationRow, call_id: str
) -> Explanation | None:
    """Return what the call's next sync run in the integration would do; None: no such call.

    The call's history counts as it does for the sync: the first run's scenario and matrix
    version, the records it was logged on, the agent's choice, a declined contact.
    """
    payload = {
        "company_id": integration["company_id"],
        "call_id": call_id,
        "integration_id": integration["id"],
    }
    loaded = await inputs.load(runtime, payload)  # the call's row among them, in one transaction
    if loaded is None or loaded.row is None:
        return None
    return await _explain(runtime, loaded, dict(loaded.row))


async def _explain(runtime: Runtime, loaded: Loaded, call: dict[str, Any]) -> Explanation:
    number = loaded.number
    if isinstance(number, NoExternalNumber):
        return unnumbered(loaded.matrix_version, number)
    return shown(await explained(runtime, loaded, number, call), number)


def unnumbered(version: int, number: NoExternalNumber) -> Explanation:
    """Explain a call with no external number: nothing is matched, created or planned."""
    reason = Said(Code.NO_EXTERNAL_NUMBER, why=number.reason)
    return Explanation(
        scenario=None,
        matrix_version=version,
        scenario_from=None,
        scenario_from_code=None,
        reason=reason,
        reason_code=said_shown(reason),
        external_number=None,
        matched=[],
        selection=None,
        contact_creation=None,
        people=None,
        plan=[],
    )


async def explained_decision(
    runtime: Runtime, loaded: Loaded, number: PhoneNumber, call: dict[str, Any]
) -> Decision:
    """Read as the sync reads, without writing, and return the sync's decision."""
    return (await explained(runtime, loaded, number, call)).decision


async def explained(
    runtime: Runtime, loaded: Loaded, number: PhoneNumber, call: dict[str, Any]
) -> Explained:
    """Read as the sync reads, without writing, and decide; ``call`` is the call's row."""
    ctx = loaded.ctx
    connector = connector_for(runtime, ctx.integration)
    directory, made = await people.with_email_links(
        runtime, ctx.company_id, ctx.integration_id, loaded.user_id, connector, loaded.directory
    )
    intent: list[str | None] = [None]

    async def choice() -> Chosen | None:
        async with runtime.reads() as session:
            chosen, intent[0] = await sql.run(
                session, agent_choices.choice_before_sync, call, number.e164, ctx.integration_id
            )
        return chosen

    loaded = dataclasses.replace(loaded, directory=directory)
    found = await inputs.find(runtime, loaded, connector, number, choice, refresh=False)
    return Explained(decide(loaded, number, found), found, made, intent[0])


def shown(explained: Explained, number: PhoneNumber) -> Explanation:
    """Return a decision as explain answers it."""
    decision = explained.decision
    if decision.scenario is None:
        version, internal = decision.matrix_version, Said(Code.INTERNAL_CALL)
        return Explanation.model_validate(
            {"scenario": None, "matrix_version": version, "scenario_from": None}
            | {"scenario_from_code": None, "reason": internal}
            | {"reason_code": said_shown(internal), "external_number": number.e164}
            | {"matched": [], "selection": None, "contact_creation": None}
            | {"people": None, "plan": []}
        )
    targets, who = decision.targets, explained.found.people
    run = Said(Code.FIRST_RUN if decision.reused else Code.THIS_RUN)
    return Explanation.model_validate(
        {
            "scenario": decision.scenario.key,
            "matrix_version": decision.matrix_version,
            "scenario_from": run,
            "scenario_from_code": said_shown(run),
            "reason": None,
            "reason_code": None,
            "external_number": number.e164,
            "matched": [vars(c) for c in decision.matched],
            "selection": {
                "records": [r.id for r in targets.records],
                "rule": targets.rule,
                "source": targets.source,
                "moves": list(targets.moves),
                "created_earlier": decision.created.id if decision.created else None,
                "dial_intent": explained.dial_intent,
            },
            "contact_creation": _creation(decision),
            "people": {
                "agent": who.agent_label,
                "agent_crm_user_id": who.agent_crm_id,
                "top_manager_crm_user_id": who.top_manager_crm_id,
                "email_links": [
                    {"user_id": user, "crm_user_id": crm}
                    for user, crm in explained.email_links.items()
                ],
            },
            "plan": [
                {
                    "rule": s.rule,
                    "action": s.action.type,
                    "skip": s.skip,
                    "skip_code": said_shown(s.skip),
                    "assignee": s.action.assignee
                    if s.action.type is ActionType.CREATE_TASK
                    else None,
                }
                for s in decision.steps
            ],
        }
    )


def _creation(decision: Decision) -> dict[str, Any] | None:
    """Return the decision's create-contact cell as explain answers it (None: none)."""
    cell = decision.creation
    return None if cell is None else vars(cell) | {"reason_code": said_shown(cell.reason)}
