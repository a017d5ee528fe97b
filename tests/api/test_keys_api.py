"""Admin API keys through the API: issued once, listed by prefix, revoked, never across companies.

Hypothesis drives sequences of issues and revocations (with odd names, the key in use, and the
other company's ids) and checks every answer and the stored keys against a model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.api.api_tenant import Tenant


@dataclass
class Key:
    """A key issued in one example, as the model knows it."""

    id: str
    raw: str
    name: str
    revoked: bool = False


@dataclass
class Model:
    """What the example did: the keys it issued, every raw key seen, the answers read."""

    keys: list[Key] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)


JSON = {"content-type": "application/json"}


def bearer(raw: str) -> dict[str, str]:
    """Return the header that authenticates with ``raw``."""
    return {"Authorization": f"Bearer {raw}"}


def valid_name(name: str) -> bool:
    """Tell whether the API must accept ``name`` (the rule, restated independently)."""
    storable = "\x00" not in name and not any("\ud800" <= c <= "\udfff" for c in name)
    return 1 <= len(name) <= 200 and storable


NAMES = st.one_of(
    st.text(min_size=0, max_size=210),
    st.sampled_from(["ops", "", "x" * 200, "x" * 201, "a\x00b", "\ud800", "clé 🔑", "‮rtl"]),
)
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("issue"), NAMES),
        st.tuples(st.just("revoke"), st.integers(0, 5)),
        st.tuples(st.just("self"), st.integers(0, 5)),
        st.tuples(st.just("foreign"), st.integers(0, 5)),
    ),
    min_size=1,
    max_size=8,
)


async def _issue(acme: Tenant, model: Model, name: str) -> None:
    # Sent as escaped JSON: a lone surrogate is valid JSON ("\ud800") but not UTF-8.
    body = json.dumps({"name": name})
    answer = await acme.client.post("/api-keys", content=body, headers=JSON)
    if not valid_name(name):
        assert answer.status_code == 422, answer.text
        return
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["key"].startswith("cb_") and created["prefix"] == created["key"][:10]
    assert created["name"] == name
    model.keys.append(Key(created["id"], created["key"], name))
    mine = await acme.client.get("/api-keys", headers=bearer(created["key"]))
    assert mine.status_code == 200
    assert [k["id"] for k in mine.json() if k["current"]] == [created["id"]]
    model.answers.append(mine.text)


async def _revoke(acme: Tenant, model: Model, key: Key) -> None:
    answer = await acme.client.delete(f"/api-keys/{key.id}")
    assert answer.status_code == (404 if key.revoked else 204), answer.text
    key.revoked = True
    assert (await acme.client.get("/api-keys", headers=bearer(key.raw))).status_code == 401


async def _revoke_itself(acme: Tenant, key: Key) -> None:
    answer = await acme.client.delete(f"/api-keys/{key.id}", headers=bearer(key.raw))
    assert answer.status_code == (401 if key.revoked else 409), answer.text
    still = await acme.client.get("/api-keys", headers=bearer(key.raw))
    assert still.status_code == (401 if key.revoked else 200)


async def _across(acme: Tenant, globex: Tenant, key: Key | None) -> None:
    """Neither company can revoke the other's keys: a 404 that changes nothing."""
    theirs = [k["id"] for k in (await globex.client.get("/api-keys")).json()]
    for victim in theirs:
        assert (await acme.client.delete(f"/api-keys/{victim}")).status_code == 404
    if key is not None:
        assert (await globex.client.delete(f"/api-keys/{key.id}")).status_code == 404
    assert (await globex.client.get("/api-keys")).status_code == 200


async def _check_listing(acme: Tenant, globex: Tenant, model: Model) -> None:
    listed = await acme.client.get("/api-keys")
    assert listed.status_code == 200
    shown = {k["id"]: k for k in listed.json()}
    for key in model.keys:
        row = shown[key.id]
        assert set(row) == {"id", "name", "prefix", "created_at", "revoked_at", "current"}
        assert (row["revoked_at"] is not None) is key.revoked
        assert row["prefix"] == key.raw[:10] and row["name"] == key.name
    ours = {k["id"] for k in (await globex.client.get("/api-keys")).json()}
    assert not ours & set(shown), "a company lists another's keys"
    for text in [listed.text, *model.answers]:
        assert not any(key.raw in text for key in model.keys), "a key was shown twice"


@settings(max_examples=20)
@given(steps=STEPS)
async def test_keys_are_shown_once_revoked_on_demand_and_kept_per_company(
    acme: Tenant, globex: Tenant, steps: list[tuple[str, Any]]
) -> None:
    model = Model()
    for action, argument in steps:
        key = model.keys[argument % len(model.keys)] if model.keys and action != "issue" else None
        if action == "issue":
            await _issue(acme, model, argument)
        elif action == "revoke" and key is not None:
            await _revoke(acme, model, key)
        elif action == "self" and key is not None:
            await _revoke_itself(acme, key)
        elif action == "foreign":
            await _across(acme, globex, key)
    await _check_listing(acme, globex, model)
    # The key every example started with still works: it was never revoked by anyone.
    assert (await acme.client.get("/api-keys")).status_code == 200


async def test_the_key_in_use_cannot_revoke_itself_and_rotation_works(acme: Tenant) -> None:
    listed = (await acme.client.get("/api-keys")).json()
    [current] = [k for k in listed if k["current"]]
    refused = await acme.client.delete(f"/api-keys/{current['id']}")
    assert refused.status_code == 409 and "cannot revoke itself" in refused.json()["detail"]
    new = (await acme.client.post("/api-keys", json={"name": "rotated"})).json()
    rotated = await acme.client.delete(f"/api-keys/{current['id']}", headers=bearer(new["key"]))
    assert rotated.status_code == 204
    assert (await acme.client.get("/api-keys")).status_code == 401  # the old key is gone
    again = await acme.client.get("/api-keys", headers=bearer(new["key"]))
    assert [k["prefix"] for k in again.json() if k["current"]] == [new["prefix"]]


async def test_an_unknown_or_overlong_key_id_is_refused(acme: Tenant) -> None:
    assert (await acme.client.delete("/api-keys/" + "0" * 36)).status_code == 404
    assert (await acme.client.delete("/api-keys/" + "0" * 37)).status_code == 422
    anonymous = httpx.AsyncClient(transport=acme.client._transport, base_url="http://t")
    async with anonymous:
        assert (await anonymous.get("/api-keys")).status_code == 401
        assert (await anonymous.post("/api-keys", json={})).status_code == 401
