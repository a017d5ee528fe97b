"""Calls: the history with filters, and a call's page (events, records, syncs, Replay)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import RedirectResponse

from callbridge.api import admin as admin_api
from callbridge.api import calls as api
from callbridge.api import integrations as integrations_api
from callbridge.api.deps import get_runtime
from callbridge.domain.call import CallState
from callbridge.domain.event import Direction
from callbridge.ui.forms import Refused, through_api
from callbridge.ui.render import page
from callbridge.ui.session import Admin, AdminDep, FormAdminDep
from callbridge.web.fields import PHONE_LENGTH, PathId

router = APIRouter(prefix="/ui/calls", include_in_schema=False)
PAGE_SIZE = 50
#: What the number filter keeps of what is typed: digits, "+" and spaces.
NUMBER_CHARS = re.compile(r"[^0-9+]")
JobId = Annotated[int, Path(ge=1, le=2**63 - 1)]


async def _integration_names(request: Request, admin: Admin) -> dict[str, str]:
    shown = await integrations_api.list_all(admin.principal, get_runtime(request))
    return {i.id: i.name for i in shown}


@router.get("")
async def history(request: Request, admin: AdminDep) -> Response:
    """List the company's calls, newest first, filtered by number, state, direction and day."""
    query = request.query_params
    number = NUMBER_CHARS.sub("", query.get("number", ""))[:PHONE_LENGTH] or None
    state = query.get("state") if query.get("state") in set(CallState) else None
    direction = query.get("direction") if query.get("direction") in set(Direction) else None
    since = _day(query.get("since", ""))
    try:
        at = max(0, min(int(query.get("page", "0")), 10_000))
    except ValueError:
        at = 0
    found = await api.list_calls(
        admin.principal,
        get_runtime(request),
        state=CallState(state) if state else None,
        direction=Direction(direction) if direction else None,
        number=number,
        since=since,
        limit=PAGE_SIZE,
        offset=at * PAGE_SIZE,
    )
    return page(
        request,
        "calls.html",
        admin,
        calls=found.calls,
        number=number or "",
        state=state or "",
        states=[s.value for s in CallState],
        direction=direction or "",
        directions=[d.value for d in Direction],
        since=since.date().isoformat() if since else "",
        page_number=at,
        more=len(found.calls) == PAGE_SIZE,
        integrations=await _integration_names(request, admin),
    )


def _day(value: str) -> datetime | None:
    """Return the start (UTC) of a day typed as YYYY-MM-DD, None when empty or not a day."""
    try:
        day = date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@router.get("/{call_id}")
async def call_page(request: Request, call_id: PathId, admin: AdminDep) -> Response:
    """Show a call: its events in order, the records found and logged on, every sync's status."""
    runtime = get_runtime(request)
    try:
        call = await through_api(api.detail(call_id, admin.principal, runtime))
    except Refused as refused:
        return page(request, "not_found.html", admin, status=refused.status, message=refused)
    dead = await admin_api.dead_jobs(admin.principal, runtime)
    return page(
        request,
        "call.html",
        admin,
        call=call,
        dead=[job for job in dead if _of_call(job.payload, call_id)],
        integrations=await _integration_names(request, admin),
        replayed=request.query_params.get("replayed") == "1",
    )


def _of_call(payload: dict[str, Any], call_id: str) -> bool:
    return payload.get("call_id") == call_id


@router.post("/{call_id}/replay/{job_id}")
async def replay(request: Request, call_id: PathId, job_id: JobId, admin: FormAdminDep) -> Response:
    """Run a dead sync of the call again, as POST /jobs/dead/{id}/replay does."""
    try:
        await through_api(admin_api.replay(job_id, admin.principal, get_runtime(request)))
    except Refused as refused:
        return page(request, "not_found.html", admin, status=refused.status, message=refused)
    return RedirectResponse(f"/ui/calls/{call_id}?replayed=1", status_code=303)
