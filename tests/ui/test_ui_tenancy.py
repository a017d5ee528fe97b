"""Every screen route that takes an id, walked with another company's ids: 404, nothing changed.

The routes are read from the app itself (a screen added tomorrow is walked too); each path
parameter is filled with the other company's id of that kind, alone and beside the company's own
ids, and with an id nobody has. GETs and POSTs (with the session's valid CSRF token) alike must
answer 404, and the other company's state, read through its API before and after, must not move.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest
from starlette.routing import BaseRoute, Route

from callbridge.api.app import create_app
from callbridge.runtime import Runtime
from callbridge.ui.mount import mount
from tests.ui.test_calls_ui import _dead_sync, synced_call
from tests.ui.test_dialer_ui import _agent_token, _sign_in
from tests.ui.ui_client import UiTenant

PARAM = re.compile(r"{(\w+)}")
#: Path parameters that are not ids of a company's rows.
NOT_IDS = {"language"}
#: Fields valid for the screens' forms, so a POST reaches the id's check, not a missing field.
FORM = {"name": "Renamed", "crm_user_id": "crm-user-1", "grant": "1", "language": "fr"}
#: What the other company's API shows; none of it may change.
STATE = ("/integrations", "/teams", "/users", "/sources", "/calls", "/jobs/dead")


@dataclass(frozen=True)
class Ids:
    """One company's id of each kind a screen's path names, and its agent's token."""

    by_param: dict[str, str]
    agent_token: str


def _leaves(routes: Sequence[BaseRoute]) -> Iterator[BaseRoute]:
    for route in routes:
        included = getattr(route, "original_router", None)
        yield from _leaves(included.routes) if included is not None else (route,)


def screen_routes(runtime: Runtime) -> list[tuple[str, str]]:
    """Return (method, path) of every /ui route whose path names a company's row."""
    app = mount(create_app(runtime))
    found = set()
    for route in _leaves(app.routes):
        if not isinstance(route, Route) or not route.path.startswith("/ui/"):
            continue
        if not set(PARAM.findall(route.path)) - NOT_IDS:
            continue
        found |= {(m, route.path) for m in route.methods or () if m in ("GET", "POST")}
    return sorted(found)


async def _ids(runtime: Runtime, tenant: UiTenant, call: str) -> Ids:
    """Create one row of each kind for ``tenant``; return their ids by path parameter name."""
    headers = {"Authorization": f"Bearer {tenant.company.api_key}"}
    issued = await _agent_token(tenant)
    await _dead_sync(runtime, tenant, call)
    [dead] = await runtime.queue.dead_letters(company_id=tenant.company.company_id)
    teams = (await tenant.client.get("/teams", headers=headers)).json()
    users = (await tenant.client.get("/users", headers=headers)).json()
    return Ids(
        {
            "integration_id": tenant.company.integration_id,
            "source_id": tenant.company.source_id,
            "call_id": call,
            "job_id": str(dead.id),
            "team_id": str(_rows(teams)[0]["id"]),
            "user_id": str(_rows(users)[0]["id"]),
            "token_id": str(issued["id"]),
        },
        issued["token"],
    )


def _rows(answer: object) -> list[dict[str, object]]:
    """Return the rows of a list answer, bare or wrapped in one key."""
    if isinstance(answer, dict):
        [rows] = [v for v in answer.values() if isinstance(v, list)]
        return rows
    assert isinstance(answer, list)
    return answer


def _fillings(path: str, mine: Ids, theirs: Ids) -> Iterator[str]:
    """Yield ``path`` with at least one parameter another company's or nobody's id."""
    names = [n for n in PARAM.findall(path) if n not in NOT_IDS]
    choices = [(mine.by_param[n], theirs.by_param[n], _nobodys(theirs.by_param[n])) for n in names]
    for values in itertools.product(*choices):
        if all(v == mine.by_param[n] for n, v in zip(names, values, strict=True)):
            continue
        filled = path
        for name, value in zip(names, values, strict=True):
            filled = filled.replace("{" + name + "}", value, 1)
        yield filled


def _nobodys(id_: str) -> str:
    """Return an id of the same shape as ``id_`` that no row has."""
    return "987654321" if id_.isdigit() else str(uuid.uuid4())


async def _state(tenant: UiTenant) -> list[object]:
    headers = {"Authorization": f"Bearer {tenant.company.api_key}"}
    return [(await tenant.client.get(p, headers=headers)).json() for p in STATE]


@pytest.mark.parametrize("signed_in_as", ["admin", "agent"])
async def test_every_screen_route_with_an_id_refuses_another_companys(
    ui_runtime: Runtime, acme: UiTenant, globex: UiTenant, signed_in_as: str
) -> None:
    mine = await _ids(ui_runtime, acme, await synced_call(ui_runtime, acme, "c-mine"))
    theirs = await _ids(ui_runtime, globex, await synced_call(ui_runtime, globex, "c-theirs"))
    routes = screen_routes(ui_runtime)
    assert len(routes) >= 20, routes  # the walk reads the app's routes, not a list of its own
    csrf = await acme.sign_in()
    if signed_in_as == "agent":
        csrf = await _sign_in(acme, mine.agent_token)
    before = await _state(globex)
    walked = 0
    for method, path in routes:
        dialer = path.startswith("/ui/dialer/")
        if dialer != (signed_in_as == "agent"):
            continue
        for url in _fillings(path, mine, theirs):
            data = {**FORM, "csrf": csrf, "choice": f"{theirs.by_param['integration_id']}|x"}
            answer = await (
                acme.client.get(url) if method == "GET" else acme.client.post(url, data=data)
            )
            walked += 1
            assert answer.status_code == 404, f"{method} {url}: {answer.status_code}"
    assert walked > (2 if signed_in_as == "agent" else 40), walked
    assert await _state(globex) == before
