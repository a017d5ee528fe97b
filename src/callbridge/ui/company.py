"""The company's settings: its language, the screens' default when the user picked none."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from callbridge.api.deps import get_runtime
from callbridge.storage import accounts, sql
from callbridge.ui.forms import posted, text
from callbridge.ui.i18n import LANGUAGE_NAMES, LANGUAGES
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
    """Set the company's language (empty: none, the browser's is followed)."""
    language = text(await posted(request), "language")
    if language is not None and language not in LANGUAGES:
        errors = [f"language: use one of {', '.join(LANGUAGES)}, or none"]
        return page(
            request, "company.html", admin, status=422, choices=LANGUAGE_NAMES,
            current=admin.language or "", errors=errors, done=False,
        )  # fmt: skip
    async with get_runtime(request).sessions.begin() as session:
        values = {"language": language}
        await sql.run(session, accounts.change_company, admin.principal.company_id, values)
    return RedirectResponse("/ui/company?done=1", status_code=303)
