"""Mount the UI on the API's app: its pages under /ui/ and its static files."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from callbridge.ui import (
    agents,
    auth,
    calls,
    company,
    dialer,
    dialer_live,
    integration_lifecycle,
    integrations,
    matrix,
    people,
    sources,
    staff,
)
from callbridge.ui.render import page
from callbridge.ui.session import CsrfRefused, SignInNeeded

STATIC = Path(__file__).parent / "static"


def mount(app: FastAPI) -> FastAPI:
    """Add the UI to ``app`` and return it (the process calls this on the app it serves)."""
    modules = (
        auth,
        integrations,
        integration_lifecycle,
        people,
        matrix,
        staff,
        agents,
        calls,
        sources,
        company,
        dialer_live,
        dialer,
    )
    for module in modules:
        app.include_router(module.router)
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")

    async def sign_in_needed(request: Request, _err: Exception) -> Response:
        if request.headers.get("hx-request"):  # htmx: reload the whole page onto the sign-in
            return Response(status_code=204, headers={"HX-Redirect": "/ui/sign-in"})
        return RedirectResponse("/ui/sign-in", status_code=303)

    async def csrf_refused(request: Request, _err: Exception) -> Response:
        return page(request, "refused.html", status=403)

    async def agent_sign_in_needed(request: Request, _err: Exception) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": "/ui/dialer/sign-in"})
        return RedirectResponse("/ui/dialer/sign-in", status_code=303)

    app.add_exception_handler(SignInNeeded, sign_in_needed)
    app.add_exception_handler(dialer.AgentSignInNeeded, agent_sign_in_needed)
    app.add_exception_handler(CsrfRefused, csrf_refused)
    return app
