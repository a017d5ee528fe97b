"""Ringover's call/contact lookup: the caller's record by the syncs' own lookup, per company."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from callbridge.api.lookups import ringover_number
from callbridge.errors import PayloadError
from callbridge.telephony.ringover import SIGNATURE_HEADER
from tests.telephony.lookup_tenants import Company, LookupSources

FIXTURE = Path(__file__).parent / "ringover" / "fixtures" / "call_contact.json"
KEY_A, KEY_B = "rk_" + "a1" * 32, "rk_" + "b2" * 32
NOW = datetime(2025, 4, 11, 12, 0, tzinfo=UTC)


@pytest.fixture
def lookup_sources() -> LookupSources:
    """Both companies' sources: Ringover's, keyed KEY_A and KEY_B."""
    return LookupSources("ringover", KEY_A, KEY_B)


def request(number: str = "14155550134", direction: str = "inbound") -> dict[str, Any]:
    """Return the documented call/contact request about ``number``, sent now."""
    doc: dict[str, Any] = json.loads(FIXTURE.read_bytes())
    doc["timestamp"] = time.time()
    side = "from_number" if direction == "inbound" else "to_number"
    doc["data"] = {**doc["data"], "direction": direction, side: number}
    return doc


async def ask(company: Company, doc: dict[str, Any], key: str | None = None) -> Any:
    """Post a call/contact request signed (HS512 JWT) with the source's key, or ``key``."""
    token = jwt.encode({"iat": int(time.time())}, key or company.key, algorithm="HS512")
    return await company.client.post(
        f"/lookups/ringover/{company.source_id}",
        content=json.dumps(doc),
        headers={SIGNATURE_HEADER: token, "Content-Type": "application/json"},
    )


async def test_a_known_caller_is_shown_by_name(acme: Company) -> None:
    record = await acme.record("Dana Scully")
    answer = await ask(acme, request())
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "uuid": record,
        "firstname": "Dana",
        "lastname": "Scully",
        "data": {"crm": "Local CRM", "type": "contact", "matches": "1"},
        "is_shared": True,
    }


async def test_an_unknown_caller_gets_the_empty_contact(acme: Company) -> None:
    await acme.record("Someone Else", phone="+14155550199")
    for doc in (request(), request("anonymous"), request("")):
        answer = await ask(acme, doc)
        assert (answer.status_code, answer.json()) == (200, {})


async def test_an_outbound_call_looks_up_the_number_called(acme: Company) -> None:
    await acme.record("Fox Mulder")
    answer = await ask(acme, request("14155550134", direction="outbound"))
    assert answer.json()["lastname"] == "Mulder"


async def test_an_ambiguous_number_shows_the_syncs_automatic_pick(acme: Company) -> None:
    await acme.record("Lead Person", kind="lead")
    contact = await acme.record("Contact Person")
    await acme.record("Initech", kind="account")
    answer = (await ask(acme, request())).json()
    assert answer["uuid"] == contact  # contact outranks lead and account, as the sync picks
    assert answer["data"]["matches"] == "3"


async def test_a_company_never_sees_another_companys_records(
    acme: Company, globex: Company
) -> None:
    await globex.record("Globex Secret")
    assert (await ask(acme, request())).json() == {}
    assert (await ask(globex, request())).json()["firstname"] == "Globex"
    # Globex's key does not open ACME's source either.
    assert (await ask(acme, request(), key=KEY_B)).status_code == 401


async def test_a_bad_or_missing_signature_is_401(acme: Company) -> None:
    await acme.record("Dana Scully")
    assert (await ask(acme, request(), key="rk_wrong_" + "9" * 64)).status_code == 401
    bare = await acme.client.post(f"/lookups/ringover/{acme.source_id}", json=request())
    assert bare.status_code == 401
    assert bare.json()["error"] == "invalid_signature"


async def test_an_unknown_or_non_ringover_source_is_404(acme: Company) -> None:
    generic = acme.created.source_id
    for source in (generic, "no-such-source"):
        token = jwt.encode({}, KEY_A, algorithm="HS512")
        answer = await acme.client.post(
            f"/lookups/ringover/{source}", json=request(), headers={SIGNATURE_HEADER: token}
        )
        assert answer.status_code == 404
        assert answer.json()["error"] == "unknown_source"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"event": "ringing"}, "event"),
        ({"data": {"call_id": "1", "from_number": "14155550134"}}, "data.direction"),
        ({"data": {"direction": "inbound"}}, "data.call_id"),
        ({"timestamp": None}, "timestamp"),
    ],
)
async def test_a_malformed_request_is_422_naming_the_field(
    acme: Company, change: dict[str, Any], field: str
) -> None:
    answer = await ask(acme, {**request(), **change})
    assert answer.status_code == 422
    assert answer.json()["field"] == field


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


@given(
    st.dictionaries(st.sampled_from(["resource", "event", "timestamp", "data"]), _JSON),
    st.dictionaries(st.sampled_from(["call_id", "direction", "from_number", "to_number"]), _JSON),
)
def test_any_request_gives_a_number_or_a_payload_error(
    envelope: dict[str, Any], data: dict[str, Any]
) -> None:
    doc = {**request(), **envelope}
    if isinstance(doc.get("data"), dict):
        doc["data"] = {**doc["data"], **data}
    doc["timestamp"] = NOW.timestamp() if "timestamp" not in envelope else doc["timestamp"]
    try:
        number = ringover_number(json.dumps(doc).encode(), NOW)
    except PayloadError as err:
        assert err.field.split(".")[0] in {"body", "resource", "event", "timestamp", "data"}
    else:
        assert number is None or isinstance(number, str)


async def test_a_body_over_the_limit_is_413(acme: Company) -> None:
    doc = {**request(), "padding": "x" * (1024 * 1024)}
    answer = await ask(acme, doc)
    assert answer.status_code == 413
    assert "larger than" in answer.json()["detail"]
