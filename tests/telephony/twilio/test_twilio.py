"""The Twilio provider: one test per status and callback type, then legs folded into one call."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callbridge.domain.call import CallState, fold
from callbridge.domain.event import Agent, CallEvent, Direction, EventKind
from callbridge.errors import PayloadError
from callbridge.telephony import PROVIDERS
from callbridge.telephony.base import ParsedDelivery
from callbridge.telephony.twilio import TwilioAdapter
from callbridge.telephony.twilio.legs import STATUSES, identity
from tests.telephony.event_facts import facts, stated

FIXTURES = Path(__file__).parent / "fixtures"
ADAPTER = TwilioAdapter()
NOW = datetime(2025, 4, 11, 12, 0, tzinfo=UTC)
START = datetime(2025, 4, 11, 10, 0, tzinfo=UTC)
PARENT = "CA" + "1f2e3d4c5b6a7988" * 2
MISSED = "CA" + "2b3c4d5e6f708192" * 2
OUTBOUND = "CA" + "7e6f5a4b3c2d1e0f" * 2
BROWSER = "CA" + "c0ffee00c0ffee00" * 2
CUSTOMER, LINE, CALLED = "+14155550123", "+14155550100", "+14155550177"
ALICE = Agent(id="client:alice")
BOB = Agent(id="sip:bob@acme.sip.twilio.com")
ACCOUNT = "AC" + "0123456789abcdef" * 2
RECORDINGS = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/"


def params(name: str) -> dict[str, str]:
    """Return a fixture's parameters."""
    loaded: dict[str, str] = json.loads((FIXTURES / f"{name}.json").read_text())
    return loaded


def form(values: dict[str, Any]) -> bytes:
    """Encode parameters as Twilio posts them: application/x-www-form-urlencoded."""
    return urlencode(values).encode()


def parse(values: dict[str, Any] | bytes) -> ParsedDelivery:
    """Parse a form (or raw bytes) with the Twilio adapter."""
    return ADAPTER.parse(values if isinstance(values, bytes) else form(values), NOW)


def only(name: str) -> CallEvent:
    """Parse a fixture holding one call event and return that event."""
    delivery = parse(params(name))
    assert delivery.ignored is None
    [event] = delivery.events
    return event


def at(n: float) -> datetime:
    """Return the time ``n`` seconds after the fixtures' calls started."""
    return START + timedelta(seconds=n)


def expected(call_id: str, kind: EventKind, seconds: float, **fields: Any) -> dict[str, Any]:
    """Return the facts an event of ``call_id`` must have, ``fields`` set, the others unstated."""
    return stated(call_id, kind, at(seconds), **fields)


INBOUND = {"direction": Direction.INCOMING, "from_number": CUSTOMER, "to_number": LINE}


def test_registered_as_twilio() -> None:
    assert isinstance(PROVIDERS["twilio"], TwilioAdapter)
    assert PROVIDERS["twilio"].name == "twilio"


# --- the parent leg of an inbound call: Twilio answers it, the agent's child leg tells the rest --


def test_parent_inbound_ringing() -> None:
    assert facts(only("parent_inbound_ringing")) == expected(
        PARENT, EventKind.RINGING, 0, **INBOUND
    )


def test_parent_inbound_in_progress_is_twilio_answering_not_a_conversation() -> None:
    assert facts(only("parent_inbound_in_progress")) == expected(
        PARENT, EventKind.UPDATED, 1, **INBOUND
    )


def test_parent_inbound_completed_ends_the_call_without_saying_it_was_answered() -> None:
    event = only("parent_inbound_completed")
    assert facts(event) == expected(PARENT, EventKind.ENDED, 110, ended_at=at(110), **INBOUND)
    assert fold([event]).state is CallState.MISSED  # no agent answered: missed


def test_parent_inbound_canceled_is_a_missed_call() -> None:
    assert facts(only("parent_inbound_canceled")) == expected(
        MISSED,
        EventKind.MISSED,
        30,
        direction=Direction.INCOMING,
        from_number="+14155550124",
        to_number=LINE,
        ended_at=at(30),
        duration=0,
        disposition="canceled",
    )


# --- child legs (<Dial>): the parent's CallSid, the agent dialed, the answer and the talk time ---


