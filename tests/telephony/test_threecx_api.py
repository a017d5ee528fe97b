"""3CX through the API: the contact lookup, journals folded into one call, the template download."""

from __future__ import annotations

import asyncio
import base64
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callbridge.api import lookups
from callbridge.api import threecx as threecx_api
from callbridge.connectors.local.connector import LocalConnector
from callbridge.domain.phone import PhoneNumber, normalize
from callbridge.domain.record import CrmRecord
from callbridge.errors import AuthFailed, PayloadError
from callbridge.runtime import Runtime
from callbridge.storage import sql
from callbridge.storage.integrations import update_integration
from callbridge.testing.draining import drain
from tests.telephony.lookup_tenants import CALLER, Company, LookupSources

FIXTURES = Path(__file__).parent / "threecx_fixtures"
KEY_A, KEY_B = "k3cx_" + "a1" * 24, "k3cx_" + "b2" * 24


@pytest.fixture
def lookup_sources() -> LookupSources:
    """Both companies' sources: 3CX's, keyed KEY_A and KEY_B."""
    return LookupSources("3cx", KEY_A, KEY_B)


def basic(key: str) -> dict[str, str]:
    """Return the header 3CX sends for the template's Basic authentication."""
    return {"Authorization": "Basic " + base64.b64encode(f"callbridge:{key}".encode()).decode()}


async def lookup(company: Company, number: str | None, key: str | None = None) -> Any:
    """Ask the 3CX lookup of ``company``'s source, as 3CX does, with its key or ``key``."""
    params = {} if number is None else {"number": number}
    return await company.client.get(
        f"/lookups/3cx/{company.source_id}", params=params, headers=basic(key or company.key)
    )


@pytest.mark.parametrize("sent", ["0014155550134", "4155550134", "(415) 555-0134", CALLER])
async def test_a_known_caller_is_found_however_3cx_writes_the_number(
    acme: Company, sent: str
) -> None:
    record = await acme.record("Dana Scully")
    answer = await lookup(acme, sent)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "contacts": [
            {"id": record, "first_name": "Dana", "last_name": "Scully", "company": "",
             "email": "", "phone": CALLER,
             "url": "", "type": "contact"}
        ]
    }  # fmt: skip


async def test_an_unknown_caller_has_no_contacts(acme: Company) -> None:
    await acme.record("Someone Else", phone="+14155550199")
    for sent in ("0014155550134", "anonymous", "101"):
        answer = await lookup(acme, sent)
        assert (answer.status_code, answer.json()) == (200, {"contacts": []})


async def test_an_ambiguous_number_lists_every_record_the_pick_first(acme: Company) -> None:
    lead = await acme.record("Lead Person", kind="lead")
    contact = await acme.record("Contact Person")
    account = await acme.record("Initech Corp", kind="account")
    contacts = (await lookup(acme, "0014155550134")).json()["contacts"]
    assert contacts[0]["id"] == contact
    assert {c["id"] for c in contacts} == {lead, contact, account}
    assert next(c for c in contacts if c["id"] == account)["company"] == "Initech Corp"


async def test_a_company_never_sees_another_companys_records(
    acme: Company, globex: Company
) -> None:
    await globex.record("Globex Secret")
    assert (await lookup(acme, "0014155550134")).json() == {"contacts": []}
    assert len((await lookup(globex, "0014155550134")).json()["contacts"]) == 1
    assert (await lookup(acme, "0014155550134", key=KEY_B)).status_code == 401


async def test_a_bad_key_is_401_and_a_missing_number_is_422_naming_it(acme: Company) -> None:
    assert (await lookup(acme, "0014155550134", key="wrong-key-123")).status_code == 401
    path = f"/lookups/3cx/{acme.source_id}"
    bare = await acme.client.get(path, params={"number": "0014155550134"})  # admin key, not 3CX's
    assert bare.status_code == 401
    for params in ({}, {"number": " "}, {"number": "1" * 101}, {"number": "12\x0034"}):
        answer = await acme.client.get(path, params=params, headers=basic(acme.key))
        assert answer.status_code == 422
        assert answer.json()["field"] == "number"


async def test_another_providers_source_is_404(acme: Company) -> None:
    answer = await acme.client.get(
        f"/lookups/3cx/{acme.created.source_id}", params={"number": "1"}, headers=basic(KEY_A)
    )
    assert (answer.status_code, answer.json()["error"]) == (404, "unknown_source")


async def journal(company: Company, name: str, key: str | None = None) -> Any:
    """Post a journal fixture to the source's webhook URL, as the template's ReportCall does."""
    body = (FIXTURES / name).read_bytes()
    return await company.client.post(
        f"/webhooks/3cx/{company.source_id}",
        content=body,
        headers={**basic(key or company.key), "Content-Type": "application/json"},
    )


async def calls(company: Company) -> list[dict[str, Any]]:
    """Return the company's calls from the call history."""
    listed: list[dict[str, Any]] = (await company.client.get("/calls")).json()["calls"]
    return listed


async def test_a_journal_repeated_is_one_call(migrated_runtime: Runtime, acme: Company) -> None:
    record = await acme.record("Dana Scully", phone="+33612345678")
    first = await journal(acme, "journal_inbound.json")
    assert first.status_code == 200, first.text
    assert first.json() == {"accepted": 1, "duplicate": False, "ignored": None}
    again = await journal(acme, "journal_inbound.json")
    assert again.json()["duplicate"] is True
    await drain(migrated_runtime)
    [call] = await calls(acme)
    assert call["provider_call_id"].startswith("3cx-")
    assert (call["state"], call["direction"], call["duration"]) == ("ended", "incoming", 95)
    assert call["from_number"] == "+33612345678"
    assert call["event_count"] == 1
    page = (await acme.client.get(f"/calls/{call['id']}")).json()
    assert [m["automatic_match"]["id"] for m in page["matches"]] == [record]


