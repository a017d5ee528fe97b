"""The 3CX provider: one test per journaled call type, the API key, malformed journals, template."""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callbridge.domain.call import CallState, fold
from callbridge.domain.event import Agent, CallEvent, Direction, EventKind
from callbridge.errors import PayloadError, SignatureError
from callbridge.telephony import PROVIDERS
from callbridge.telephony.threecx import ThreeCxAdapter, ThreeCxJournal, international
from callbridge.telephony.threecx_template import (
    CONTACT_OUTPUTS,
    JOURNAL_VALUES,
    TemplateFor,
    render,
)

FIXTURES = Path(__file__).parent / "threecx_fixtures"
ADAPTER = ThreeCxAdapter()
KEY = "k3cx_" + "5d2f8a91" * 6
NOW = datetime(2025, 4, 12, tzinfo=UTC)
ANN = Agent(extension="101", email="ann.lee@example.com", name="Ann Lee")


def document(name: str) -> dict[str, Any]:
    """Return a fixture as decoded JSON."""
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_bytes())
    return loaded


def parse(doc: dict[str, Any]) -> CallEvent:
    """Parse a journal and return its one event."""
    delivery = ADAPTER.parse(json.dumps(doc).encode(), NOW)
    assert delivery.ignored is None
    [event] = delivery.events
    return event


def at(text: str) -> datetime:
    """Return an ISO time as an aware UTC datetime."""
    return datetime.fromisoformat(text).astimezone(UTC)


def basic(key: str, user: str = "callbridge") -> dict[str, str]:
    """Return the Authorization header 3CX sends for the template's Basic authentication."""
    pair = base64.b64encode(f"{user}:{key}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def test_the_adapter_is_registered_under_its_url_name() -> None:
    assert isinstance(PROVIDERS["3cx"], ThreeCxAdapter)


def test_an_answered_inbound_call() -> None:
    event = parse(document("journal_inbound.json"))
    assert event.kind is EventKind.ENDED
    assert event.direction is Direction.INCOMING
    assert event.from_number == "+33612345678"  # the "00" prefix read as "+"
    assert event.to_number is None
    assert event.agent == ANN
    assert event.started_at == at("2025-04-11T10:00:00Z")
    assert event.answered_at == at("2025-04-11T10:00:07Z")
    assert event.ended_at == event.occurred_at == at("2025-04-11T10:01:42Z")
    assert event.duration == 95
    call = fold([event])
    assert call.state is CallState.ENDED and call.was_answered


def test_an_answered_outbound_call_to_a_national_number() -> None:
    event = parse(document("journal_outbound.json"))
    assert (event.kind, event.direction) == (EventKind.ENDED, Direction.OUTGOING)
    assert event.to_number == "0612345678"  # national: read in the integration's region
    assert event.from_number is None
    assert event.duration == 12 * 60 + 3
    assert fold([event]).state is CallState.ENDED


def test_a_missed_inbound_call_never_answered() -> None:
    event = parse(document("journal_missed.json"))
    assert (event.kind, event.direction) == (EventKind.MISSED, Direction.INCOMING)
    assert event.answered_at is None  # 3CX's year 1 means "never"
    assert event.duration == 0
    call = fold([event])
    assert call.state is CallState.MISSED and not call.was_answered


def test_an_outbound_call_not_answered_with_empty_variables() -> None:
    event = parse(document("journal_notanswered.json"))
    assert (event.kind, event.direction) == (EventKind.MISSED, Direction.OUTGOING)
    assert event.to_number == "+14155550134"
    assert event.agent == Agent(extension="102")
    assert event.duration == 0
    assert fold([event]).state is CallState.MISSED


def test_an_answered_call_without_its_answer_time_counts_from_the_start() -> None:
    doc = {**document("journal_inbound.json"), "answered_at": "", "ended_at": ""}
    event = parse(doc)
    assert event.answered_at == event.started_at
    assert event.started_at is not None
    assert event.ended_at == event.started_at + timedelta(seconds=95)


def test_a_repeated_journal_is_the_same_call_and_the_same_event() -> None:
    first, again = parse(document("journal_inbound.json")), parse(document("journal_inbound.json"))
    assert (first.call_id, first.event_id) == (again.call_id, again.event_id)
    other = parse({**document("journal_inbound.json"), "started_at": "2025-04-11T10:00:01Z"})
    assert other.call_id != first.call_id


def test_call_types_are_read_whatever_their_case_and_times_without_offset_as_utc() -> None:
    doc = {**document("journal_missed.json"), "call_type": "MISSED"}
    doc["started_at"] = "2025-04-11 12:00:00"
    event = parse(doc)
    assert event.kind is EventKind.MISSED
    assert event.started_at == at("2025-04-11T12:00:00Z")


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("call_type", "Transferred", "inbound"),
        ("started_at", "", "datetime"),
        ("started_at", "yesterday", "datetime"),
        ("started_at", "1999-12-31T23:00:00Z", "2000"),
        ("duration", "ninety", "integer"),
        ("duration", "200:00:00", "7 days"),
        ("agent_email", "x" * 400, "320"),
    ],
)
def test_a_bad_field_is_refused_naming_it(field: str, value: str, problem: str) -> None:
    doc = {**document("journal_inbound.json"), field: value}
    with pytest.raises(PayloadError) as err:
        ADAPTER.parse(json.dumps(doc).encode(), NOW)
    assert err.value.field == field
    assert problem in err.value.problem


