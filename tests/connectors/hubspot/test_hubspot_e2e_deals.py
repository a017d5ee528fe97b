"""End to end over HTTP: the call engagement goes with the deal its call made or found.

HubSpot shows a deal's calls through the v4 association call→deal (type 206; the fake keeps
the reverse deal→call, 205, as HubSpot does). The default matrix gives a new caller a deal,
answered or missed, and a missed call of a known client a task on the client's open deal.
"""

from __future__ import annotations

import pytest

from callbridge.connectors.hubspot.fake import FakeHubSpot
from callbridge.testing.webhooks import call_sequence
from tests.connectors.hubspot.hubspot_server import HubSpotServer

pytestmark = pytest.mark.slow


def _only(ids: list[str]) -> str:
    assert len(ids) == 1, ids
    return ids[0]


async def _call(server: HubSpotServer, call_id: str, number: str, *, answered: bool) -> None:
    async with server.client() as client:
        await server.send(client, call_sequence(call_id, "incoming", number, answered=answered))
        await server.wait_settled([call_id])


@pytest.mark.parametrize("answered", [False, True], ids=["missed", "answered"])
async def test_a_new_callers_engagement_goes_with_the_deal_made_for_it(
    sqlite_server: HubSpotServer, fake: FakeHubSpot, answered: bool
) -> None:
    number = "+14155550181" if answered else "+14155550182"
    await _call(sqlite_server, f"new-deal-{answered}", number, answered=answered)
    [contact] = sqlite_server.contacts(number)
    deal = _only(fake.state.associated("contacts", contact["id"], "deals"))
    call = _only(fake.state.associated("contacts", contact["id"], "calls"))
    assert fake.state.associated("calls", call, "deals") == [deal]
    assert fake.state.associated("deals", deal, "calls") == [call]
    for task in fake.state.associated("contacts", contact["id"], "tasks"):
        assert fake.state.associated("tasks", task, "deals") == [deal]


async def test_a_known_clients_missed_call_goes_with_the_open_deal_its_task_is_on(
    sqlite_server: HubSpotServer, fake: FakeHubSpot
) -> None:
    jane = fake.state.add("contacts", {"firstname": "Jane", "phone": "+14155550183"})
    deal = fake.state.add("deals", {"dealname": "Jane's deal", "dealstage": "appointmentscheduled"})
    fake.state.associations |= {
        ("deals", deal["id"], "contacts", jane["id"], 3),
        ("contacts", jane["id"], "deals", deal["id"], 4),
    }
    await _call(sqlite_server, "known-deal", "+14155550183", answered=False)
    call = _only(fake.state.associated("contacts", jane["id"], "calls"))
    assert fake.state.associated("calls", call, "deals") == [deal["id"]]
    tasks = fake.state.associated("contacts", jane["id"], "tasks")
    assert tasks, "the missed call of a known client leaves a task on its open deal"
    assert all(fake.state.associated("tasks", t, "deals") == [deal["id"]] for t in tasks)