def test_child_initiated_rings_the_agent_on_the_parents_call() -> None:
    assert facts(only("child_initiated")) == expected(PARENT, EventKind.RINGING, 2, agent=ALICE)


def test_child_ringing() -> None:
    assert facts(only("child_ringing")) == expected(PARENT, EventKind.RINGING, 2, agent=ALICE)


def test_child_answered_is_the_agent_answering() -> None:
    assert facts(only("child_answered")) == expected(PARENT, EventKind.ANSWERED, 12, agent=ALICE)


def test_child_completed_gives_the_talk_time() -> None:
    assert facts(only("child_completed")) == expected(
        PARENT,
        EventKind.ENDED,
        107,
        agent=ALICE,
        answered_at=at(107 - 95),
        ended_at=at(107),
        duration=95,
    )


def test_child_sip_user_is_the_agent_without_its_uri_parameters() -> None:
    assert only("child_sip_ringing").agent == BOB


def test_a_child_that_did_not_answer_neither_ends_the_call_nor_names_the_agent() -> None:
    assert facts(only("child_sip_no_answer")) == expected(PARENT, EventKind.UPDATED, 12)


# --- calls placed by the API to a number: that leg is the conversation ---------------------------

OUTGOING = {"direction": Direction.OUTGOING, "from_number": LINE, "to_number": CALLED}


@pytest.mark.parametrize("name", ["outbound_api_queued", "outbound_api_initiated"])
def test_outbound_api_queued_and_initiated_ring(name: str) -> None:
    assert facts(only(name)) == expected(OUTBOUND, EventKind.RINGING, 0, **OUTGOING)


def test_outbound_api_answered() -> None:
    assert facts(only("outbound_api_answered")) == expected(
        OUTBOUND, EventKind.ANSWERED, 9, **OUTGOING
    )


def test_outbound_api_completed_with_its_recording() -> None:
    assert facts(only("outbound_api_completed")) == expected(
        OUTBOUND,
        EventKind.ENDED,
        69,
        answered_at=at(9),
        ended_at=at(69),
        duration=60,
        recording_url=RECORDINGS + "RE" + "aa" * 16,
        **OUTGOING,
    )


@pytest.mark.parametrize(
    ("name", "seconds", "status"),
    [("outbound_api_busy", 5, "busy"), ("outbound_api_no_answer", 30, "no-answer"),
     ("outbound_api_failed", 1, "failed")],
)  # fmt: skip
def test_outbound_api_unanswered(name: str, seconds: int, status: str) -> None:
    event = only(name)
    assert facts(event) == expected(
        OUTBOUND,
        EventKind.MISSED,
        seconds,
        ended_at=at(seconds),
        duration=0,
        disposition=status,
        **OUTGOING,
    )
    assert fold([event]).state is CallState.MISSED


# --- recording status callbacks ---------------------------------------------------------------


def test_recording_completed_lands_on_its_call() -> None:
    assert facts(only("recording_completed")) == expected(
        PARENT, EventKind.RECORDING, 12 + 94, recording_url=RECORDINGS + "RE" + "5c" * 16
    )


def test_a_record_verb_recording_is_a_voicemail() -> None:
    event = only("recording_voicemail")
    assert (event.call_id, event.kind) == (MISSED, EventKind.VOICEMAIL)
    assert event.recording_url == RECORDINGS + "RE" + "6d" * 16


@pytest.mark.parametrize("status", ["in-progress", "absent"])
def test_recordings_not_completed_are_ignored_with_the_reason(status: str) -> None:
    delivery = parse(params(f"recording_{status.replace('-', '_')}"))
    assert delivery.events == ()
    assert delivery.ignored == (
        f"Twilio's recording status {status!r} (only completed is) is not a call event "
        "Callbridge logs"
    )


def test_a_transcription_callback_is_ignored_with_the_reason() -> None:
    delivery = parse(params("transcription_completed"))
    assert (delivery.events, delivery.ignored) == (
        (),
        "Twilio's transcription callback is not a call event Callbridge logs",
    )


def test_an_unknown_call_status_is_ignored_not_refused() -> None:
    delivery = parse({**params("child_ringing"), "CallStatus": "teleported"})
    assert (
        delivery.ignored == "Twilio's CallStatus 'teleported' is not a call event Callbridge logs"
    )


