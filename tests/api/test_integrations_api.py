"""Integrations over the API: settings validated with the field named, changes visible at once."""

from __future__ import annotations

import pytest

from callbridge.runtime import Runtime
from callbridge.storage import sql
from callbridge.storage.integrations import update_integration
from tests.api.api_tenant import Tenant, problems


async def test_create_read_update_an_integration(acme: Tenant) -> None:
    created = await acme.client.post(
        "/integrations",
        json={
            "connector": "local",
            "name": "Second CRM",
            "default_region": "fr",
            "language": "fr",
            "creation_policy": "missed",
        },
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["default_region"], body["language"], body["creation_policy"]) == (
        "FR",
        "fr",
        "missed",
    )
    assert "credentials_encrypted" not in body
    assert body["creation_policy_options"] == [
        "all",
        "incoming",
        "outgoing",
        "missed",
        "answered",
        "none",
    ]
    changed = await acme.client.patch(
        f"/integrations/{body['id']}",
        json={"creation_policy": "none", "name_template": "{default} {phone}"},
    )
    assert changed.json()["creation_policy"] == "none"
    assert changed.json()["name_template"] == "{default} {phone}"
    listed = (await acme.client.get("/integrations")).json()
    assert len(listed) == 2


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"creation_policy": "sometimes"}, "creation_policy"),
        ({"default_region": "XX"}, "default_region"),
        ({"language": "de"}, "language"),
    ],
)
async def test_bad_settings_are_refused_naming_the_field(
    acme: Tenant, patch: dict[str, str], field: str
) -> None:
    answer = await acme.client.patch(f"/integrations/{acme.company.integration_id}", json=patch)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"][-1] == field


async def test_unknown_connector_is_refused(acme: Tenant) -> None:
    answer = await acme.client.post("/integrations", json={"connector": "nope", "name": "x"})
    assert (
        "installed:" in problems(answer)["connector"] and "local" in problems(answer)["connector"]
    )


async def test_companies_never_see_each_other(acme: Tenant, globex: Tenant) -> None:
    path = f"/integrations/{acme.company.integration_id}"
    assert (await globex.client.get(path)).status_code == 404
    assert (await globex.client.patch(path, json={"creation_policy": "none"})).status_code == 404
    assert (await globex.client.get(f"{path}/records")).status_code == 404
    assert [i["id"] for i in (await globex.client.get("/integrations")).json()] == [
        globex.company.integration_id
    ]
    assert (await acme.client.get(path)).json()["creation_policy"] == "all"


async def test_credentials_are_checked_sealed_and_never_shown(acme: Tenant) -> None:
    created = await acme.client.post(
        "/integrations",
        json={"connector": "local", "name": "With secrets", "credentials": {"token": "s3cret"}},
    )
    assert created.status_code == 201
    assert created.json()["has_credentials"] is True
    assert "s3cret" not in created.text
    changed = await acme.client.patch(
        f"/integrations/{created.json()['id']}", json={"credentials": {"token": "n3w"}}
    )
    assert changed.status_code == 200 and "n3w" not in changed.text
    listed = await acme.client.get("/integrations")
    assert "s3cret" not in listed.text and "n3w" not in listed.text


async def test_a_crm_that_cannot_create_contacts_is_offered_only_none(
    acme: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from callbridge.connectors import registry
    from callbridge.connectors.base import Capability, IntegrationContext
    from callbridge.connectors.local.connector import LocalConnector, build

    class ReadOnlyLocal(LocalConnector):
        capabilities = frozenset(Capability) - {Capability.CREATE_CONTACT}

    def build_read_only(context: IntegrationContext) -> ReadOnlyLocal:
        built = build(context)
        assert isinstance(built, LocalConnector)
        return ReadOnlyLocal(built.client, built.followups, built.config)

    monkeypatch.setitem(registry.connectors(), "readonly", build_read_only)
    defaulted = await acme.client.post(
        "/integrations", json={"connector": "readonly", "name": "Read only"}
    )  # the default policy is "all"
    assert defaulted.status_code == 422
    created = await acme.client.post(
        "/integrations",
        json={"connector": "readonly", "name": "Read only", "creation_policy": "none"},
    )
    assert created.status_code == 201
    body = created.json()
    assert body["creation_policy_options"] == ["none"]
    assert "cannot create contacts" in body["creation_policy_note"]
    refused = await acme.client.patch(
        f"/integrations/{body['id']}", json={"creation_policy": "all"}
    )
    assert "cannot create contacts" in problems(refused)["creation_policy"]


async def test_accepted_credentials_resume_an_integration_paused_for_refused_ones(
    acme: Tenant, api_runtime: Runtime
) -> None:
    path = f"/integrations/{acme.company.integration_id}"
    async with api_runtime.sessions.begin() as session:
        await sql.run(
            session,
            update_integration,
            acme.company.company_id,
            acme.company.integration_id,
            api_runtime.clock(),
            status="paused",
            status_reason="CRM refused the credentials: 401. Re-enter them.",
        )
    renamed = await acme.client.patch(path, json={"name": "Renamed"})
    assert renamed.json()["status"] == "paused", "other settings leave the pause alone"
    resumed = await acme.client.patch(path, json={"credentials": {"token": "n3w"}})
    assert resumed.status_code == 200
    assert (resumed.json()["status"], resumed.json()["status_reason"]) == ("active", None)
