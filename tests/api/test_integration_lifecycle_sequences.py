"""Generated sequences: disable, enable, delete and create interleaved with incoming calls.

Whatever the order, a call is synced exactly to the integrations that were enabled (and not
deleted) when it ended, and to no other; a deleted integration leaves no row; the other
company's rows never change; no answer is a 5xx. Some calls are folded (their syncs queued)
before the change of state that follows them, so queued syncs meet it too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from callbridge.connectors.local.tables import crm_activities
from callbridge.runtime import Runtime
from callbridge.testing.draining import drain
from tests.api.api_tenant import Tenant
from tests.api.test_integration_lifecycle import (
    call_page,
    deliver,
    folded_not_synced,
    owned_rows,
    syncs_of,
)

#: One step: a call, a call whose syncs are queued before the next step, or a change of state
#: of the n-th integration made in the sequence (it may be deleted already: a 404 then).
STEPS = st.one_of(
    st.tuples(st.sampled_from(["call", "queued call"]), st.integers(0, 3)),
    st.tuples(st.sampled_from(["disable", "enable", "delete"]), st.integers(0, 3)),
    st.tuples(st.just("create"), st.just(0)),
)


@dataclass
class Model:
    """What the sequence expects: each integration's state, each call's integrations."""

    enabled: dict[str, bool] = field(default_factory=dict)  # id → enabled; deleted ones left out
    made: list[str] = field(default_factory=list)  # every integration made, in order
    calls: dict[str, set[str]] = field(default_factory=dict)  # call → integrations it went to
    pending: tuple[str, set[str]] | None = None  # a folded call whose syncs have not run


def _answered(answer: httpx.Response) -> httpx.Response:
    assert answer.status_code < 500, answer.text
    return answer


async def _make(tenant: Tenant, model: Model) -> None:
    body = {"connector": "local", "name": f"CRM {len(model.made)}"}
    made = _answered(await tenant.client.post("/integrations", json=body)).json()
    model.enabled[made["id"]] = True
    model.made.append(made["id"])


async def _change(tenant: Tenant, model: Model, action: str, index: int) -> None:
    """Disable, enable or delete an integration; check the answer against the model."""
    integration = model.made[index % len(model.made)]
    path = f"/integrations/{integration}"
    if action == "delete":
        answer = _answered(await tenant.client.delete(path))
    else:
        answer = _answered(await tenant.client.post(f"{path}/{action}"))
    if integration not in model.enabled:
        assert answer.status_code == 404, answer.text
        return
    assert answer.status_code == 200, answer.text
    if action == "delete":
        del model.enabled[integration]
    else:
        model.enabled[integration] = action == "enable"
        assert answer.json()["status"] == ("active" if action == "enable" else "disabled")


def _settle_pending(model: Model) -> None:
    """A queued call goes to the integrations enabled when it ended and still so when it ran."""
    if model.pending is not None:
        call_id, at_fold = model.pending
        model.calls[call_id] = {i for i in at_fold if model.enabled.get(i)}
        model.pending = None


async def _step(runtime: Runtime, tenant: Tenant, model: Model, step: tuple[str, int]) -> None:
    action, value = step
    if action == "create":
        await _make(tenant, model)
    elif action in ("disable", "enable", "delete"):
        await _change(tenant, model, action, value)
    else:
        if model.pending is not None:  # one queued call at a time
            await drain(runtime)
            _settle_pending(model)
        call_id = f"seq-{uuid.uuid4().hex[:12]}"
        number = f"+1415555012{value}"
        live = {i for i, on in model.enabled.items() if on}
        if action == "queued call":
            await folded_not_synced(runtime, tenant, call_id, number)
            model.pending = (call_id, live)
            return  # its syncs run after the next step
        await deliver(runtime, tenant, call_id, number)
        model.calls[call_id] = live
        await drain(runtime)
    if model.pending is not None:  # a change of state, or a call, met its queued syncs
        await drain(runtime)
        _settle_pending(model)


async def _activities(runtime: Runtime, tenant: Tenant, integration_id: str) -> int:
    query = select(func.count()).where(
        crm_activities.c.company_id == tenant.company.company_id,
        crm_activities.c.integration_id == integration_id,
    )
    async with runtime.reads() as session:
        return int((await session.execute(query)).scalar_one())


async def _check(runtime: Runtime, tenant: Tenant, model: Model) -> None:
    """Every call went to its integrations, each done, and to no other; deleted means gone."""
    logged: dict[str, int] = dict.fromkeys(model.enabled, 0)
    for call_id, expected in model.calls.items():
        syncs = syncs_of(await call_page(tenant, call_id))
        went = {i for i, s in syncs.items() if s["status"] != "skipped"}
        assert went == expected & set(model.enabled), (call_id, syncs)
        assert all(syncs[i]["status"] == "done" for i in went), syncs
        assert all(s["reason"] == "integration disabled" for i, s in syncs.items() if i not in went)
        for integration in went:
            logged[integration] += 1
    for integration in model.made:
        if integration not in model.enabled:
            assert not any((await owned_rows(runtime, tenant, integration)).values())
        else:
            assert await _activities(runtime, tenant, integration) == logged[integration]


@settings(max_examples=12)
@given(steps=st.lists(STEPS, min_size=1, max_size=8))
async def test_calls_go_to_the_enabled_integrations_whatever_the_order(
    api_runtime: Runtime, acme: Tenant, globex: Tenant, steps: list[tuple[str, int]]
) -> None:
    theirs = globex.company.integration_id
    before = await owned_rows(api_runtime, globex, theirs)
    model = Model()
    listed = _answered(await acme.client.get("/integrations")).json()
    for integration in listed:  # what earlier examples left: deleting it is a step too
        assert _answered(await acme.client.delete(f"/integrations/{integration['id']}")).is_success
    for _ in range(2):
        await _make(acme, model)
    for step in steps:
        await _step(api_runtime, acme, model, step)
    if model.pending is not None:
        await drain(api_runtime)
        _settle_pending(model)
    await _check(api_runtime, acme, model)
    assert _answered(await acme.client.get("/jobs/dead")).json() == []
    assert await owned_rows(api_runtime, globex, theirs) == before
    assert [i["id"] for i in (await acme.client.get("/integrations")).json()] == [
        i for i in model.made if i in model.enabled
    ]
