"""The local CRM's routes come from its spec, with the URLs and operation ids they always had.

They moved from ``api/local_crm.py`` to ``connectors/local/routes.py``: clients generated from the
OpenAPI document name operations by id, so the ids are pinned here; the API's authentication and
field limits are the API's own (``callbridge.web.fields``), not copies.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from callbridge.api import deps
from callbridge.connectors import registry
from callbridge.connectors.spec import RouteHost
from callbridge.web import fields

RECORDS = "/integrations/{integration_id}/records"
#: (method, path) → operation id, as published before the move.
OPERATIONS = {
    ("post", RECORDS): "create_integrations__integration_id__records_post",
    ("get", RECORDS): "list_records_integrations__integration_id__records_get",
    ("get", f"{RECORDS}/search"): "search_integrations__integration_id__records_search_get",
    (
        "get",
        f"{RECORDS}/{{record_id}}",
    ): "read_integrations__integration_id__records__record_id__get",
    ("patch", f"{RECORDS}/{{record_id}}"): (
        "change_integrations__integration_id__records__record_id__patch"
    ),
    ("delete", f"{RECORDS}/{{record_id}}"): (
        "remove_integrations__integration_id__records__record_id__delete"
    ),
    ("post", "/integrations/{integration_id}/deals"): (
        "create_deal_integrations__integration_id__deals_post"
    ),
    **{
        ("get", f"/integrations/{{integration_id}}/{kind}"): (
            f"followups_integrations__integration_id__{kind}_get"
        )
        for kind in ("deals", "tasks", "notes")
    },
}


def _document() -> dict[str, Any]:
    app = FastAPI()
    for router in registry.routers(RouteHost(deps.get_principal, deps.runtime_of)):
        app.include_router(router)
    return app.openapi()


def test_the_local_crm_keeps_its_urls_and_operation_ids() -> None:
    paths = _document()["paths"]
    found = {(m, p): op["operationId"] for p, item in paths.items() for m, op in item.items()}
    assert found == OPERATIONS


def test_every_local_crm_route_asks_for_a_company_key_and_documents_its_refusals() -> None:
    for item in _document()["paths"].values():
        for operation in item.values():
            assert operation["security"] == [{"HTTPBearer": []}]
            assert {"401", "404", "409", "413", "422"} <= set(operation["responses"])


def test_the_bodies_carry_the_api_field_limits() -> None:
    schemas = _document()["components"]["schemas"]
    name = schemas["RecordIn"]["properties"]["name"]
    assert (name["minLength"], name["maxLength"]) == (1, 300)
    assert name["pattern"] == fields.STORABLE_PATTERN
    phones = schemas["RecordIn"]["properties"]["phones"]
    assert phones["maxItems"] == 20
    assert phones["items"]["maxLength"] == fields.PHONE_LENGTH
    stage = schemas["DealIn"]["properties"]["stage"]
    assert stage["maxLength"] == 100
    path_id = _document()["paths"][RECORDS]["get"]["parameters"][0]["schema"]
    assert path_id["maxLength"] == fields.ID_LENGTH
