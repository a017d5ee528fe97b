"""The agent's dialer, before a call: sign in with an agent token, find records, choose, confirm.

The agent token is kept in the session cookie encrypted with the server's secret box (Fernet)
inside the signed, expiring cookie, and checked on every request by the API's own ``get_actor``:
a revoked token or a moved agent is seen at once.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials
from itsdangerous import BadSignature

from callbridge.api import calls as calls_api
from callbridge.api import dialer as api
from callbridge.api.agent_auth import Actor, get_actor
from callbridge.api.deps import get_runtime
from callbridge.api.dialer_models import IntentIn
from callbridge.storage import accounts, integrations, sql
from callbridge.ui import labels
from callbridge.ui.forms import Refused, model, posted, text, through_api
from callbridge.ui.i18n import language_of
from callbridge.ui.render import page, rendered
from callbridge.ui.session import (
    SESSION_SECONDS,
    SIGN_IN_COOKIE,
    SIGN_IN_SECONDS,
    CsrfRefused,
    cookie_options,
    new_sign_in_token,
    serializer,
    sign_in_token_matches,
)

router = APIRouter(prefix="/ui/dialer", include_in_schema=False)
AGENT_COOKIE = "cb_agent"


class AgentSignInNeeded(Exception):
    """No valid agent session: the answer is the dialer's sign-in page."""


async def _actor(request: Request, token: str) -> Actor:
    credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)
    return await get_actor(request, credentials)


async def agent_session(request: Request) -> tuple[Actor, str]:
    """Return the signed-in agent and the session's CSRF token, or ask to sign in."""
    runtime = get_runtime(request)
    try:
        payload = serializer(runtime, "agent").loads(
            request.cookies.get(AGENT_COOKIE, ""), max_age=SESSION_SECONDS
        )
        token = runtime.box.open(payload["t"].encode())
        actor = await _actor(request, str(token))
    except (BadSignature, ValueError, KeyError, TypeError, AttributeError, HTTPException) as err:
        raise AgentSignInNeeded from err
    return actor, str(payload["x"])


AgentDep = Annotated[tuple[Actor, str], Depends(agent_session)]


async def agent_page(
    request: Request, actor: Actor, template: str, status: int = 200, **context: Any
) -> Response:
    """Answer a dialer page in the agent's language (pick, company, browser), company's zone."""
    async with get_runtime(request).reads() as reads:
        language, zone = await sql.run(reads, accounts.get_company_screens, actor.company_id)
    chosen = language_of(request, language)
    return rendered(request, template, chosen, None, status, {**context, "zone": zone})


async def _checked(request: Request, session: AgentDep) -> tuple[Actor, str]:
    form = await posted(request)
    posted_token = form.get("csrf")
    if not isinstance(posted_token, str) or not hmac.compare_digest(posted_token, session[1]):
        raise CsrfRefused
    return session


FormAgentDep = Annotated[tuple[Actor, str], Depends(_checked)]


@router.get("/sign-in")
async def sign_in_form(request: Request) -> Response:
    """Show the agent's sign-in form, with a fresh CSRF token in a signed cookie."""
    token, cookie = new_sign_in_token(request)
    answer = page(request, "dialer_sign_in.html", csrf=token, error=None)
    answer.set_cookie(SIGN_IN_COOKIE, cookie, **cookie_options(request, SIGN_IN_SECONDS))
    return answer


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    """Check the agent token exactly as the dialer API does; on success open the dialer."""
    form = await posted(request)
    token, csrf = text(form, "token"), text(form, "csrf") or ""
    if not sign_in_token_matches(request, csrf):
        return page(request, "refused.html", status=403)
    try:
        await _actor(request, (token or "")[:200])
    except HTTPException as refused:
        return page(request, "dialer_sign_in.html", csrf=csrf, error=refused.detail, status=401)
    runtime = get_runtime(request)
    sealed = runtime.box.seal(token).decode()
    value = serializer(runtime, "agent").dumps({"t": sealed, "x": secrets.token_urlsafe(24)})
    answer = RedirectResponse("/ui/dialer", status_code=303)
    answer.set_cookie(AGENT_COOKIE, str(value), **cookie_options(request, SESSION_SECONDS))
    return answer


