"""What explain answers: the sync's decision for a call, every field declared (docs/matrix.md)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from callbridge.api.said_models import CODE_FIELD, SaidShown
from callbridge.domain.record import ObjectType
from callbridge.rules.matrix import ActionType, Assignee
from callbridge.sync.decide import Source


class MatchedRecord(BaseModel):
    """A record found by the call's number."""

    id: str
    object_type: ObjectType
    name: str


class SelectionShown(BaseModel):
    """The record(s) the call is logged on, and what chose them."""

    records: list[str] = Field(description="Their ids, in the order they are written")
    rule: str = Field(description="Why these records, in words")
    source: Source
    moves: list[str] = Field(description="Records the call leaves for the agent's choice")
    created_earlier: str | None = Field(
        description="The contact an interrupted earlier run of this call created"
    )
    dial_intent: str | None = Field(
        description="The pending dial intent (click-to-dial, a choice before dialling) the sync "
        "binds to the call and whose records it takes; null when none"
    )


class ContactCreation(BaseModel):
    """Whether a contact is created for a caller no record matches, and what decided it."""

    create: bool
    source: str = Field(
        description="policy, override (the matrix cell), first decision (declined by the call's "
        "first run) or capability (the CRM cannot create contacts)"
    )
    reason: str
    reason_code: SaidShown | None = Field(default=None, description=CODE_FIELD)


class EmailLink(BaseModel):
    """An employee the sync links to a CRM user by their e-mail address."""

    user_id: str
    crm_user_id: str


class PeopleShown(BaseModel):
    """Who the call's actions go to in the CRM."""

    agent: str = Field(description="The agent as named by the company's users or the platform")
    agent_crm_user_id: str | None = Field(description="null: the agent is not mapped")
    top_manager_crm_user_id: str | None
    email_links: list[EmailLink] = Field(
        description="Links by e-mail the sync makes before it decides (none made by explain)"
    )


class StepShown(BaseModel):
    """One action of the plan, and why it is skipped (null: it runs)."""

    rule: str
    action: ActionType
    skip: str | None
    skip_code: SaidShown | None = Field(default=None, description=CODE_FIELD)
    assignee: Assignee | None = Field(description="For a task: who it goes to")


class Explanation(BaseModel):
    """What the sync does with a call: scenario, matches, records, contact, people and plan.

    ``scenario`` is null when there is no external number or the call is internal (``reason``
    says which); then nothing is matched, selected or planned.
    """

    scenario: str | None
    matrix_version: int
    scenario_from: str | None = Field(description="this run, or the call's first run")
    scenario_from_code: SaidShown | None = Field(default=None, description="this_run or first_run")
    reason: str | None = Field(description="Why nothing is done, when nothing is")
    reason_code: SaidShown | None = Field(default=None, description=CODE_FIELD)
    external_number: str | None = Field(description="E.164")
    matched: list[MatchedRecord]
    selection: SelectionShown | None
    contact_creation: ContactCreation | None = Field(
        description="Only when no record is selected and none was created earlier"
    )
    people: PeopleShown | None
    plan: list[StepShown]
