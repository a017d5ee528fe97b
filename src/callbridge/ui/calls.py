"""Calls: the history with filters, and a call's page (events, records, syncs, Replay)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import RedirectResponse

from callbridge.api import admin as admin_api
from callbridge.api import calls as api
from callbridge.api import integrations as integrations_api
from callbridge.api import staff as staff_api
from callbridge.api.deps import get_runtime
from callbridge.domain.call import CallState
from callbridge.domain.event import Direction
from callbridge.refusal_codes import refusal
from callbridge.storage import call_pages
from callbridge.ui.forms import Refused, through_api_or_not_found
from callbridge.ui.i18n import language_of, translations
from callbridge.ui.integration_health import outage
from callbridge.ui.problems import coded
from callbridge.ui.render import page
from callbridge.ui.session import Admin, AdminDep, FormAdminDep
from callbridge.ui.times import zone_info
from callbridge.web.fields import PHONE_LENGTH, PathId

router = APIRouter(prefix="/ui/calls", include_in_schema=False)
PAGE_SIZE = 50
#: What the number filter keeps of what is typed: digits and "+" (spaces and dots go).
NUMBER_CHARS = re.compile(r"[^0-9+]")
JobId = Annotated[int, Path(ge=1, le=2**63 - 1)]


async def _integration_names(request: Request, admin: Admin) -> dict[str, str]:
    shown = await integrations_api.list_all(admin.principal, get_runtime(request))
    return {i.id: i.name for i in shown}


async def _agent_names(request: Request, admin: Admin) -> dict[str, str]:
    shown = await staff_api.list_users(admin.principal, get_runtime(request))
    return {u.id: u.name for u in shown}


@router.get("")
async def history(request: Request, admin: AdminDep) -> Response:
    """List the company's calls, newest first, filtered as the form says, paged by cursor."""
    agents = await _agent_names(request, admin)
    integrations = await _integration_names(request, admin)
    chosen = _chosen(request.query_params, agents, integrations, zone_info(admin.time_zone))
    if chosen is None:
        message = "no such agent or integration in this company"
        return page(request, "not_found.html", admin, status=404, message=message)
    query = request.query_params
    found = await api.history(
        get_runtime(request),
        admin.principal.company_id,
        chosen,
        PAGE_SIZE,
        after=query.get("after", "")[:200] or None,
        before=query.get("before", "")[:200] or None,
    )
    return page(
        request,
        "calls.html",
        admin,
        calls=found.calls,
        wanted=_shown(chosen, zone_info(admin.time_zone)),
        here_query=urlencode(
            {k: v for k, v in _shown(chosen, zone_info(admin.time_zone)).items() if v}
        ),
        states=[s.value for s in CallState],
        directions=[d.value for d in Direction],
        statuses=list(call_pages.SYNC_STATUSES),
        agents=agents,
        integrations=integrations,
        older=found.older,
        newer=found.newer,
    )


def _chosen(
    query: Mapping[str, str],
    agents: Mapping[str, str],
    integrations: Mapping[str, str],
    zone: tzinfo,
) -> call_pages.CallFilter | None:
    """Read the filters of the page's URL (days in ``zone``); None for another company's."""
    agent, integration = query.get("agent") or None, query.get("integration") or None
    if (agent and agent not in agents) or (integration and integration not in integrations):
        return None
    return call_pages.CallFilter(
        state=_one_of(query.get("state"), [s.value for s in CallState]),
        direction=_one_of(query.get("direction"), [d.value for d in Direction]),
        number=NUMBER_CHARS.sub("", query.get("number", ""))[:PHONE_LENGTH] or None,
        since=_day(query.get("since", ""), zone),
        until=_day(query.get("until", ""), zone, next_day=True),
        agent=agent,
        integration=integration,
        status=_one_of(query.get("status"), call_pages.SYNC_STATUSES),
    )


def _one_of(value: str | None, allowed: Sequence[str]) -> str | None:
    """Return the value when it is one of those allowed (else no filter)."""
    return value if value in allowed else None


def _shown(chosen: call_pages.CallFilter, zone: tzinfo) -> dict[str, str]:
    """Return the filters as the form shows them (and the paging links carry them)."""
    since = chosen.since.astimezone(zone).date().isoformat() if chosen.since else ""
    last = chosen.until.astimezone(zone).date() - timedelta(days=1) if chosen.until else None
    until = last.isoformat() if last else ""
    values = {k: v for k, v in vars(chosen).items() if k not in ("since", "until")}
    return {**{k: v or "" for k, v in values.items()}, "since": since, "until": until}


def _day(value: str, zone: tzinfo, *, next_day: bool = False) -> datetime | None:
    """Return the start of a day typed as YYYY-MM-DD (or of the next one) in ``zone``, as UTC."""
    try:
        day = date.fromisoformat(value.strip()[:10])
        if next_day:
            day += timedelta(days=1)
        return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


@router.get("/{call_id}")
async def call_page(request: Request, call_id: PathId, admin: AdminDep) -> Response:
    """Show a call: its events in order, the records found and logged on, every sync's status."""
    runtime = get_runtime(request)
    call = await through_api_or_not_found(
        request, admin, api.detail(call_id, admin.principal, runtime)
    )
    if isinstance(call, Response):
        return call
    dead = await admin_api.dead_jobs(admin.principal, runtime)
    return page(
        request,
        "call.html",
        admin,
        call=call,
        crm_outages=_outages(call, language_of(request, admin.language), runtime.clock(), admin),
        dead=[job for job in dead if _of_call(job.payload, call_id)],
        integrations=await _integration_names(request, admin),
        replayed=request.query_params.get("replayed") == "1",
    )


def _outages(call: api.CallDetail, language: str, now: datetime, admin: Admin) -> dict[str, str]:
    """Return, by integration, the outage of the CRM a sync waits for, in ``language``."""
    gettext = translations(language).gettext
    said = {
        s.integration_id: outage(
            s.crm_state,
            s.crm_unreachable_since,
            s.crm_next_probe_at,
            gettext,
            language,
            now,
            admin.time_zone,
        )
        for s in call.syncs
    }
    return {integration: text for integration, text in said.items() if text}


def _of_call(payload: dict[str, Any], call_id: str) -> bool:
    return payload.get("call_id") == call_id


@router.post("/{call_id}/replay/{job_id}")
async def replay(request: Request, call_id: PathId, job_id: JobId, admin: FormAdminDep) -> Response:
    """Run a dead sync of the call again, as POST /jobs/dead/{id}/replay does.

    The job must be a dead sync of this call among the company's dead jobs: another call's job,
    or a call that is not the company's, is not found here.
    """
    runtime = get_runtime(request)

    async def replayed() -> admin_api.Replayed:
        dead = await admin_api.dead_jobs(admin.principal, runtime)
        if not any(str(job.id) == str(job_id) and _of_call(job.payload, call_id) for job in dead):
            # Said in the page's language: the job is not among this call's dead syncs.
            raise Refused([coded(refusal("no_dead_job", job_id=str(job_id)))], status=404)
        return await admin_api.replay(job_id, admin.principal, runtime)

    refused = await through_api_or_not_found(request, admin, replayed())
    if isinstance(refused, Response):
        return refused
    return RedirectResponse(f"/ui/calls/{call_id}?replayed=1", status_code=303)