@router.post("/sign-out")
async def sign_out(_agent: FormAgentDep) -> Response:
    """End the agent's session (the token itself stays valid)."""
    answer = RedirectResponse("/ui/dialer/sign-in", status_code=303)
    answer.delete_cookie(AGENT_COOKIE, path="/ui")
    return answer


@router.get("")
async def dialer(request: Request, session: AgentDep) -> Response:
    """Show the dialer; a number in the URL (click-to-dial) is looked up at once."""
    actor, csrf = session
    number = (request.query_params.get("number") or "")[:40]
    record = (request.query_params.get("record") or "")[:200]
    found = await _candidates(request, actor, number) if number else {}
    return await agent_page(
        request,
        actor,
        "dialer.html",
        csrf=csrf,
        agent=actor,
        number=number,
        record=record,
        integration=(request.query_params.get("integration") or "")[:36],
        **found,
    )


async def _candidates(request: Request, actor: Actor, number: str) -> dict[str, Any]:
    """Return the records matching ``number`` grouped by type, or why choosing is off."""
    try:
        found = await through_api(api.candidates(actor, get_runtime(request), number, None))
    except Refused as refused:
        return {"off": labels.choosing_off(refused.messages)}
    return {"found": found}


@router.get("/candidates")
async def candidates(request: Request, session: AgentDep) -> Response:
    """Render the matching records for the typed number (htmx fragment)."""
    actor, csrf = session
    number = (request.query_params.get("number") or "")[:40]
    found = await _candidates(request, actor, number) if number.strip() else {}
    return await agent_page(
        request, actor, "dialer_candidates.html", csrf=csrf, number=number, **found
    )


@router.post("/intents")
async def choose(request: Request, session: FormAgentDep) -> Response:
    """Bind the ticked records (or a click-to-dial record) to the agent's next call."""
    actor, csrf = session
    form = await posted(request)
    picked = [v.split("|", 1) for v in form.getlist("choice") if isinstance(v, str) and "|" in v]
    body: dict[str, Any] = {
        "number": text(form, "number"),
        "choices": [{"integration_id": i, "record_id": r} for i, r in picked],
    }
    if text(form, "record"):
        body |= {"crm_record_id": text(form, "record"), "integration_id": text(form, "integration")}
    try:
        made = await through_api(
            api.create_intent(model(IntentIn, body), actor, get_runtime(request))
        )
    except Refused as refused:
        errors = refused.messages
        return await agent_page(request, actor, "dialer_result.html", 422, csrf=csrf, errors=errors)
    return await agent_page(request, actor, "dialer_result.html", csrf=csrf, made=made)


MY_CALLS_PAGE = 20


@router.get("/my-calls")
async def my_calls(request: Request, session: AgentDep) -> Response:
    """List the agent's own calls: the record found by number, and where each log went."""
    actor, csrf = session
    runtime = get_runtime(request)
    query = request.query_params
    # Only the signed-in agent's calls of their company, as the API's GET /calls/mine says.
    found = await calls_api.my_calls(
        actor,
        runtime,
        after=query.get("after", "")[:200] or None,
        before=query.get("before", "")[:200] or None,
        limit=MY_CALLS_PAGE,
    )
    async with runtime.reads() as reads:
        crms = await sql.run(reads, integrations.list_integrations, actor.company_id)
    return await agent_page(
        request,
        actor,
        "dialer_calls.html",
        csrf=csrf,
        agent=actor,
        calls=found.calls,
        integrations={crm["id"]: crm["name"] for crm in crms},
        older=found.older,
        newer=found.newer,
    )
