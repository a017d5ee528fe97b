"""``create_task``: a task on the call's record (and deal), due after the call."""

from __future__ import annotations

from datetime import timedelta

from callbridge.connectors.base import Capability, supports
from callbridge.domain.said import Code, Said
from callbridge.domain.task import TaskDraft
from callbridge.rules.matrix import Assignee
from callbridge.rules.plan import Step
from callbridge.sync.executors.base import Outcome, Run, follow_up, render


@follow_up
async def create_task(run: Run, step: Step) -> Outcome:
    """Create the task for its assignee; nobody mapped: the TOP manager, else unassigned."""
    if not supports(run.connector, Capability.TASKS):
        return Outcome("skipped", Said(Code.CRM_CANNOT_DO, action=step.action.type))
    action = step.action
    assignee = run.person(action.assignee)
    reason = None
    if assignee is None and action.assignee is Assignee.RESPONSIBLE:
        assignee, reason = run.people.top_manager_crm_id, Said(Code.TASK_TO_TOP_MANAGER)
    if assignee is None:
        reason = Said(Code.TASK_UNASSIGNED, assignee=action.assignee)
    task_id = await run.connector.create_task(
        TaskDraft(
            external_id=f"{run.call_key}:{step.key}",
            title=render(action.title, run.words),
            body=render(action.body, run.words),
            record_id=run.record.id,
            deal_id=run.deal.id if run.deal else None,
            assignee=assignee,
            due_at=run.moment + timedelta(minutes=action.due_in_minutes),
        )
    )
    return Outcome("done", reason, task_id)
