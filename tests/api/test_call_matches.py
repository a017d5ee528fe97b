"""The call history names the record found automatically by number beside where the log went."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.api.call_matches import call_matches
from callbridge.domain.record import CrmRecord, ObjectType
from callbridge.ingest import ingest
from callbridge.rules.automatic_pick import pick
from callbridge.rules.match_reason import MatchReason, loaded
from callbridge.runtime import Runtime
from callbridge.testing.draining import drain
from callbridge.testing.webhooks import call_sequence, signed
from tests.api.api_tenant import Tenant
from tests.api.tenancy_world import NUMBER
from tests.rules.test_match_reason import reasons

_RECORDS = st.builds(
    CrmRecord,
    id=st.uuids().map(str),
    object_type=st.sampled_from(ObjectType),
    name=st.text(min_size=1, max_size=20),
    updated_at=st.none() | st.datetimes(timezones=st.just(UTC)),
)


def _summary(record: CrmRecord) -> dict[str, Any]:
    updated = record.updated_at.isoformat() if record.updated_at else None
    return {"id": record.id, "object_type": record.object_type.value, "name": record.name,
            "owner": None, "updated_at": updated}  # fmt: skip


@settings(max_examples=200)
@given(
    matched=st.lists(_RECORDS, max_size=6, unique_by=lambda r: r.id),
    logged=st.lists(st.uuids().map(str), max_size=3),
)
def test_the_automatic_match_is_the_rules_pick_whatever_the_log(
    matched: list[CrmRecord], logged: list[str]
) -> None:
    sync = {"integration_id": "i1", "status": "done", "match_rule": "chosen by Ann",
            "matched": [_summary(r) for r in matched]}  # fmt: skip
    links = [{"integration_id": "i1", "record_id": r, "object_type": "lead"} for r in logged]
    links.append({"integration_id": "i2", "record_id": "elsewhere", "object_type": "contact"})
    [match] = call_matches([sync], links)
    expected = pick(matched).records
    assert (match.automatic_match.id if match.automatic_match else None) == (
        expected[0].id if expected else None
    )
    assert [seen.id for seen in match.logged_on] == logged
    assert match.why == "chosen by Ann"


@settings(max_examples=100)
@given(reason=reasons())
def test_the_answer_carries_the_reasons_code_beside_its_english(reason: MatchReason) -> None:
    sync = {"integration_id": "i1", "status": "done", "match_rule": reason.text,
            "match_reason": reason.stored(), "matched": []}  # fmt: skip
    [match] = call_matches([sync], [])
    assert match.why == reason.text
    assert match.match_reason is not None
    assert loaded(match.match_reason.model_dump()) == reason


def test_a_sync_stored_before_the_codes_has_its_text_only() -> None:
    sync = {"integration_id": "i1", "status": "done", "match_rule": "chosen by Ann", "matched": []}
    unknown = {**sync, "match_reason": {"code": "a code of a later version"}}
    for match in call_matches([sync, unknown], []):
        assert (match.why, match.match_reason) == ("chosen by Ann", None)


async def _record(tenant: Tenant, object_type: str, name: str) -> str:
    path = f"/integrations/{tenant.company.integration_id}/records"
    body = {"object_type": object_type, "name": name, "phones": [NUMBER]}
    answer = await tenant.client.post(path, json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def test_a_click_to_dial_log_elsewhere_keeps_the_automatic_match_in_the_history(
    api_runtime: Runtime, acme: Tenant
) -> None:
    contact = await _record(acme, "contact", "Dana Contact")
    lead = await _record(acme, "lead", "Dana Lead")
    for event in call_sequence("c-ctd", "incoming", NUMBER, answered=True, crm_record_id=lead):
        body, headers = signed(acme.company.source_secret, event)
        await ingest(api_runtime, acme.company.source_id, headers, body)
    await drain(api_runtime)

    listed = (await acme.client.get("/calls")).json()["calls"]
    call = next(c for c in listed if c["provider_call_id"] == "c-ctd")
    page = (await acme.client.get(f"/calls/{call['id']}")).json()
    for shown in (call, page):
        [match] = shown["matches"]
        assert match["automatic_match"]["id"] == contact  # contact outranks lead
        assert match["automatic_match"]["name"] == "Dana Contact"
        assert [r["id"] for r in match["logged_on"]] == [lead]
        assert "click-to-dial" in match["why"]


async def test_a_match_through_digits_without_their_plus_is_named_on_the_call(
    api_runtime: Runtime, acme: Tenant
) -> None:
    integration = f"/integrations/{acme.company.integration_id}"
    assert (await acme.client.patch(integration, json={"default_region": "DE"})).status_code == 200
    record = {"object_type": "contact", "name": "Claire", "phones": ["33612345607"]}
    answer = await acme.client.post(f"{integration}/records", json=record)
    assert answer.status_code == 201, answer.text
    for event in call_sequence("c-plus", "incoming", "+33612345607", answered=True):
        body, headers = signed(acme.company.source_secret, event)
        await ingest(api_runtime, acme.company.source_id, headers, body)
    await drain(api_runtime)

    listed = (await acme.client.get("/calls")).json()["calls"]
    call = next(c for c in listed if c["provider_call_id"] == "c-plus")
    [match] = call["matches"]
    assert match["automatic_match"]["id"] == answer.json()["id"]
    assert match["automatic_match"]["matched_reading"] == "33612345607"
    assert match["logged_on"][0]["matched_reading"] == "33612345607"
