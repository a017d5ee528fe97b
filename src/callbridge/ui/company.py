"""The company's settings: its language, the screens' default when the user picked none."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from callbridge.api import admin as admin_api
from callbridge.api.deps import get_runtime
from callbridge.ui.forms import Refused, submit, text
from callbridge.ui.i18n import LANGUAGE_NAMES
from callbridge.ui.render import page
from callbridge.ui.session import AdminDep, FormAdminDep

router = APIRouter(prefix="/ui/company", include_in_schema=False)


@router.get("")
async def screen(request: Request, admin: AdminDep) -> Response:
    """Show the company's language, editable."""
    return page(
        request,
        "company.html",
        admin,
        choices=LANGUAGE_NAMES,
        current=admin.language or "",
        errors=[],
        done=request.query_params.get("done") == "1",
    )


@router.post("")
async def save(request: Request, admin: FormAdminDep) -> Response:
    """Set the company's language (empty: none, the browser's is followed), as PATCH /company."""
    runtime = get_runtime(request)

    def refused(refused: Refused, _form: FormData) -> Response:
        return page(
            request, "company.html", admin, status=refused.status, choices=LANGUAGE_NAMES,
            current=admin.language or "", errors=refused.messages, done=False,
        )  # fmt: skip

    return await submit(
        request,
        admin_api.CompanyPatch,
        lambda form: {"language": text(form, "language")},
        lambda patch: admin_api.change_company(patch, admin.principal, runtime),
        refused=refused,
        done=lambda _company: RedirectResponse("/ui/company?done=1", status_code=303),
    )
