"""The dry run of a draft matrix on a past call: what the draft would do, beside the saved one.

Both sides are the sync's own decision (:func:`callbridge.sync.decide.decide`), made once from
the same readings (:func:`callbridge.api.explain.explained`: the call, the CRM's records, the
people), only with the matrix substituted: the saved matrix in force, then the draft. The call's
first run's scenario is kept when it had one (a past call is not reclassified), and a contact
creation it declined does not count: the dry run shows each matrix's own cell. Writes nothing.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pydantic import BaseModel, Field

from callbridge.api.explain import Explained, explain_stored_call, explained, shown
from callbridge.api.explain_models import Explanation, StepShown
from callbridge.domain.phone import NoExternalNumber
from callbridge.runtime import Runtime
from callbridge.storage import call_history, matrices, sql
from callbridge.storage.integrations import IntegrationRow
from callbridge.sync import inputs
from callbridge.sync.decide import DRAFT_VERSION, decide
from callbridge.web.fields import JsonObject, Reference


class DryRunIn(BaseModel):
    """A past call of the company and the draft matrix to try on it."""

    call_id: Reference
    matrix: JsonObject = Field(description="The whole draft matrix (see docs/matrix.md)")


class DryRun(BaseModel):
    """What the saved matrix and the draft each decide for the call, and how they differ."""

    call_id: str
    saved: Explanation = Field(description="The decision by the matrix in force")
    draft: Explanation = Field(description="The decision by the draft (matrix_version -1)")
    only_saved: list[StepShown] = Field(description="Steps of the saved plan the draft drops")
    only_draft: list[StepShown] = Field(description="Steps the draft adds or changes")
    contact_creation_differs: bool
    same: bool = Field(description="Both decide the same plan and contact creation")


async def dry_run(
    runtime: Runtime, integration: IntegrationRow, call_id: str, draft: dict[str, Any]
) -> DryRun | None:
    """Decide the call by the saved matrix and by ``draft``; None: no such call."""
    company_id, integration_id = integration["company_id"], integration["id"]
    payload = {"company_id": company_id, "call_id": call_id, "integration_id": integration_id}
    loaded = await inputs.load(runtime, payload)
    async with runtime.reads() as session:
        row = await sql.run(session, call_history.get_call, company_id, call_id)
        version, data = await sql.run(session, matrices.current, company_id, integration_id)
    if loaded is None or row is None:
        return None
    number = loaded.number
    if isinstance(number, NoExternalNumber):
        nothing = await explain_stored_call(runtime, integration, call_id)
        return None if nothing is None else _compared(call_id, nothing, nothing)
    first = (loaded.decided[0], version) if loaded.decided else None
    saved_inputs = dataclasses.replace(
        loaded, decided=first, declined=None, matrix_version=version, matrix_json=data
    )
    by_saved: Explained = await explained(runtime, saved_inputs, number, dict(row))
    draft_first = (first[0], DRAFT_VERSION) if first else None
    draft_inputs = dataclasses.replace(
        saved_inputs, decided=draft_first, matrix_version=DRAFT_VERSION, matrix_json=draft
    )
    by_draft = dataclasses.replace(by_saved, decision=decide(draft_inputs, number, by_saved.found))
    return _compared(call_id, shown(by_saved, number), shown(by_draft, number))


def _compared(call_id: str, saved: Explanation, draft: Explanation) -> DryRun:
    only_saved = [step for step in saved.plan if step not in draft.plan]
    only_draft = [step for step in draft.plan if step not in saved.plan]
    differs = saved.contact_creation != draft.contact_creation
    return DryRun(
        call_id=call_id,
        saved=saved,
        draft=draft,
        only_saved=only_saved,
        only_draft=only_draft,
        contact_creation_differs=differs,
        same=not (only_saved or only_draft or differs),
    )