async def test_a_missed_call_and_an_outbound_call_are_two_more_calls(
    migrated_runtime: Runtime, acme: Company
) -> None:
    for name in ("journal_missed.json", "journal_notanswered.json", "journal_missed.json"):
        assert (await journal(acme, name)).status_code == 200
    await drain(migrated_runtime)
    states = sorted((c["state"], c["direction"]) for c in await calls(acme))
    assert states == [("missed", "incoming"), ("missed", "outgoing")]


async def test_a_journal_with_a_bad_key_is_401_and_stores_nothing(
    migrated_runtime: Runtime, acme: Company
) -> None:
    assert (await journal(acme, "journal_inbound.json", key=KEY_B)).status_code == 401
    assert await calls(acme) == []


async def test_a_malformed_journal_is_422_naming_the_field(acme: Company) -> None:
    doc: dict[str, Any] = json.loads((FIXTURES / "journal_inbound.json").read_bytes())
    doc["call_type"] = "Transferred"
    answer = await acme.client.post(
        f"/webhooks/3cx/{acme.source_id}", content=json.dumps(doc), headers=basic(KEY_A)
    )
    assert answer.status_code == 422
    assert answer.json()["field"] == "call_type"


async def test_the_template_downloads_with_the_sources_urls_and_key(
    acme: Company, globex: Company
) -> None:
    path = f"/sources/{acme.source_id}/3cx-template"
    answer = await acme.client.get(path)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/xml")
    assert "attachment" in answer.headers["content-disposition"]
    crm = ET.fromstring(answer.content)
    lookup_request = crm.find("Scenarios/Scenario[@Id='']/Request")
    journal_request = crm.find("Scenarios/Scenario[@Id='ReportCall']/Request")
    assert lookup_request is not None and journal_request is not None
    base = "http://callbridge.test"
    assert lookup_request.get("Url") == f"{base}/lookups/3cx/{acme.source_id}?number=[Number]"
    assert journal_request.get("Url") == f"{base}/webhooks/3cx/{acme.source_id}"
    key = crm.find("Parameters/Parameter[@Name='ApiKey']")
    assert key is not None and key.get("Default") == KEY_A
    assert (await globex.client.get(path)).status_code == 404  # another company's source
    generic = f"/sources/{acme.created.source_id}/3cx-template"
    assert (await acme.client.get(generic)).status_code == 404
    assert (await acme.client.get(path, headers={"Authorization": ""})).status_code == 401


async def test_a_crm_that_fails_or_is_slow_counts_as_no_match(
    acme: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    await acme.record("Dana Scully")

    async def down(self: LocalConnector, phone: PhoneNumber) -> list[CrmRecord]:
        raise AuthFailed("the CRM refused the credentials")

    async def slow(self: LocalConnector, phone: PhoneNumber) -> list[CrmRecord]:
        await asyncio.sleep(5)
        return []

    monkeypatch.setattr(lookups, "SEARCH_SECONDS", 0.2)
    for broken in (down, slow):
        monkeypatch.setattr(LocalConnector, "find_by_phone", broken)
        answer = await lookup(acme, "0014155550134")
        assert (answer.status_code, answer.json()) == (200, {"contacts": []})


async def test_every_active_integration_is_searched_in_its_own_region(
    migrated_runtime: Runtime, acme: Company
) -> None:
    made = await acme.client.post(
        "/integrations", json={"connector": "local", "name": "French CRM", "default_region": "FR"}
    )
    assert made.status_code == 201, made.text
    french = made.json()["id"]
    us_record = await acme.record("Claire International", phone="+33 6 12 34 56 78")
    added = await acme.client.post(
        f"/integrations/{french}/records",
        json={"name": "Claire Nationale", "object_type": "contact", "phones": ["06 12 34 56 78"]},
    )
    fr_record = added.json()["id"]
    both = (await lookup(acme, "0033612345678")).json()["contacts"]
    assert {c["id"] for c in both} == {us_record, fr_record}
    # A national number means +33… only in the French CRM's region; in the US one it is nothing.
    national = (await lookup(acme, "0612345678")).json()["contacts"]
    assert [c["id"] for c in national] == [fr_record]
    async with migrated_runtime.sessions.begin() as session:
        await sql.run(
            session,
            update_integration,
            acme.created.company_id,
            french,
            migrated_runtime.clock(),
            status="paused",
        )
    assert [c["id"] for c in (await lookup(acme, "0033612345678")).json()["contacts"]] == [
        us_record
    ]


async def test_a_new_3cx_source_says_to_download_and_upload_its_template(acme: Company) -> None:
    body = {"provider": "3cx", "name": "Second PBX", "secret": KEY_B}
    created = (await acme.client.post("/sources", json=body)).json()
    setup = created["setup"]
    assert setup["webhook_url"] == f"http://callbridge.test/webhooks/3cx/{created['id']}"
    assert f"GET /sources/{created['id']}/3cx-template" in setup["steps"][0]
    assert setup["webhook_url"] in setup["steps"][0]
    assert "docs/telephony/3cx.md#setup-step-by-step" in setup["steps"][1]
    template = await acme.client.get(f"/sources/{created['id']}/3cx-template")
    assert setup["webhook_url"].encode() in template.content


@given(st.text(max_size=120))
def test_any_number_3cx_sends_is_looked_up_or_refused_naming_it(sent: str) -> None:
    try:
        read = threecx_api._number(sent)
    except PayloadError as err:
        assert err.field == "number"
    else:
        assert read.strip() and len(read) <= 100 and read.isprintable()
        normalize(read, "US")  # each integration reads it in its region: this never raises
