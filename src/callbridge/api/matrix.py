"""The scenario matrix of an integration: read, replace (versioned), explain a call dry."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException
from pydantic import BaseModel, Field

from callbridge.api.deps import PrincipalDep, RuntimeDep
from callbridge.api.explain import explain_call, explain_stored_call
from callbridge.api.explain_models import Explanation
from callbridge.api.matrix_dry_run import DryRun, DryRunIn, dry_run
from callbridge.api.matrix_history import (
    MatrixVersion,
    VersionBefore,
    VersionLimit,
    versions_shown,
)
from callbridge.api.models import JsonShown
from callbridge.api.said_models import CODE_FIELD, SaidShown, said_shown
from callbridge.domain.call import CallType
from callbridge.domain.event import Direction
from callbridge.errors import ConnectorError, MatrixError
from callbridge.refusal_codes import refusal
from callbridge.rules.matrix import matrix_to_json, parse_matrix
from callbridge.rules.plan import contact_cell
from callbridge.rules.policy import CreationPolicy, decide_creation
from callbridge.rules.scenario import Client, Employee, Outcome, Scenario
from callbridge.runtime import Runtime
from callbridge.storage import matrices, sql
from callbridge.storage.integrations import IntegrationRow, get_integration
from callbridge.web.fields import JsonObject, PathId
from callbridge.web.refusals import AUTHENTICATED, BAD_GATEWAY, NOT_FOUND, field_entry, loc_of

router = APIRouter(
    prefix="/integrations/{integration_id}",
    tags=["matrix"],
    responses={**AUTHENTICATED, **NOT_FOUND},
)


class CreationCell(BaseModel):
    """Whether a call from a new client creates a contact, and what decides it."""

    direction: Direction
    outcome: Outcome
    creates: bool
    decided_by: str = Field(description="policy, or the matrix cell that overrides it")
    reason: str
    reason_code: SaidShown | None = Field(default=None, description=CODE_FIELD)


class MatrixShown(BaseModel):
    """The matrix in force, its version, and the create-contact cell of each scenario."""

    version: int = Field(description="0 is the default matrix")
    matrix: JsonShown = Field(description="The whole matrix (see docs/matrix.md)")
    contact_creation: list[CreationCell]


async def owned_integration(
    runtime: Runtime, company_id: str, integration_id: str
) -> IntegrationRow:
    """Return the company's integration, or raise the 404 of one it does not have."""
    async with runtime.reads() as session:
        row: IntegrationRow | None = await sql.run(
            session, get_integration, company_id, integration_id
        )
    if row is None:
        raise HTTPException(404, refusal("no_integration", integration_id=integration_id))
    return row


def invalid_matrix(prefix: tuple[str, ...], err: MatrixError) -> HTTPException:
    """Return the 422 listing every problem of a matrix, each at its field's ``loc``."""
    return HTTPException(
        422,
        [field_entry([*prefix, *loc_of(path)], problem) for path, problem in err.problems],
    )


def contact_creation(matrix: Any, policy: CreationPolicy) -> list[dict[str, Any]]:
    """Return, per new-client scenario, whether a contact is created and what decides it."""
    cells = []
    for direction in (Direction.INCOMING, Direction.OUTGOING):
        for outcome in (Outcome.ANSWERED, Outcome.MISSED):
            scenario = Scenario(Client.NEW, direction, outcome, Employee.KNOWN)
            types = {CallType(direction.value)} | (
                {CallType.ANSWERED}
                if outcome is Outcome.ANSWERED
                else {CallType.MISSED}
                if direction is Direction.INCOMING
                else set()
            )
            decision = decide_creation(policy, types)
            cell = contact_cell(matrix, scenario, decision.create, decision.reason)
            cells.append(
                {
                    "direction": direction,
                    "outcome": outcome,
                    "creates": cell.create,
                    "decided_by": cell.source,
                    "reason": cell.reason,
                    "reason_code": said_shown(cell.reason),
                }
            )
    return cells