def test_every_folded_status_has_a_fixture() -> None:
    sent = {params(path.stem).get("CallStatus") for path in FIXTURES.glob("*.json")}
    assert STATUSES - {"answered"} <= sent  # "answered" is the event; its status is in-progress


# --- the legs of one call, folded -----------------------------------------------------------


ANSWERED_CALL = [
    "parent_inbound_ringing",
    "parent_inbound_in_progress",
    "child_initiated",
    "child_ringing",
    "child_sip_ringing",
    "child_sip_no_answer",
    "child_answered",
    "child_completed",
    "parent_inbound_completed",
    "recording_completed",
]


@given(st.permutations(ANSWERED_CALL))
def test_an_inbound_call_and_its_legs_fold_into_one_answered_call(names: list[str]) -> None:
    call = fold(only(name) for name in names)
    assert call.call_id == PARENT
    assert call.state is CallState.ENDED
    assert (call.direction, call.from_number, call.to_number) == (
        Direction.INCOMING,
        CUSTOMER,
        LINE,
    )
    assert (call.agent, call.duration, call.answered_at) == (ALICE, 95, at(12))
    assert call.recording_url == RECORDINGS + "RE" + "5c" * 16


def test_an_inbound_call_no_agent_answered_is_missed() -> None:
    names = ["parent_inbound_ringing", "child_sip_ringing", "child_sip_no_answer"]
    call = fold([*(only(name) for name in names), only("parent_inbound_completed")])
    assert (call.state, call.was_answered) == (CallState.MISSED, False)


def test_an_inbound_call_that_ends_in_a_record_verb_is_a_voicemail() -> None:
    completed = {**params("parent_inbound_completed"), "CallSid": MISSED}
    call = fold([parse(completed).events[0], only("recording_voicemail")])
    assert call.state is CallState.VOICEMAIL


def test_an_agent_calling_out_from_the_browser_is_an_outgoing_call() -> None:
    child = params("client_outbound_child_answered")
    ended = {**child, "CallStatus": "completed", "CallDuration": "65", "SequenceNumber": "3"}
    ended["Timestamp"] = "Fri, 11 Apr 2025 10:01:15 +0000"
    events = [only("client_outbound_parent_completed"), only("client_outbound_child_answered")]
    call = fold([*events, parse(ended).events[0]])
    assert (call.call_id, call.state, call.direction) == (
        BROWSER,
        CallState.ENDED,
        Direction.OUTGOING,
    )
    assert (call.from_number, call.to_number, call.agent) == (None, "+14155550188", ALICE)
    assert call.duration == 65


def test_an_api_call_to_the_agent_first_is_answered_by_the_customers_leg() -> None:
    to_agent = {**params("outbound_api_answered"), "To": "client:alice", "Called": "client:alice"}
    [agent_picks_up] = parse(to_agent).events
    assert (agent_picks_up.kind, agent_picks_up.agent) == (EventKind.UPDATED, ALICE)
    assert agent_picks_up.to_number is None


def test_an_email_client_identity_is_the_agents_email() -> None:
    event = parse({**params("child_answered"), "To": "client:alice@example.com"}).events[0]
    assert event.agent == Agent(id="client:alice@example.com", email="alice@example.com")


@pytest.mark.parametrize(
    ("party", "seen"),
    [("client:alice", "client:alice"), ("sip:bob@acme.sip.twilio.com;transport=tls",
      "sip:bob@acme.sip.twilio.com"), ("SIP:bob@x?h=1", "sip:bob@x"), ("+14155550100", None),
     ("client:", None), ("", None), (None, None)],
)  # fmt: skip
def test_identities(party: str | None, seen: str | None) -> None:
    assert identity(party) == seen


def test_a_sip_user_that_is_a_number_is_read_as_the_number() -> None:
    inbound = {**params("parent_inbound_ringing"), "To": "sip:+14155550100@acme.sip.twilio.com"}
    assert parse(inbound).events[0].to_number == LINE


def test_a_json_body_reads_like_the_form() -> None:
    values = params("child_completed")
    as_json = ADAPTER.parse(json.dumps(values).encode(), NOW)
    assert as_json == parse(values)


