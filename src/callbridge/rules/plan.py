"""Turn a matrix and a scenario into the plan of actions for one call (pure)."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass

from callbridge.rules.matrix import Action, ActionType, ContactMode, Matrix
from callbridge.rules.scenario import Client, Scenario

NEEDS: dict[ActionType, str] = {
    ActionType.CREATE_CONTACT: "create_contact",
    ActionType.CREATE_DEAL: "deals",
    ActionType.SET_DEAL_OWNER: "deals",
    ActionType.CREATE_TASK: "tasks",
    ActionType.NOTE_WHO_ANSWERED: "notes",
    ActionType.ATTACH_RECORDING: "log_call",
}


@dataclass(frozen=True)
class Step:
    """One planned action: from which rule, and why it is skipped (None: it runs)."""

    rule: str
    index: int
    action: Action
    skip: str | None = None

    @property
    def key(self) -> str:
        """Return a key that names this step the same way on every run of the same call."""
        return f"{self.action.type}:{self.index}"


@dataclass(frozen=True)
class ContactCell:
    """The effective create-contact decision for a new client, and where it comes from."""

    create: bool
    source: str
    reason: str


def contact_cell(
    matrix: Matrix, scenario: Scenario, policy_creates: bool, reason: str
) -> ContactCell:
    """Resolve the create-contact cell: the policy, unless a matching rule overrides it."""
    modes = [
        action.mode
        for rule in matrix.rules
        if rule.when.matches(scenario)
        for action in rule.actions
        if action.type is ActionType.CREATE_CONTACT
    ]
    mode = next((m for m in reversed(modes) if m is not ContactMode.FOLLOW), ContactMode.FOLLOW)
    if mode is ContactMode.FOLLOW:
        return ContactCell(policy_creates, "policy", reason)
    create = mode is ContactMode.ALWAYS
    return ContactCell(create, "override", f"the matrix says {mode.value} for this scenario")


def plan(matrix: Matrix, scenario: Scenario, capabilities: Set[str]) -> list[Step]:
    """Return the steps of every rule matching ``scenario``, in order, skips explained.

    Contact creation is decided by :func:`contact_cell` and is not part of the steps.
    """
    steps: list[Step] = []
    index = 0
    for rule in matrix.rules:
        if not rule.when.matches(scenario):
            continue
        for action in rule.actions:
            if action.type is ActionType.CREATE_CONTACT:
                continue
            steps.append(Step(rule.name, index, action, _skip(action, scenario, capabilities)))
            index += 1
    return steps


def _skip(action: Action, scenario: Scenario, capabilities: Set[str]) -> str | None:
    needed = NEEDS[action.type]
    if needed not in capabilities:
        return f"the CRM cannot do this (no '{needed}' capability)"
    if action.type is ActionType.NOTE_WHO_ANSWERED and scenario.client is Client.NEW:
        return "a new client has no responsible manager yet"
    return None