def test_a_journal_without_its_call_type_or_start_names_the_missing_field() -> None:
    for field in ("call_type", "started_at"):
        doc = {k: v for k, v in document("journal_inbound.json").items() if k != field}
        with pytest.raises(PayloadError) as err:
            ADAPTER.parse(json.dumps(doc).encode(), NOW)
        assert err.value.field == field


@given(
    st.dictionaries(
        st.sampled_from(sorted(ThreeCxJournal.model_fields)),
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    )
)
def test_any_journal_is_parsed_or_refused_naming_one_of_its_fields(
    changes: dict[str, Any],
) -> None:
    doc = {**document("journal_inbound.json"), **changes}
    try:
        ADAPTER.parse(json.dumps(doc).encode(), NOW)
    except PayloadError as err:
        assert err.field in ThreeCxJournal.model_fields or err.field == "body"


@given(st.binary(max_size=200))
def test_any_body_is_parsed_or_refused_as_a_payload_error(body: bytes) -> None:
    try:
        ADAPTER.parse(body, NOW)
    except PayloadError as err:
        assert err.field
        assert err.problem


@pytest.mark.parametrize(
    "headers",
    [basic(KEY), basic(KEY, user=""), {"authorization": f"Bearer {KEY}"}, basic("old" + KEY)],
)
def test_the_sources_key_is_accepted_as_basic_or_bearer(headers: dict[str, str]) -> None:
    ADAPTER.verify(headers, b"{}", [KEY, "old" + KEY], NOW)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic("wrong-key"),
        {"Authorization": f"Bearer {KEY}x"},
        {"Authorization": "Basic not-base64!"},
        {"Authorization": "Basic " + base64.b64encode(KEY.encode()).decode()},  # no user:
        {"Authorization": f"Token {KEY}"},
        {"X-Api-Key": KEY},
    ],
)
def test_a_missing_or_wrong_key_is_refused(headers: dict[str, str]) -> None:
    with pytest.raises(SignatureError):
        ADAPTER.verify(headers, b"{}", [KEY], NOW)


@given(st.text(max_size=40))
def test_only_the_exact_key_is_accepted(sent: str) -> None:
    try:
        ADAPTER.verify({"Authorization": f"Bearer {sent}"}, b"", [KEY], NOW)
    except SignatureError:
        assert sent.strip() != KEY
    else:
        assert sent.strip() == KEY


@pytest.mark.parametrize(
    ("sent", "read"),
    [("0033612345678", "+33612345678"), ("0612345678", "0612345678"), ("00", "00"), (None, None)],
)
def test_the_international_zeros_become_a_plus(sent: str | None, read: str | None) -> None:
    assert international(sent) == read


def _template(name: str = "Main PBX", key: str = KEY) -> ET.Element:
    source = TemplateFor(
        name=name,
        lookup_url="https://cb.example.com/lookups/3cx/src-1",
        journal_url="https://cb.example.com/webhooks/3cx/src-1",
        api_key=key,
    )
    return ET.fromstring(render(source))


def test_the_template_points_3cx_at_the_sources_urls_with_its_key() -> None:
    crm = _template()
    assert crm.tag == "Crm" and crm.get("Name") == "Callbridge Main PBX"
    assert crm.find("Number").get("Prefix") == "Zeros"  # type: ignore[union-attr]
    key = crm.find("Parameters/Parameter[@Name='ApiKey']")
    assert key is not None and key.get("Default") == KEY
    assert crm.findtext("Authentication/Value") == "callbridge:[ApiKey]"
    lookup = crm.find("Scenarios/Scenario[@Id='']/Request")
    assert lookup is not None
    assert lookup.get("Url") == "https://cb.example.com/lookups/3cx/src-1?number=[Number]"
    assert lookup.get("RequestType") == "Get"
    journal = crm.find("Scenarios/Scenario[@Id='ReportCall']/Request")
    assert journal is not None and journal.get("Url") == "https://cb.example.com/webhooks/3cx/src-1"
    assert (journal.get("RequestType"), journal.get("RequestEncoding")) == ("Post", "Json")


def test_the_template_sends_what_the_journal_reads_and_reads_what_the_lookup_answers() -> None:
    crm = _template()
    sent = {v.get("Key") for v in crm.iterfind(".//PostValues/Value")}
    assert sent == set(JOURNAL_VALUES) == set(ThreeCxJournal.model_fields)
    paths = {v.get("Path") for v in crm.iterfind(".//Variables/Variable")}
    assert paths == {f"contacts.{field}" for field in CONTACT_OUTPUTS}


@given(name=st.text(max_size=60), key=st.text(min_size=8, max_size=60))
def test_the_template_is_well_formed_xml_whatever_the_name_and_key(name: str, key: str) -> None:
    clean = "".join(c for c in key if c.isprintable()) or "k" * 8  # the API stores no controls
    label = "".join(c for c in name if c.isprintable())
    crm = _template(label, clean)
    key_parameter = crm.find("Parameters/Parameter[@Name='ApiKey']")
    assert key_parameter is not None and key_parameter.get("Default") == clean
    assert crm.get("Name") == f"Callbridge {label}"[:100]