@router.get("/matrix")
async def read_matrix(
    integration_id: PathId, who: PrincipalDep, runtime: RuntimeDep
) -> MatrixShown:
    """Show the matrix in force, its version, and the create-contact cell of each scenario."""
    row = await owned_integration(runtime, who.company_id, integration_id)
    async with runtime.reads() as session:
        version, data = await sql.run(session, matrices.current, who.company_id, integration_id)
    matrix = parse_matrix(data)
    return MatrixShown.model_validate(
        {
            "version": version,
            "matrix": matrix_to_json(matrix),
            "contact_creation": contact_creation(matrix, CreationPolicy(row["creation_policy"])),
        }
    )


@router.put("/matrix")
async def replace_matrix(
    integration_id: PathId,
    who: PrincipalDep,
    runtime: RuntimeDep,
    body: Annotated[JsonObject, Body(description="The whole matrix (see docs/matrix.md)")],
) -> MatrixShown:
    """Validate and store a new version of the matrix; the next call processed uses it."""
    await owned_integration(runtime, who.company_id, integration_id)
    try:
        matrix = parse_matrix(body)
    except MatrixError as err:
        raise invalid_matrix(("body",), err) from err
    async with runtime.sessions.begin() as session:
        await sql.run(
            session,
            matrices.save,
            who.company_id,
            integration_id,
            matrix_to_json(matrix),
            runtime.clock(),
            who.key_id,
        )
    return await read_matrix(integration_id, who, runtime)


@router.get("/matrix/versions")
async def versions(
    integration_id: PathId,
    who: PrincipalDep,
    runtime: RuntimeDep,
    before: VersionBefore = None,
    limit: VersionLimit = 20,
) -> list[MatrixVersion]:
    """List a page of the stored versions, newest first: who saved each and what it changed.

    Version 0, the default matrix, is not listed; version 1's changes are from it. Page on to
    older versions with the last one's number as `before`.
    """
    await owned_integration(runtime, who.company_id, integration_id)
    async with runtime.reads() as session:
        rows = await sql.run(
            session, matrices.history, who.company_id, integration_id, limit, before
        )
    return versions_shown(rows, limit)


@router.post("/matrix/dry-run", responses=BAD_GATEWAY)
async def try_draft(
    integration_id: PathId, body: DryRunIn, who: PrincipalDep, runtime: RuntimeDep
) -> DryRun:
    """Say what a draft matrix would do with a past call, beside the saved one; saves nothing."""
    row = await owned_integration(runtime, who.company_id, integration_id)
    try:
        draft = matrix_to_json(parse_matrix(body.matrix))
    except MatrixError as err:
        raise invalid_matrix(("body", "matrix"), err) from err
    try:
        found = await dry_run(runtime, row, body.call_id, draft)
    except ConnectorError as err:
        raise _unreachable(err) from err
    if found is None:
        raise HTTPException(404, refusal("no_call", call_id=body.call_id))
    return found


class ExplainIn(BaseModel):
    """A call as the generic webhook would receive it, event by event."""

    events: list[JsonObject] = Field(min_length=1, max_length=100)


@router.post("/explain", responses=BAD_GATEWAY)
async def explain(
    integration_id: PathId, body: ExplainIn, who: PrincipalDep, runtime: RuntimeDep
) -> Explanation:
    """Say what the matrix would do with this call: scenario, matches and plan; writes nothing."""
    row = await owned_integration(runtime, who.company_id, integration_id)
    try:
        return await explain_call(runtime, row, body.events)
    except ConnectorError as err:
        raise _unreachable(err) from err


@router.get("/calls/{call_id}/explain", responses=BAD_GATEWAY)
async def explain_stored(
    integration_id: PathId, call_id: PathId, who: PrincipalDep, runtime: RuntimeDep
) -> Explanation:
    """Say what the call's next sync in this integration decides, with its history; writes nothing.

    The call's first scenario and matrix version, the records it was logged on and the agent's
    choice count as they do for the sync itself: this is the sync's own decision.
    """
    row = await owned_integration(runtime, who.company_id, integration_id)
    try:
        explained = await explain_stored_call(runtime, row, call_id)
    except ConnectorError as err:
        raise _unreachable(err) from err
    if explained is None:
        raise HTTPException(404, refusal("no_call", call_id=call_id))
    return explained


def _unreachable(err: ConnectorError) -> HTTPException:
    """Answer a CRM that failed while explain searched it or listed its users: 502, try again."""
    return HTTPException(502, refusal("crm_unreachable_call", reason=str(err)))
