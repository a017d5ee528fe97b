"""Telephony sources: webhook URL and setup steps, secret rotation, recent deliveries."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from callbridge.api import source_deliveries as deliveries_api
from callbridge.api import sources as api
from callbridge.api.deps import get_runtime
from callbridge.api.source_deliveries import DeliveryList
from callbridge.api.sources import SecretRotation, SourceDetail
from callbridge.ui.forms import or_not_found, submit, text, through_api_or_not_found
from callbridge.ui.render import page
from callbridge.ui.session import Admin, AdminDep, FormAdminDep
from callbridge.web.fields import PathId

router = APIRouter(prefix="/ui/sources", include_in_schema=False)
RECENT = 20


@router.get("")
async def listing(request: Request, admin: AdminDep) -> Response:
    """List the company's telephony sources."""
    shown = await api.list_sources(admin.principal, get_runtime(request))
    return page(request, "sources.html", admin, sources=shown)


async def _source_page(
    request: Request, admin: Admin, source_id: str, status: int = 200, **context: Any
) -> Response:
    runtime = get_runtime(request)

    async def read() -> tuple[SourceDetail, DeliveryList]:
        return (
            await api.read_source(source_id, request, admin.principal, runtime),
            await deliveries_api.list_deliveries(source_id, admin.principal, runtime, RECENT, 0),
        )

    found = await through_api_or_not_found(request, admin, read())
    if isinstance(found, Response):
        return found
    source, recent = found
    return page(
        request,
        "source.html",
        admin,
        status=status,
        source=source,
        deliveries=recent.deliveries,
        **context,
    )


@router.get("/{source_id}")
async def source_page(request: Request, source_id: PathId, admin: AdminDep) -> Response:
    """Show a source: where the platform sends webhooks, its setup steps, recent deliveries."""
    return await _source_page(request, admin, source_id)


def _rotation(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {"keep_previous": "keep_previous" in form}
    if text(form, "secret") is not None:
        values["secret"] = text(form, "secret")
    return values


@router.post("/{source_id}/secret")
async def rotate(request: Request, source_id: PathId, admin: FormAdminDep) -> Response:
    """Rotate the source's secret through the API's route; a generated one is shown once."""
    runtime = get_runtime(request)
    return await submit(
        request,
        SecretRotation,
        _rotation,
        lambda body: api.rotate_secret(source_id, admin.principal, runtime, body),
        refused=or_not_found(
            request,
            admin,
            lambda errors: _source_page(request, admin, source_id, 422, errors=errors),
        ),
        done=lambda rotated: _source_page(request, admin, source_id, rotated=rotated),
    )
