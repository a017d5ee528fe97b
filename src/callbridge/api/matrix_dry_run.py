"""The dry run of a draft matrix on a past call: what the draft would do, beside the saved one.

Both sides are the sync's own decision (:func:`callbridge.sync.decide.decide`), made from the
same readings (:func:`callbridge.api.explain.explained`: the call, the CRM's records, the people;
the database's part read in one transaction), only with the matrix substituted: the saved matrix
in force, then the draft. The call is decided as it stands: classified afresh by each matrix (so
a draft's ``voicemail_is_missed`` shows), not by the scenario its first sync kept, which the
answer names beside, saying which scenario each side used and why. A contact creation the first
run declined does not count, and a contact the call already created is shown with the cell each
matrix gives it (``already_created``): each side shows its own cell. Writes nothing.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Connection

from callbridge.api.explain import Explained, explained, shown, unnumbered
from callbridge.api.explain_models import Explanation, StepShown
from callbridge.api.said_models import CODE_FIELD, SaidShown, said_shown
from callbridge.domain.capability import Capability
from callbridge.domain.phone import NoExternalNumber
from callbridge.domain.said import Code, Said
from callbridge.rules.plan import ContactCell, decide_contact
from callbridge.rules.policy import CreationPolicy, decide_creation
from callbridge.runtime import Runtime
from callbridge.storage import call_history, matrices, units
from callbridge.storage.integrations import IntegrationRow
from callbridge.sync import inputs
from callbridge.sync.decide import DRAFT_VERSION, Decision, decide
from callbridge.sync.inputs import Loaded
from callbridge.web.fields import JsonObject, Reference


class DryRunIn(BaseModel):
    """A past call of the company and the draft matrix to try on it."""

    call_id: Reference
    matrix: JsonObject = Field(description="The whole draft matrix (see docs/matrix.md)")


class ContactCellShown(BaseModel):
    """The create-contact cell a matrix gives the call, and the contact it already created."""

    create: bool
    source: str = Field(description="policy, override (the matrix cell) or capability")
    reason: str
    reason_code: SaidShown | None = Field(default=None, description=CODE_FIELD)
    already_created: str | None = Field(
        description="The contact this call created earlier (its id): the cell says what the "
        "matrix decides for such a call; nothing is created again"
    )


class DryRun(BaseModel):
    """What the saved matrix and the draft each decide for the call, and how they differ."""

    call_id: str
    scenario_why: str = Field(description="Which scenario each side decided the call by, and why")
    scenario_why_code: SaidShown | None = Field(
        default=None,
        description="The same as a code (no_scenario, same_…, differ_…) and its parameters "
        "(saved, draft, first: scenario keys; why: the missing number's reason)",
    )
    first_scenario: str | None = Field(
        description="The scenario the call's first sync decided, which its own re-runs keep "
        "(null: no sync classified it); the dry run classifies the call as it stands"
    )
    saved: Explanation = Field(description="The decision by the matrix in force")
    draft: Explanation = Field(description="The decision by the draft (matrix_version -1)")
    only_saved: list[StepShown] = Field(description="Steps of the saved plan the draft drops")
    only_draft: list[StepShown] = Field(description="Steps the draft adds or changes")
    saved_contact: ContactCellShown | None = Field(
        description="The saved matrix's create-contact cell (null: a record found takes the call)"
    )
    draft_contact: ContactCellShown | None = Field(description="The draft's create-contact cell")
    contact_creation_differs: bool
    same: bool = Field(description="Both decide the same plan and contact creation")


@dataclasses.dataclass(frozen=True)
class _Read:
    """The call's inputs (its row among them) and the matrix in force, read in one transaction."""

    loaded: Loaded
    row: call_history.CallRow
    version: int
    matrix: dict[str, Any]


def _read(payload: dict[str, Any], db: Connection) -> _Read | None:
    loaded = inputs.read_inputs(payload, db)
    if loaded is None or loaded.row is None:
        return None
    if loaded.decided is None:  # the inputs hold the matrix in force already
        return _Read(loaded, loaded.row, loaded.matrix_version, loaded.matrix_json)
    version, data = matrices.current(db, payload["company_id"], payload["integration_id"])
    return _Read(loaded, loaded.row, version, data)


