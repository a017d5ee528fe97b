"""The Aircall provider: one test per documented event type, then tokens, ids, times and order."""

from __future__ import annotations

import json
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
from callbridge.telephony.aircall import CALL_EVENTS, AircallAdapter
from callbridge.telephony.base import ParsedDelivery
from callbridge.telephony.limits import DURATION_MAX, NOTES_MAX
from tests.telephony.event_facts import facts, stated

FIXTURES = Path(__file__).parent / "fixtures"
ADAPTER = AircallAdapter()
TOKEN = "cebcaac65a2c0b9e1f2d"
T0 = datetime(2024, 11, 26, 12, 8, 15, tzinfo=UTC)
CLAIRE = Agent(id="456123", email="claire.martin@example.com", name="Claire Martin")
HUGO = Agent(id="456789", email="hugo.bernard@example.com", name="Hugo Bernard")
CALLER, LINE = "+33 6 12 34 56 78", "+33 1 76 36 06 95"
ASSET = "https://assets.aircall.io/recording/1987654321"
COMMENT = "Asked for a quote on 20 seats."


def document(name: str) -> dict[str, Any]:
    """Return a fixture as decoded JSON."""
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_bytes())
    return loaded


def parse(doc: dict[str, Any] | bytes) -> ParsedDelivery:
    """Parse a document (or raw bytes) with the Aircall adapter."""
    return ADAPTER.parse(doc if isinstance(doc, bytes) else json.dumps(doc).encode())


def only_event(name: str) -> CallEvent:
    """Parse a fixture holding one call event and return that event."""
    delivery = ADAPTER.parse((FIXTURES / name).read_bytes())
    assert delivery.ignored is None
    [event] = delivery.events
    assert event.call_id == "1987654321"
    assert event.event_id.startswith(document(name)["event"] + ":")
    return event


def seconds(n: float) -> datetime:
    """Return the time ``n`` seconds after the fixtures' call started."""
    return T0 + timedelta(seconds=n)


def expected(kind: EventKind, at: float, **fields: Any) -> dict[str, Any]:
    """Return the facts an incoming call's event of this kind must have, ``fields`` changed."""
    incoming = {"direction": Direction.INCOMING, "from_number": CALLER, "to_number": LINE}
    return stated("1987654321", kind, seconds(at), **(incoming | {"started_at": T0} | fields))


ANSWERED = {"agent": CLAIRE, "answered_at": seconds(9)}
ENDED = {**ANSWERED, "ended_at": seconds(104), "duration": 95}


def test_registered_as_aircall() -> None:
    assert isinstance(PROVIDERS["aircall"], AircallAdapter)
    assert PROVIDERS["aircall"].name == "aircall"


def test_call_created() -> None:
    assert facts(only_event("call_created.json")) == expected(EventKind.RINGING, 0)


def test_call_created_outbound_swaps_the_parties() -> None:
    assert facts(only_event("call_created_outbound.json")) == expected(
        EventKind.RINGING,
        0,
        direction=Direction.OUTGOING,
        from_number=LINE,
        to_number="+1 800-123-4567",
        agent=CLAIRE,
    )


def test_call_created_anonymous_keeps_aircalls_word() -> None:
    assert only_event("call_created_anonymous.json").from_number == "anonymous"


def test_call_ringing_on_agent() -> None:
    assert facts(only_event("call_ringing_on_agent.json")) == expected(
        EventKind.RINGING, 2, agent=CLAIRE
    )


def test_call_answered() -> None:
    assert facts(only_event("call_answered.json")) == expected(EventKind.ANSWERED, 9, **ANSWERED)


def test_call_transferred_names_the_new_agent() -> None:
    assert facts(only_event("call_transferred.json")) == expected(
        EventKind.UPDATED, 60, **{**ANSWERED, "agent": HUGO}
    )


def test_call_external_transferred_keeps_the_agent() -> None:
    assert facts(only_event("call_external_transferred.json")) == expected(
        EventKind.UPDATED, 61, **ANSWERED
    )


def test_call_hungup_counts_talk_time_not_ringing() -> None:
    event = only_event("call_hungup.json")
    assert facts(event) == expected(EventKind.ENDED, 104, **ENDED)
    assert document("call_hungup.json")["data"]["duration"] == 104  # Aircall's, with ringing


def test_call_ended_gives_the_lasting_asset_not_the_expiring_link() -> None:
    assert facts(only_event("call_ended.json")) == expected(
        EventKind.ENDED, 135, **ENDED, recording_url=ASSET
    )


