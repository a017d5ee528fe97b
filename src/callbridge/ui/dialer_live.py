"""The dialer during a call: the agent's live events, the ringing call's records, the choice."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from callbridge.api import dialer as api
from callbridge.api.deps import get_runtime
from callbridge.api.dialer_models import SelectionIn
from callbridge.domain.record import ObjectType
from callbridge.ui import labels
from callbridge.ui.dialer import AgentDep, FormAgentDep, agent_page
from callbridge.ui.forms import Refused, model, posted, through_api
from callbridge.web.fields import PathId

router = APIRouter(prefix="/ui/dialer", include_in_schema=False)


@router.get("/events")
async def events(request: Request, session: AgentDep) -> Response:
    """Relay the agent's dialer events (SSE) to the page, authenticated by the session."""
    return await api.events(request, session[0], None)


@router.get("/calls/{call_id}")
async def call_records(request: Request, call_id: PathId, session: AgentDep) -> Response:
    """Render the records matching a call's number, filtered by object type (htmx fragment)."""
    actor, csrf = session
    wanted = request.query_params.get("object_type") or None
    kind = wanted if wanted in set(ObjectType) else None
    runtime = get_runtime(request)
    try:
        found = await through_api(
            api.call_candidates(call_id, actor, runtime, ObjectType(kind) if kind else None)
        )
    except Refused as refused:
        message = labels.choosing_off(refused.messages)
        # 404: no such call of the agent's; 403: choosing is off. Either is said in the page.
        said = {"missing": message} if refused.status == 404 else {"off": message}
        status = 404 if refused.status == 404 else 200
        return await agent_page(
            request, actor, "dialer_call.html", status, csrf=csrf, call_id=call_id, **said
        )
    return await agent_page(
        request,
        actor,
        "dialer_call.html",
        csrf=csrf,
        call_id=call_id,
        found=found,
        kind=kind or "",
        total=_total(request.query_params.get("total")),
        kinds=[k.value for k in ObjectType],
    )


@router.post("/calls/{call_id}/selection")
async def choose(request: Request, call_id: PathId, session: FormAgentDep) -> Response:
    """Log the call on the ticked records (one per object type), through the API's route."""
    actor, csrf = session
    form = await posted(request)
    picked = [v.split("|", 1) for v in form.getlist("choice") if isinstance(v, str) and "|" in v]
    body = {"choices": [{"integration_id": i, "record_id": r} for i, r in picked]}
    try:
        made = await through_api(
            api.select(call_id, model(SelectionIn, body), actor, get_runtime(request))
        )
    except Refused as refused:
        status = 404 if refused.status == 404 else 422  # another company's call is not found
        errors = refused.messages
        return await agent_page(
            request, actor, "dialer_result.html", status, csrf=csrf, errors=errors
        )
    return await agent_page(request, actor, "dialer_result.html", csrf=csrf, selected=made)


def _total(value: str | None) -> int | None:
    """Return the unfiltered count the page carried over a filter (shown in the "+N" badge)."""
    return int(value) if value and value.isdigit() and len(value) < 6 else None