async def dry_run(
    runtime: Runtime, integration: IntegrationRow, call_id: str, draft: dict[str, Any]
) -> DryRun | None:
    """Decide the call as it stands by the saved matrix and by ``draft``; None: no such call."""
    company_id, integration_id = integration["company_id"], integration["id"]
    payload = {"company_id": company_id, "call_id": call_id, "integration_id": integration_id}
    read = await units.read(runtime.engine, functools.partial(_read, payload))
    if read is None:
        return None
    first = read.loaded.decided[0] if read.loaded.decided else None
    number = read.loaded.number
    if isinstance(number, NoExternalNumber):
        nothing = unnumbered(read.version, number)
        why = Said(Code.NO_SCENARIO, why=number.reason)
        return _compared(call_id, (nothing, None), (nothing, None), why, first)
    now = dataclasses.replace(
        read.loaded,
        decided=None,
        declined=None,
        matrix_version=read.version,
        matrix_json=read.matrix,
    )
    by_saved: Explained = await explained(runtime, now, number, dict(read.row))
    as_draft = dataclasses.replace(now, matrix_version=DRAFT_VERSION, matrix_json=draft)
    by_draft = dataclasses.replace(by_saved, decision=decide(as_draft, number, by_saved.found))
    return _compared(
        call_id,
        (shown(by_saved, number), _contact(by_saved, now)),
        (shown(by_draft, number), _contact(by_draft, now)),
        _why(by_saved.decision, by_draft.decision, first),
        first,
    )


def _contact(side: Explained, loaded: Loaded) -> ContactCellShown | None:
    """Return the side's create-contact cell; for a contact already created, the matrix's own."""
    decision = side.decision
    if decision.creation is not None:
        return _cell(decision.creation, None)
    if decision.created is None or decision.scenario is None:
        return None
    call = loaded.ctx.call
    policy = decide_creation(
        CreationPolicy(loaded.ctx.integration["creation_policy"]), call.call_types()
    )
    cell = decide_contact(
        decision.matrix,
        decision.scenario,
        (policy.create, policy.reason),
        declined=None,
        can_create=Capability.CREATE_CONTACT in side.found.capabilities,
    )
    return _cell(cell, decision.created.id)


def _cell(cell: ContactCell, already_created: str | None) -> ContactCellShown:
    """Return a create-contact cell as the dry run answers it."""
    code = said_shown(cell.reason)
    return ContactCellShown(**vars(cell), reason_code=code, already_created=already_created)


#: Which scenario each side used, by (the same on both sides, how the first sync classified it).
_WHY = {
    (True, None): Code.SAME_NEVER,
    (True, True): Code.SAME_FIRST_SAME,
    (True, False): Code.SAME_FIRST_OTHER,
    (False, None): Code.DIFFER_NEVER,
    (False, True): Code.DIFFER_FIRST_SAME,
    (False, False): Code.DIFFER_FIRST_OTHER,
}


def _why(saved: Decision, draft: Decision, first: str | None) -> Said:
    """Say which scenario each side used, and why: the call as it stands, classified now."""
    ours, theirs = (d.scenario.key if d.scenario else "internal" for d in (saved, draft))
    code = _WHY[ours == theirs, None if first is None else first == ours]
    return Said(code, saved=ours, draft=theirs, first=first or "")


def _compared(
    call_id: str,
    saved: tuple[Explanation, ContactCellShown | None],
    draft: tuple[Explanation, ContactCellShown | None],
    why: Said,
    first: str | None,
) -> DryRun:
    (by_saved, saved_cell), (by_draft, draft_cell) = saved, draft
    only_saved = [step for step in by_saved.plan if step not in by_draft.plan]
    only_draft = [step for step in by_draft.plan if step not in by_saved.plan]
    differs = saved_cell != draft_cell
    return DryRun(
        call_id=call_id,
        scenario_why=why,
        scenario_why_code=said_shown(why),
        first_scenario=first,
        saved=by_saved,
        draft=by_draft,
        only_saved=only_saved,
        only_draft=only_draft,
        saved_contact=saved_cell,
        draft_contact=draft_cell,
        contact_creation_differs=differs,
        same=not (only_saved or only_draft or differs),
    )