def test_call_ended_with_a_missed_call_reason_is_missed() -> None:
    assert facts(only_event("call_ended_missed.json")) == expected(
        EventKind.MISSED,
        62,
        ended_at=seconds(31),
        duration=0,
        disposition="agents_did_not_answer",
    )


def test_call_voicemail_left() -> None:
    assert facts(only_event("call_voicemail_left.json")) == expected(
        EventKind.VOICEMAIL,
        75,
        ended_at=seconds(44),
        duration=0,
        recording_url="https://assets.aircall.io/voicemail/1987654321",
        disposition="out_of_opening_hours",
    )


def test_call_commented() -> None:
    assert facts(only_event("call_commented.json")) == expected(
        EventKind.UPDATED, 164, **ENDED, recording_url=ASSET, notes=COMMENT
    )


def test_call_tagged() -> None:
    event = only_event("call_tagged.json")
    assert (event.kind, event.tags, event.notes) == (EventKind.UPDATED, ("sales", "quote"), COMMENT)


def test_call_untagged_sends_the_remaining_tags() -> None:
    event = only_event("call_untagged.json")
    assert (event.kind, event.tags) == (EventKind.UPDATED, ("sales",))


def test_call_comm_assets_generated_is_the_recording() -> None:
    assert facts(only_event("call_comm_assets_generated.json")) == expected(
        EventKind.RECORDING, 149, **ENDED, recording_url=ASSET
    )


def test_assets_without_recording_or_voicemail_are_an_update() -> None:
    doc = document("call_comm_assets_generated.json")
    doc["data"].update(recording=None, asset=None)
    [event] = parse(doc).events
    assert (event.kind, event.recording_url) == (EventKind.UPDATED, None)


def test_a_recording_without_asset_gets_the_documented_asset_page() -> None:
    doc = document("call_ended.json")
    doc["data"]["asset"] = None
    [event] = parse(doc).events
    assert event.recording_url == ASSET


@pytest.mark.parametrize("name", ["call_hold.json", "user_created.json"])
def test_events_not_folded_are_ignored_with_a_reason(name: str) -> None:
    delivery = ADAPTER.parse((FIXTURES / name).read_bytes())
    assert delivery.events == ()
    assert delivery.ignored == (
        f"Aircall event {document(name)['event']} is not a call event Callbridge logs"
    )


def test_every_folded_event_type_has_a_fixture() -> None:
    covered = {document(path.name)["event"] for path in FIXTURES.glob("*.json")}
    assert set(CALL_EVENTS) <= covered


def test_a_whole_answered_call_folds_into_one_ended_call() -> None:
    names = [
        "call_created.json",
        "call_ringing_on_agent.json",
        "call_answered.json",
        "call_transferred.json",
        "call_hungup.json",
        "call_ended.json",
        "call_comm_assets_generated.json",
        "call_commented.json",
        "call_tagged.json",
    ]
    call = fold(only_event(name) for name in names)
    assert call.state is CallState.ENDED
    assert (call.duration, call.recording_url, call.notes) == (95, ASSET, COMMENT)
    assert (call.agent, call.tags) == (CLAIRE, ("sales", "quote"))
    assert (call.started_at, call.answered_at, call.ended_at) == (T0, seconds(9), seconds(104))


@given(
    st.permutations(["call_created.json", "call_ended_missed.json", "call_ringing_on_agent.json"])
)
def test_a_missed_call_folds_the_same_in_any_order(names: list[str]) -> None:
    call = fold(only_event(name) for name in names)
    assert (call.state, call.duration, call.disposition) == (
        CallState.MISSED,
        0,
        "agents_did_not_answer",
    )


def test_a_voicemail_call_folds_to_voicemail() -> None:
    names = ["call_created.json", "call_voicemail_left.json", "call_ended_missed.json"]
    assert fold(only_event(name) for name in names).state is CallState.VOICEMAIL


def test_a_retry_has_the_same_event_id_and_other_data_another() -> None:
    body = (FIXTURES / "call_tagged.json").read_bytes()
    again = json.dumps(json.loads(body), indent=None).encode()  # same document, other spacing
    other = document("call_tagged.json")
    other["data"]["tags"] = other["data"]["tags"][:1]
    ids = [parse(b).events[0].event_id for b in (body, again, json.dumps(other).encode())]
    assert ids[0] == ids[1] != ids[2]
    assert all(len(i) <= 255 for i in ids)


# --- verification: the body's token, compared in constant time ---------------------------------


def test_verify_accepts_the_sources_token_among_several() -> None:
    body = (FIXTURES / "call_created.json").read_bytes()
    ADAPTER.verify({}, body, ["other-token", TOKEN], T0)


