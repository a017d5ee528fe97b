"""Turn a matrix and a scenario into the plan of actions for one call (pure)."""

from __future__ import annotations

from collections.abc import Sequence, Set
from dataclasses import dataclass

from callbridge.domain.capability import Capability
from callbridge.domain.said import Code, Said
from callbridge.rules.matrix import Action, ActionType, Assignee, ContactMode, Matrix
from callbridge.rules.scenario import Client, Scenario

# The capability each action type needs; a CRM without it skips the action, saying so.
NEEDS: dict[ActionType, Capability] = {
    ActionType.CREATE_CONTACT: Capability.CREATE_CONTACT,
    ActionType.CREATE_DEAL: Capability.DEALS,
    ActionType.SET_DEAL_OWNER: Capability.DEALS,
    ActionType.CREATE_TASK: Capability.TASKS,
    ActionType.NOTE_WHO_ANSWERED: Capability.NOTES,
    ActionType.ATTACH_RECORDING: Capability.LOG_CALL,
}


@dataclass(frozen=True)
class Step:
    """One planned action: from which rule, and why it is skipped (None: it runs)."""

    rule: str
    index: int
    action: Action
    skip: str | None = None
    reason: str | None = None  # why it runs, when something decided it (the create-contact cell)

    @property
    def key(self) -> str:
        """Return a key that names this step the same way on every run of the same call."""
        return f"{self.action.type}:{self.index}"


#: What a matrix cell that overrides the policy says.
_SAYS = {ContactMode.ALWAYS: Code.MATRIX_ALWAYS, ContactMode.NEVER: Code.MATRIX_NEVER}


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
    return ContactCell(create, "override", Said(_SAYS[mode]))


def decide_contact(
    matrix: Matrix,
    scenario: Scenario,
    policy: tuple[bool, str],
    *,
    declined: str | None,
    can_create: bool,
) -> ContactCell:
    """Return the effective create-contact cell for an unknown caller.

    The matrix's cell (:func:`contact_cell`) over the creation ``policy`` (creates, reason),
    unless the call's first run already declined (``declined``: its reason), and never when the
    CRM cannot create contacts.
    """
    cell = contact_cell(matrix, scenario, *policy)
    if declined is not None:
        cell = ContactCell(False, "first decision", declined)
    if not can_create:
        cell = ContactCell(False, "capability", Said(Code.CRM_CANNOT_CREATE))
    return cell


def contact_step(cell: ContactCell) -> Step:
    """Return the create-contact step a cell decides: it runs, or is skipped for its reason."""
    action = Action(ActionType.CREATE_CONTACT)
    return Step(cell.source, 0, action, None if cell.create else cell.reason, cell.reason)


def contact_owner(steps: Sequence[Step]) -> Assignee | None:
    """Return who owns the contact created for a new client: whoever the plan gives its deal.

    The owner of the first ``create_deal`` step (the one that makes the deal), even when the
    CRM cannot create deals; a new client has no responsible manager yet, so ``responsible``
    gives none. None: no step creates a deal, or it names no owner (docs/matrix.md).
    """
    for step in steps:
        if step.action.type is ActionType.CREATE_DEAL:
            owner = step.action.owner
            return None if owner is Assignee.RESPONSIBLE else owner
    return None


def plan(matrix: Matrix, scenario: Scenario, capabilities: Set[Capability]) -> list[Step]:
    """Return the steps of every rule matching ``scenario``, in order, skips explained.

    ``capabilities`` are the CRM's, as :class:`Capability` members: a set of their names
    (``{"deals"}``) is refused, so one spelling of a capability reaches the plan.

    Contact creation is decided by :func:`contact_cell` and is not part of the steps.
    """
    strays = sorted(repr(c) for c in capabilities if not isinstance(c, Capability))
    if strays:
        raise TypeError(f"capabilities must be Capability members, not {', '.join(strays)}")
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


def _skip(action: Action, scenario: Scenario, capabilities: Set[Capability]) -> str | None:
    needed = NEEDS[action.type]
    if needed not in capabilities:
        return Said(Code.NO_CAPABILITY, capability=needed.value)
    if action.type is ActionType.NOTE_WHO_ANSWERED and scenario.client is Client.NEW:
        return Said(Code.NO_MANAGER_YET)
    return None
