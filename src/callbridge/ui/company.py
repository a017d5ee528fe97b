"""The company's settings: its language (the screens' default) and the zone of its times."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from callbridge.api import admin as admin_api
from callbridge.api.deps import get_runtime
from callbridge.ui.forms import Refused, submit, text
from callbridge.ui.i18n import LANGUAGE_NAMES
from callbridge.ui.render import page
from callbridge.ui.session import Admin, AdminDep, FormAdminDep

router = APIRouter(prefix="/ui/company", include_in_schema=False)


def _screen(request: Request, admin: Admin, status: int = 200, **shown: Any) -> Response:
    """Answer the company's form: ``shown`` overrides the stored values (a refused form's)."""
    values = {
        "current": admin.language or "",
        "current_zone": admin.time_zone,
        "errors": [],
        "done": False,
        **shown,
    }
    return page(
        request,
        "company.html",
        admin,
        status=status,
        choices=LANGUAGE_NAMES,
        zones=sorted(admin_api.time_zones()),
        **values,
    )


@router.get("")
async def screen(request: Request, admin: AdminDep) -> Response:
    """Show the company's language and time zone, editable."""
    return _screen(request, admin, done=request.query_params.get("done") == "1")


def _values(form: FormData) -> dict[str, Any]:
    """Return the PATCH /company body of the form; an empty zone is UTC."""
    return {"language": text(form, "language"), "time_zone": text(form, "time_zone") or "UTC"}


@router.post("")
async def save(request: Request, admin: FormAdminDep) -> Response:
    """Set the company's language (empty: the browser's) and time zone, as PATCH /company."""
    runtime = get_runtime(request)

    def refused(refused: Refused, form: FormData) -> Response:
        typed = form.get("time_zone")
        zone = typed[:64] if isinstance(typed, str) else admin.time_zone
        return _screen(request, admin, refused.status, errors=refused.messages, current_zone=zone)

    return await submit(
        request,
        admin_api.CompanyPatch,
        _values,
        lambda patch: admin_api.change_company(patch, admin.principal, runtime),
        refused=refused,
        done=lambda _company: RedirectResponse("/ui/company?done=1", status_code=303),
    )