@given(st.text(max_size=40).filter(lambda t: t != TOKEN))
def test_verify_refuses_any_other_token(token: str) -> None:
    doc = document("call_created.json")
    doc["token"] = token
    with pytest.raises(SignatureError, match="not this source's Aircall webhook token"):
        ADAPTER.verify({}, json.dumps(doc).encode(), [TOKEN], T0)


@pytest.mark.parametrize(
    "body", [b"{not json", b"[]", b'{"event": "call.created"}', b'{"token": 12}']
)
def test_verify_refuses_a_body_without_a_token(body: bytes) -> None:
    with pytest.raises(SignatureError, match="no Aircall webhook token"):
        ADAPTER.verify({}, body, [TOKEN], T0)


# --- ids, numbers and times, explored ------------------------------------------------------------


@given(st.integers(min_value=1, max_value=2**80))
def test_any_integer_call_id_is_kept_exact(call_id: int) -> None:
    doc = document("call_created.json")
    doc["data"]["id"] = call_id
    assert parse(doc).events[0].call_id == str(call_id)


@given(
    start=st.integers(min_value=946_684_800, max_value=1_900_000_000),
    ring=st.integers(min_value=0, max_value=600),
    talk=st.integers(min_value=0, max_value=DURATION_MAX),
)
def test_talk_time_is_end_minus_answer_whatever_the_ringing(
    start: int, ring: int, talk: int
) -> None:
    doc = document("call_hungup.json")
    end = start + ring + talk
    doc["timestamp"] = end
    doc["data"].update(
        started_at=start, answered_at=start + ring, ended_at=end, duration=ring + talk
    )
    [event] = ADAPTER.parse(json.dumps(doc).encode(), now=datetime.fromtimestamp(end, UTC)).events
    assert event.duration == talk
    assert event.occurred_at == datetime.fromtimestamp(end, UTC)
    assert event.started_at == datetime.fromtimestamp(start, UTC)


@given(st.text(alphabet="+0123456789 -()", max_size=100))
def test_raw_digits_are_kept_as_sent(raw: str) -> None:
    doc = document("call_created.json")
    doc["data"]["raw_digits"] = raw
    assert parse(doc).events[0].from_number == raw


def test_comments_are_joined_and_cut_at_the_notes_limit() -> None:
    doc = document("call_commented.json")
    doc["data"]["comments"] = [{"content": "a" * NOTES_MAX}, {"content": "second"}]
    notes = parse(doc).events[0].notes
    assert notes is not None and len(notes) == NOTES_MAX
    assert notes.endswith("[truncated by Callbridge]")


# --- malformed deliveries: a 4xx naming the field ------------------------------------------------


def _without(path: str) -> dict[str, Any]:
    doc = document("call_ended.json")
    *parents, last = path.split(".")
    target = doc
    for part in parents:
        target = target[part]
    del target[last]
    return doc


def _with(path: str, value: Any) -> dict[str, Any]:
    doc = document("call_ended.json")
    *parents, last = path.split(".")
    target = doc
    for part in parents:
        target = target[part]
    target[last] = value
    return doc


BAD_INPUT: list[tuple[dict[str, Any] | bytes, str, str]] = [
    (b"{not json", "body", "not valid JSON"),
    (b"[1, 2]", "body", "expected an event object, got an array"),
    (_without("event"), "event", "Field required"),
    (_without("data"), "data", "Field required"),
    (_without("data.id"), "data.id", "Field required"),
    (_with("data", []), "data", "valid dictionary"),
    (_with("timestamp", "yesterday"), "timestamp", "datetime"),
    (_with("timestamp", 99_999_999_999_999), "timestamp", "not a UNIX time"),
    (_with("timestamp", 100), "timestamp", "must be from 2000-01-01"),
    (_with("data.started_at", True), "data.started_at", "not a boolean"),
    (_with("data.direction", "sideways"), "data.direction", "'inbound' or 'outbound'"),
    (_with("data.raw_digits", "1" * 101), "data.raw_digits", "100"),
    (_with("data.user.email", "a\x00b@example.com"), "data.user.email", "control"),
    (_with("data.asset", "not a url"), "data.asset", "URL"),
    (_with("data.tags", [{"name": "t"}] * 101), "data.tags", "at most 100"),
    (_with("data.answered_at", 1732622895 - 8 * 24 * 3600), "data.ended_at", "more than"),
]


@pytest.mark.parametrize(("body", "field", "words"), BAD_INPUT)
def test_bad_input_names_the_field(body: dict[str, Any] | bytes, field: str, words: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse(body)
    assert caught.value.field == field
    assert words in caught.value.problem
