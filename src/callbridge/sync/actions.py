"""Carry out the matrix's plan for one call: deal, owner, tasks, notes, each exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from callbridge.connectors.base import (
    Capability,
    Connector,
    SupportsNotes,
    SupportsTasks,
    supports,
)
from callbridge.domain.deal import Deal, DealDraft
from callbridge.domain.event import Utm
from callbridge.domain.record import CrmRecord
from callbridge.domain.task import NoteDraft, TaskDraft
from callbridge.rules.matrix import ActionType, Assignee, Matrix
from callbridge.rules.plan import Step
from callbridge.rules.scenario import Client, Scenario
from callbridge.sync.people import People

DEAL_STEPS = frozenset({ActionType.CREATE_DEAL, ActionType.SET_DEAL_OWNER})


@dataclass(frozen=True)
class Outcome:
    """What one step did: ``done`` or ``skipped``, the reason, and the id it produced."""

    status: str
    reason: str | None = None
    result_id: str | None = None


@dataclass(frozen=True)
class Facts:
    """What the actions need to know about the call and the people around it."""

    call_key: str
    scenario: Scenario
    record: CrmRecord
    people: People
    words: dict[str, str]
    moment: datetime
    utm: Utm | None


def render(template: str, words: dict[str, str]) -> str:
    """Replace ``{name}`` placeholders with the call's words; unknown ones are left as typed."""
    for name, value in words.items():
        template = template.replace("{" + name + "}", value)
    return template


async def resolve_deal(
    connector: Connector, matrix: Matrix, steps: list[Step], facts: Facts
) -> tuple[Deal | None, Outcome | None]:
    """Create the call's deal, or find the client's open deal, when a step needs one."""
    if not supports(connector, Capability.DEALS) or not _wants_deal(steps):
        return None, None
    create = next(
        (s for s in steps if s.action.type is ActionType.CREATE_DEAL and not s.skip), None
    )
    if create is None:
        if facts.scenario.client is Client.NEW:
            return None, None  # a new client has no deal, and no step asks for one
        found = await connector.find_open_deal(facts.record.id)
        if found is not None or not (
            matrix.deal.create_for_existing_without_open_deal and _needs_deal(steps)
        ):
            return found, None
    owner = _person(create.action.owner if create else None, facts, None)
    draft = DealDraft(
        external_id=f"{facts.call_key}:deal",
        name=render(matrix.deal.name_template, facts.words),
        record_id=facts.record.id,
        owner=owner,
        pipeline=matrix.deal.pipeline,
        stage=matrix.deal.stage,
        utm=facts.utm,
    )
    deal = await connector.create_deal(draft)
    reason = None if owner else "no CRM user mapped for the deal's owner; the CRM's default applies"
    return deal, Outcome("done", reason, deal.id)


def _wants_deal(steps: list[Step]) -> bool:
    """Tell whether any step would use a deal if there is one (tasks and notes go on it too)."""
    linked = {ActionType.CREATE_TASK, ActionType.NOTE_WHO_ANSWERED}
    return _needs_deal(steps) or any(s.action.type in linked and not s.skip for s in steps)


def _needs_deal(steps: list[Step]) -> bool:
    """Tell whether a step cannot do without a deal."""
    for step in steps:
        if step.skip:
            continue
        if step.action.type in DEAL_STEPS:
            return True
        if step.action.type is ActionType.ATTACH_RECORDING and "deal" in step.action.to:
            return True
    return False


def _person(who: Assignee | None, facts: Facts, deal: Deal | None) -> str | None:
    """Return the CRM user id standing for ``who`` on this call."""
    if who is Assignee.AGENT:
        return facts.people.agent_crm_id
    if who is Assignee.TOP_MANAGER:
        return facts.people.top_manager_crm_id
    if who is Assignee.RESPONSIBLE:
        return facts.record.owner or (deal.owner if deal else None)
    return None


async def run_step(connector: Connector, step: Step, facts: Facts, deal: Deal | None) -> Outcome:
    """Carry out one step (other than creating the contact or the deal)."""
    kind = step.action.type
    if kind is ActionType.CREATE_TASK and supports(connector, Capability.TASKS):
        return await _task(connector, step, facts, deal)
    if kind is ActionType.NOTE_WHO_ANSWERED and supports(connector, Capability.NOTES):
        return await _note(connector, step, facts, deal)
    if kind is ActionType.SET_DEAL_OWNER and supports(connector, Capability.DEALS):
        owner = _person(step.action.owner or Assignee.AGENT, facts, deal)
        if deal is None or owner is None:
            return Outcome("skipped", "no deal or no mapped owner to set")
        await connector.set_deal_owner(deal.id, owner)
        return Outcome("done", None, deal.id)
    return Outcome("skipped", f"the CRM cannot do {kind}")


async def _task(connector: SupportsTasks, step: Step, facts: Facts, deal: Deal | None) -> Outcome:
    assignee = _person(step.action.assignee, facts, deal)
    reason = None
    if assignee is None and step.action.assignee is Assignee.RESPONSIBLE:
        assignee, reason = facts.people.top_manager_crm_id, "no responsible manager: TOP manager"
    if assignee is None:
        reason = f"no CRM user mapped for {step.action.assignee}; the task is unassigned"
    task_id = await connector.create_task(
        TaskDraft(
            external_id=f"{facts.call_key}:{step.key}",
            title=render(step.action.title, facts.words),
            body=render(step.action.body, facts.words),
            record_id=facts.record.id,
            deal_id=deal.id if deal else None,
            assignee=assignee,
            due_at=facts.moment + timedelta(minutes=step.action.due_in_minutes),
        )
    )
    return Outcome("done", reason, task_id)


async def _note(connector: SupportsNotes, step: Step, facts: Facts, deal: Deal | None) -> Outcome:
    responsible = _person(Assignee.RESPONSIBLE, facts, deal)
    agent = facts.people.agent_crm_id
    if agent is None or responsible is None or agent == responsible:
        why = (
            "the responsible manager answered"
            if agent and agent == responsible
            else ("nobody to compare: the agent or the responsible manager is not known")
        )
        return Outcome("skipped", why)
    body = render("Answered by {agent} on {started_at}; the responsible manager is ", facts.words)
    note_id = await connector.add_note(
        NoteDraft(
            external_id=f"{facts.call_key}:{step.key}",
            body=body + responsible,
            record_id=facts.record.id,
            deal_id=deal.id if deal else None,
        )
    )
    return Outcome("done", None, note_id)


def words(call: Any, phone: str, people: People, outcome: str) -> dict[str, str]:
    """Return the placeholders templates may use."""
    started = call.started_at.isoformat() if call.started_at else "an unknown time"
    return {
        "phone": phone,
        "agent": people.agent_label,
        "outcome": outcome,
        "direction": call.direction.value if call.direction else "unknown",
        "started_at": started,
        "duration": str(call.duration or 0),
    }
