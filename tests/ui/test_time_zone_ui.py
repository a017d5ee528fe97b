"""The company's time zone on the screens: set on the Company screen, used wherever a time shows.

A known instant, 2026-07-14 22:30:05 UTC, is 00:30:05 on the 15th in Paris and 18:30 on the 14th
in New York: the calls list, a call's page, the day filters and the agent's My calls show it in
the company's zone, written as the page's language writes a time.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from callbridge.ingest import ingest
from callbridge.runtime import Runtime
from callbridge.storage.tables import calls
from callbridge.testing.draining import drain
from callbridge.testing.webhooks import call_sequence, signed
from tests.ui.test_dialer_ui import _agent_with_email, _sign_in
from tests.ui.ui_client import UiTenant

INSTANT = datetime(2026, 7, 14, 22, 30, 5, tzinfo=UTC)
NUMBER = "+33612345670"
NNBSP = "\u202f"  # CLDR's space before AM/PM in English
#: The instant in the calls list (medium width), by zone and language.
LISTED = {
    ("UTC", "en"): f"Jul 14, 2026, 10:30:05{NNBSP}PM",
    ("Europe/Paris", "en"): f"Jul 15, 2026, 12:30:05{NNBSP}AM",
    ("Europe/Paris", "fr"): "15 juil. 2026, 00:30:05",
    ("America/New_York", "es"): "14 jul 2026, 18:30:05",
}


async def _call_at(runtime: Runtime, tenant: UiTenant, agent_email: str | None = None) -> str:
    """Deliver a missed call ringing at ``INSTANT`` (stored then too), sync it, return its id."""
    events = call_sequence("c-tz", "incoming", NUMBER, answered=False, start=INSTANT,
                           agent_email=agent_email)  # fmt: skip
    for event in events:
        body, headers = signed(tenant.company.source_secret, event)
        await ingest(runtime, tenant.company.source_id, headers, body)
    await drain(runtime)
    headers = {"Authorization": f"Bearer {tenant.company.api_key}"}
    [call] = (await tenant.client.get("/calls", headers=headers)).json()["calls"]
    async with runtime.engine.begin() as conn:  # the day filters read when it was stored
        mine = (calls.c.company_id == tenant.company.company_id, calls.c.id == call["id"])
        await conn.execute(update(calls).where(*mine).values(created_at=INSTANT))
    return str(call["id"])


async def _set_zone(tenant: UiTenant, csrf: str, zone: str, language: str = "") -> None:
    data = {"csrf": csrf, "language": language, "time_zone": zone}
    saved = await tenant.client.post("/ui/company", data=data)
    assert saved.status_code == 303, saved.text


@pytest.mark.parametrize(("zone", "language"), list(LISTED))
async def test_a_known_instant_shows_in_the_companys_zone(
    ui_runtime: Runtime, acme: UiTenant, globex: UiTenant, zone: str, language: str
) -> None:
    call_id = await _call_at(ui_runtime, acme)
    csrf = await acme.sign_in()
    await globex.sign_in()
    await _set_zone(acme, csrf, zone, language)
    listed = html.unescape((await acme.client.get("/ui/calls")).text)
    assert LISTED[zone, language] in listed and f"({zone})" in listed
    shown = html.unescape((await acme.client.get(f"/ui/calls/{call_id}")).text)
    assert LISTED[zone, language] in shown, "the call's first event, when it rang"
    if zone != "UTC":
        assert LISTED["UTC", "en"] not in listed + shown
    other = html.unescape((await globex.client.get("/ui/calls")).text)
    assert "(UTC)" in other, "another company's screens keep their own zone"


@pytest.mark.parametrize(("zone", "day"), [("UTC", "2026-07-14"), ("Europe/Paris", "2026-07-15"),
                                           ("Pacific/Kiritimati", "2026-07-15"),
                                           ("Pacific/Pago_Pago", "2026-07-14")])  # fmt: skip
async def test_the_day_filters_are_days_of_the_companys_zone(
    ui_runtime: Runtime, acme: UiTenant, zone: str, day: str
) -> None:
    call_id = await _call_at(ui_runtime, acme)
    await _set_zone(acme, await acme.sign_in(), zone)
    for since, until in ((day, day), ("", day), (day, "")):
        page = (await acme.client.get("/ui/calls", params={"since": since, "until": until})).text
        assert f"/ui/calls/{call_id}" in page, (since, until)
        assert f'value="{since}"' in page and f'value="{until}"' in page, "the form keeps them"
    for other in (
        "2026-07-13",
        "2026-07-16",
        "2026-07-14" if day != "2026-07-14" else "2026-07-15",
    ):
        page = (await acme.client.get("/ui/calls", params={"since": other, "until": other})).text
        assert f"/ui/calls/{call_id}" not in page, other


async def test_my_calls_in_the_dialer_show_the_companys_zone(
    ui_runtime: Runtime, acme: UiTenant
) -> None:
    token = await _agent_with_email(acme, "Ann")
    await _call_at(ui_runtime, acme, "ann@example.com")
    await _set_zone(acme, await acme.sign_in(), "America/New_York", "es")
    await _sign_in(acme, token)
    listed = html.unescape((await acme.client.get("/ui/dialer/my-calls")).text)
    assert "14/7/26, 18:30" in listed and "(America/New_York)" in listed


async def test_the_company_screen_sets_the_zone_and_refuses_an_unknown_one(
    acme: UiTenant,
) -> None:
    csrf = await acme.sign_in()
    screen = (await acme.client.get("/ui/company")).text
    assert 'value="UTC"' in screen and '<option value="Europe/Paris">' in screen
    await _set_zone(acme, csrf, "Asia/Kolkata")
    assert (
        'name="time_zone" list="time-zones" value="Asia/Kolkata"'
        in (await acme.client.get("/ui/company")).text
    )
    data = {"csrf": csrf, "language": "", "time_zone": "Mars/Olympus_Mons"}
    refused = await acme.client.post("/ui/company", data=data)
    assert refused.status_code == 422
    assert (
        "time_zone: " in html.unescape(refused.text) and 'value="Mars/Olympus_Mons"' in refused.text
    )
    headers = {"Authorization": f"Bearer {acme.company.api_key}"}
    assert (await acme.client.get("/company", headers=headers)).json()[
        "time_zone"
    ] == "Asia/Kolkata"
    await _set_zone(acme, csrf, "")
    assert (await acme.client.get("/company", headers=headers)).json()["time_zone"] == "UTC"
