"""``set_deal_owner``: make someone the responsible manager of the call's deal."""

from __future__ import annotations

from callbridge.connectors.base import Capability, supports
from callbridge.domain.said import Code, Said
from callbridge.rules.matrix import Assignee
from callbridge.rules.plan import Step
from callbridge.sync.executors.base import Outcome, Run, follow_up


@follow_up
async def set_deal_owner(run: Run, step: Step) -> Outcome:
    """Set the deal's owner (the agent unless the action names someone else)."""
    if not supports(run.connector, Capability.DEALS):
        return Outcome("skipped", Said(Code.CRM_CANNOT_DO, action=step.action.type))
    owner = run.person(step.action.owner or Assignee.AGENT)
    if run.deal is None or owner is None:
        return Outcome("skipped", Said(Code.NO_DEAL_OR_OWNER))
    await run.connector.set_deal_owner(run.deal.id, owner)
    return Outcome("done", None, run.deal.id)
