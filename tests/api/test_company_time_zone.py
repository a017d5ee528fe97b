"""A company's time zone: an IANA name the system knows, "UTC" until set, refused otherwise."""

from __future__ import annotations

from zoneinfo import available_timezones

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.api.api_tenant import Tenant, problems

ZONES = sorted(available_timezones())


def _near_misses(zone: str) -> list[str]:
    """Names a person might type for ``zone`` that are not IANA names."""
    return [zone.lower(), zone.upper(), f" {zone}", f"{zone}/", f"../{zone}", f"posix/{zone}",
            zone.replace("/", "\\"), f"/usr/share/zoneinfo/{zone}", f"{zone}\x00"]  # fmt: skip


#: Any text, and mistyped forms of real names: accepted exactly when it is a known zone.
TYPED = st.one_of(
    st.text(max_size=80),
    st.sampled_from(ZONES).flatmap(lambda zone: st.sampled_from(_near_misses(zone))),
    st.sampled_from(ZONES),
)


async def test_a_company_starts_in_utc_and_null_keeps_its_zone(
    acme: Tenant, globex: Tenant
) -> None:
    assert (await acme.client.get("/company")).json()["time_zone"] == "UTC"
    answer = await acme.client.patch("/company", json={"time_zone": "Europe/Paris"})
    assert answer.status_code == 200 and answer.json()["time_zone"] == "Europe/Paris"
    kept = await acme.client.patch("/company", json={"time_zone": None, "language": "fr"})
    assert kept.json()["time_zone"] == "Europe/Paris", "null leaves the zone as it is"
    assert (await globex.client.get("/company")).json()["time_zone"] == "UTC"


@settings(max_examples=40)
@given(zone=st.sampled_from(ZONES))
async def test_every_known_zone_is_accepted_and_read_back(acme: Tenant, zone: str) -> None:
    answer = await acme.client.patch("/company", json={"time_zone": zone})
    assert answer.status_code == 200, answer.text
    assert (await acme.client.get("/company")).json()["time_zone"] == zone


@settings(max_examples=60)
@given(typed=TYPED)
async def test_a_zone_is_stored_exactly_when_known_else_a_422_naming_it(
    acme: Tenant, typed: str
) -> None:
    before = (await acme.client.get("/company")).json()
    answer = await acme.client.patch("/company", json={"time_zone": typed, "name": "Changed"})
    after = (await acme.client.get("/company")).json()
    if typed in ZONES:
        assert answer.status_code == 200 and after["time_zone"] == typed
    else:
        assert list(problems(answer)) == ["time_zone"]
        assert after == before, "nothing changed"
