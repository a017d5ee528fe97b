"""``note_who_answered``: a note when someone other than the responsible manager answered."""

from __future__ import annotations

from callbridge.connectors.base import Capability, supports
from callbridge.domain.said import Code, Said
from callbridge.domain.task import NoteDraft
from callbridge.rules.matrix import Assignee
from callbridge.rules.plan import Step
from callbridge.sync.executors.base import Outcome, Run, follow_up, render

TEMPLATE = "Answered by {agent} on {started_at}; the responsible manager is "
# When no employee is linked to the responsible manager's CRM user, the note says so.
UNNAMED = "CRM user {} (no employee is linked to this CRM user, so their name is not known)"


@follow_up
async def note_who_answered(run: Run, step: Step) -> Outcome:
    """Add the note on the call's record (and deal), unless the responsible manager answered."""
    if not supports(run.connector, Capability.NOTES):
        return Outcome("skipped", Said(Code.CRM_CANNOT_DO, action=step.action.type))
    responsible = run.person(Assignee.RESPONSIBLE)
    agent = run.people.agent_crm_id
    if agent is None or responsible is None or agent == responsible:
        why = Said(
            Code.RESPONSIBLE_ANSWERED if agent and agent == responsible else Code.NOBODY_TO_COMPARE
        )
        return Outcome("skipped", why)
    note_id = await run.connector.add_note(
        NoteDraft(
            external_id=f"{run.call_key}:{step.key}",
            body=render(TEMPLATE, run.words) + who(run, responsible),
            record_id=run.record.id,
            deal_id=run.deal.id if run.deal else None,
        )
    )
    return Outcome("done", None, note_id)


def who(run: Run, crm_user_id: str) -> str:
    """Name a CRM user after their employee; only their CRM id when no employee is linked."""
    return run.people.name_of(crm_user_id) or UNNAMED.format(crm_user_id)
