"""Employees ↔ the CRM's users in one integration: the automatic e-mail mapping, and overrides."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from callbridge.api import integrations as integrations_api
from callbridge.api import staff as staff_api
from callbridge.api import user_links as api
from callbridge.api.deps import get_runtime
from callbridge.api.integration_models import IntegrationShown
from callbridge.api.user_links import LinkIn, UserLink
from callbridge.ui.forms import or_not_found, submit, text, through_api_or_not_found
from callbridge.ui.render import page
from callbridge.ui.session import Admin, AdminDep, FormAdminDep
from callbridge.web.fields import PathId

router = APIRouter(prefix="/ui/integrations", include_in_schema=False)


async def _people_page(
    request: Request, admin: Admin, integration_id: str, errors: list[str], status: int = 200
) -> Response:
    runtime = get_runtime(request)

    async def read() -> tuple[IntegrationShown, list[UserLink]]:
        return (
            await integrations_api.read(integration_id, admin.principal, runtime),
            await api.list_links(integration_id, admin.principal, runtime),
        )

    found = await through_api_or_not_found(request, admin, read())
    if isinstance(found, Response):
        return found
    integration, links = found
    employees = await staff_api.list_users(admin.principal, runtime)
    return page(
        request,
        "people.html",
        admin,
        status=status,
        integration=integration,
        employees=employees,
        links={link.user_id: link for link in links},
        errors=errors,
        done=request.query_params.get("done") == "1",
    )


@router.get("/{integration_id}/people")
async def people(request: Request, integration_id: PathId, admin: AdminDep) -> Response:
    """Show each employee's CRM user in this integration, and how it was found."""
    return await _people_page(request, admin, integration_id, [])


@router.post("/{integration_id}/people/{user_id}")
async def set_link(
    request: Request, integration_id: PathId, user_id: PathId, admin: FormAdminDep
) -> Response:
    """Map an employee to a CRM user by hand, through the API's route (it checks the CRM)."""
    runtime = get_runtime(request)
    return await submit(
        request,
        LinkIn,
        lambda form: {"crm_user_id": text(form, "crm_user_id")},
        lambda body: api.set_link(integration_id, user_id, body, admin.principal, runtime),
        refused=or_not_found(
            request, admin, lambda errors: _people_page(request, admin, integration_id, errors, 422)
        ),
        done=lambda _link: RedirectResponse(
            f"/ui/integrations/{integration_id}/people?done=1", status_code=303
        ),
    )
