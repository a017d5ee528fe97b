"""``create_deal``: the call's deal; and the client's open deal that other steps use."""

from __future__ import annotations

from collections.abc import Sequence

from callbridge.connectors.base import Capability, SupportsDeals, supports
from callbridge.domain.deal import Deal, DealDraft
from callbridge.domain.said import Code, Said
from callbridge.rules.matrix import ActionType, Assignee
from callbridge.rules.plan import Step
from callbridge.rules.scenario import Client
from callbridge.sync.executors.base import Outcome, Run, render

# Steps that cannot do without a deal, and those that use one when there is one.
NEEDING_A_DEAL = frozenset({ActionType.CREATE_DEAL, ActionType.SET_DEAL_OWNER})
USING_A_DEAL = frozenset({ActionType.CREATE_TASK, ActionType.NOTE_WHO_ANSWERED})
NO_OWNER = Said(Code.DEAL_NO_OWNER)


async def create_deal(run: Run, step: Step) -> None:
    """Create the call's deal on its record (once: the first create_deal step makes it)."""
    if step.skip:
        run.report(step.action.type, step.key, Outcome("skipped", step.skip))
    elif run.deal is None and supports(run.connector, Capability.DEALS):
        run.deal = await _make(run, run.connector, step.action.owner)


async def open_deal(run: Run) -> Deal | None:
    """Return the existing client's open deal when a step uses one and none creates it.

    With ``deal.create_for_existing_without_open_deal`` a client without one gets a new deal
    when a step cannot do without it.
    """
    steps, connector = run.decision.steps, run.connector
    if not supports(connector, Capability.DEALS) or not uses_deal(steps):
        return None
    if any(s.action.type is ActionType.CREATE_DEAL and not s.skip for s in steps):
        return None  # the create_deal step makes it
    if run.scenario.client is Client.NEW:
        return None  # a new client has no deal, and no step asks for one
    found = await connector.find_open_deal(run.record.id)
    if found is not None or not (
        run.decision.matrix.deal.create_for_existing_without_open_deal and needs_deal(steps)
    ):
        return found
    return await _make(run, connector, None)


async def _make(run: Run, connector: SupportsDeals, owned_by: Assignee | None) -> Deal:
    settings = run.decision.matrix.deal
    owner = run.person(owned_by)
    draft = DealDraft(
        external_id=f"{run.call_key}:deal",
        name=render(settings.name_template, run.words),
        record_id=run.record.id,
        owner=owner,
        pipeline=settings.pipeline,
        stage=settings.stage,
        utm=run.ctx.call.utm,
    )
    deal = await connector.create_deal(draft)
    run.report(
        ActionType.CREATE_DEAL, "deal", Outcome("done", None if owner else NO_OWNER, deal.id)
    )
    return deal


def uses_deal(steps: Sequence[Step]) -> bool:
    """Tell whether any step would use a deal if there is one (tasks and notes go on it too)."""
    return needs_deal(steps) or any(s.action.type in USING_A_DEAL and not s.skip for s in steps)


def needs_deal(steps: Sequence[Step]) -> bool:
    """Tell whether a step cannot do without a deal."""
    for step in steps:
        if step.skip:
            continue
        if step.action.type in NEEDING_A_DEAL:
            return True
        if step.action.type is ActionType.ATTACH_RECORDING and "deal" in step.action.to:
            return True
    return False