def test_a_retry_has_the_same_event_id_and_each_status_its_own() -> None:
    names = ["child_initiated", "child_ringing", "child_answered", "child_completed"]
    ids = [only(name).event_id for name in names]
    assert len(set(ids)) == len(ids)
    assert only("child_ringing").event_id == parse(params("child_ringing")).events[0].event_id


def test_without_a_timestamp_the_servers_time_is_used() -> None:
    values = params("child_ringing")
    del values["Timestamp"]
    assert parse(values).events[0].occurred_at == NOW


# --- malformed callbacks: a 4xx naming the field, never a 5xx ---------------------------------


def _with(name: str, **changes: str) -> dict[str, str]:
    return {**params(name), **changes}


def _without(name: str, field: str) -> dict[str, str]:
    values = params(name)
    del values[field]
    return values


BAD_INPUT: list[tuple[dict[str, str] | bytes, str, str]] = [
    (b"CallSid=%ff", "body", "form data"),
    (b"\xff\xfe", "body", "UTF-8"),
    (b"{", "body", "JSON"),
    (b"[1]", "AccountSid", "no Twilio callback"),
    (b"Caller=%2B1", "AccountSid", "no Twilio callback"),
    (_without("child_ringing", "CallSid"), "CallSid", "Field required"),
    (_without("child_ringing", "AccountSid"), "AccountSid", "Field required"),
    (_with("child_ringing", CallStatus=""), "CallStatus", "1 to 255"),
    (_with("child_ringing", Timestamp="yesterday"), "Timestamp", "RFC 2822"),
    (_with("child_ringing", Timestamp="Fri, 11 Apr 1980 10:00:00 +0000"), "Timestamp", "from"),
    (_with("child_completed", CallDuration="-5"), "CallDuration", "greater than or equal to 0"),
    (_with("child_completed", CallDuration="999999999"), "CallDuration", "604800"),
    (_with("outbound_api_completed", RecordingUrl="ftp:/x"), "RecordingUrl", "URL"),
    (_with("parent_inbound_ringing", From="+1" + "5" * 120), "From", "100 characters"),
    (_with("child_ringing", To="client:" + "a" * 300), "To", "255"),
    (_with("child_ringing", CallSid="CA\x00"), "CallSid", "control characters"),
    (_with("recording_completed", RecordingUrl=""), "RecordingUrl", "URL"),
    (_without("recording_completed", "RecordingSid"), "RecordingSid", "Field required"),
    (_with("recording_completed", RecordingStartTime="soon"), "RecordingStartTime", "RFC 2822"),
    (form(params("child_ringing")) + b"&CallSid=CA2", "CallSid", "sent twice"),
]


@pytest.mark.parametrize(("body", "field", "words"), BAD_INPUT)
def test_bad_input_names_the_field(body: dict[str, str] | bytes, field: str, words: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse(body)
    assert caught.value.field == field
    assert words in caught.value.problem


FIELDS = st.sampled_from(sorted({key for p in FIXTURES.glob("*.json") for key in params(p.stem)}))
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from([*sorted(STATUSES), "", "completed", "client:x", "sip:y@z", "-1", "1e9"]),
    st.sampled_from(["Fri, 11 Apr 2025 10:00:00 +0000", "Mon, 99 Foo 2025 99:99:99 +9999"]),
)


@given(
    base=st.sampled_from(sorted(path.stem for path in FIXTURES.glob("*.json"))),
    changes=st.dictionaries(FIELDS, VALUES, max_size=6),
    dropped=st.sets(FIELDS, max_size=3),
)
def test_any_changed_form_is_read_or_refused_naming_a_field(
    base: str, changes: dict[str, str], dropped: set[str]
) -> None:
    values = {k: v for k, v in {**params(base), **changes}.items() if k not in dropped}
    try:
        delivery = parse(values)
    except PayloadError as err:
        assert (
            err.field == "body"
            or err.field in values
            or err.field
            in dropped
            | {
                "AccountSid",
                "CallSid",
                "RecordingSid",
                "RecordingUrl",
            }
        )
        return
    for event in delivery.events:  # what is accepted fits the limits it will be stored under
        assert event.call_id and len(event.call_id) <= 255
        assert event.occurred_at.tzinfo is not None


@given(st.binary(max_size=300))
def test_any_bytes_are_read_or_refused_never_a_crash(body: bytes) -> None:
    try:
        parse(body)
    except PayloadError as err:
        assert err.field
