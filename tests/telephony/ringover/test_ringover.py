"""The Ringover provider: one test per documented event type, then signatures, ids, times, order."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from callbridge.domain.call import CallState, fold
from callbridge.domain.event import Agent, CallEvent, Direction, EventKind
from callbridge.errors import PayloadError, SignatureError
from callbridge.telephony import PROVIDERS
from callbridge.telephony.base import ParsedDelivery
from callbridge.telephony.limits import TAGS_MAX
from callbridge.telephony.ringover import CALL_EVENTS, SIGNATURE_HEADER, RingoverAdapter
from tests.telephony.event_facts import facts, stated

FIXTURES = Path(__file__).parent / "fixtures"
ADAPTER = RingoverAdapter()
KEY = "rk_" + "7c1e9a4b" * 8  # Ringover's keys are long random strings
CALL_ID = "8417298416743612807"  # beyond 2^53: a float would make it ...2800
START = datetime.fromtimestamp(1744365600.762305, UTC)
JEAN = Agent(id="123456789", email="jean.dupont@example.com", name="Jean Dupont")
CALLER, LINE = "+33612345678", "+33176360695"
RECORD = "https://cdn.ringover.com/records/8417298416743612807.mp3"
NOW = datetime(2025, 4, 11, 12, 0, tzinfo=UTC)


def document(name: str) -> dict[str, Any]:
    """Return a fixture as decoded JSON."""
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_bytes())
    return loaded


def parse(doc: dict[str, Any] | bytes) -> ParsedDelivery:
    """Parse a document (or raw bytes) with the Ringover adapter."""
    return ADAPTER.parse(doc if isinstance(doc, bytes) else json.dumps(doc).encode(), NOW)


def only_event(name: str) -> CallEvent:
    """Parse a fixture holding one call event and return that event."""
    delivery = ADAPTER.parse((FIXTURES / name).read_bytes(), NOW)
    assert delivery.ignored is None
    [event] = delivery.events
    assert event.call_id == CALL_ID
    return event


def seconds(n: float) -> datetime:
    """Return the time ``n`` seconds after the fixtures' call started."""
    return START + timedelta(seconds=n)


def expected(kind: EventKind, at: float, **fields: Any) -> dict[str, Any]:
    """Return the facts the fixtures' incoming call event of this kind must have, ``fields`` set."""
    incoming: dict[str, Any] = {"direction": Direction.INCOMING, "agent": JEAN}
    incoming |= {"from_number": CALLER, "to_number": LINE, "started_at": START}
    return stated(CALL_ID, kind, seconds(at), **(incoming | fields))


def after_call(kind: EventKind, at: float, **fields: Any) -> dict[str, Any]:
    """Return the facts an after-call event must have: the call id, the time and ``fields``."""
    return stated(CALL_ID, kind, seconds(at), **fields)


def signature(key: str = KEY, **claims: Any) -> dict[str, str]:
    """Return the header Ringover sends: a JWT signed HS512 with ``key``."""
    with warnings.catch_warnings():  # short keys are tested on purpose
        warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
        token = jwt.encode({"iat": 1744365600, **claims}, key, algorithm="HS512")
    return {SIGNATURE_HEADER: token}


def test_registered_as_ringover() -> None:
    assert isinstance(PROVIDERS["ringover"], RingoverAdapter)
    assert PROVIDERS["ringover"].name == "ringover"


def test_call_ringing_keeps_the_big_call_id_exact() -> None:
    assert (FIXTURES / "call_ringing.json").read_text().count(CALL_ID) == 1  # a JSON integer
    assert facts(only_event("call_ringing.json")) == expected(EventKind.RINGING, 0)


def test_call_ringing_outbound_swaps_the_parties() -> None:
    assert facts(only_event("call_ringing_outbound.json")) == expected(
        EventKind.RINGING,
        0,
        direction=Direction.OUTGOING,
        from_number=LINE,
        to_number="+14155550134",
    )


def test_call_ringing_anonymous() -> None:
    assert only_event("call_ringing_anonymous.json").from_number == "anonymous"


def test_call_answered() -> None:
    assert facts(only_event("call_answered.json")) == expected(
        EventKind.ANSWERED, 8.25, answered_at=seconds(8.25)
    )


def test_call_hangup_counts_talk_time() -> None:
    assert facts(only_event("call_hangup.json")) == expected(
        EventKind.ENDED,
        121.5,
        answered_at=seconds(8.25),
        ended_at=seconds(121.5),
        duration=113,
        recording_url=RECORD,
    )


def test_call_missed() -> None:
    assert facts(only_event("call_missed.json")) == expected(
        EventKind.MISSED,
        30.1,
        agent=None,
        ended_at=seconds(30.1),
        duration=0,
        disposition="no_answer",
    )


def test_call_voicemail() -> None:
    assert facts(only_event("call_voicemail.json")) == expected(
        EventKind.VOICEMAIL,
        52.4,
        agent=None,
        ended_at=seconds(52.4),
        duration=0,
        disposition="voicemail",
    )


def test_aftercall_record_available() -> None:
    assert facts(only_event("aftercall_record_available.json")) == after_call(
        EventKind.RECORDING, 141.5, recording_url=RECORD
    )


def test_aftercall_voicemail_available() -> None:
    link = "https://cdn.ringover.com/voicemails/8417298416743612807.mp3"
    assert facts(only_event("aftercall_voicemail_available.json")) == after_call(
        EventKind.RECORDING, 70, recording_url=link
    )


def test_aftercall_comments_updated() -> None:
    assert facts(only_event("aftercall_comments_updated.json")) == after_call(
        EventKind.UPDATED, 211.5, notes="Asked for a quote on 20 seats.", tags=("sales",)
    )


def test_aftercall_tags_updated() -> None:
    assert facts(only_event("aftercall_tags_updated.json")) == after_call(
        EventKind.UPDATED, 241.5, tags=("sales", "quote")
    )


def test_the_contact_lookup_is_skipped_with_its_reason() -> None:
    delivery = parse((FIXTURES / "call_contact.json").read_bytes())
    assert delivery.events == ()
    assert delivery.ignored is not None
    assert "/lookups/ringover/{source_id}" in delivery.ignored


def test_other_resources_are_ignored_with_a_reason() -> None:
    delivery = parse((FIXTURES / "sms_received.json").read_bytes())
    assert delivery.events == ()
    assert delivery.ignored == "Ringover event sms/received is not a call event Callbridge logs"


def test_every_call_event_type_has_a_fixture() -> None:
    covered = {
        document(path.name)["event"]
        for path in FIXTURES.glob("*.json")
        if document(path.name)["resource"] == "call"
    }
    assert set(CALL_EVENTS) <= covered


def test_an_iso_envelope_timestamp_is_read_too() -> None:
    doc = document("call_ringing.json")
    doc["timestamp"] = "2025-04-11T10:00:00Z"
    assert parse(doc).events[0].occurred_at == datetime(2025, 4, 11, 10, tzinfo=UTC)


def test_zero_times_and_empty_links_are_absent() -> None:
    doc = document("call_missed.json")
    doc["data"].update(answered_time=0, record="")
    [event] = parse(doc).events
    assert (event.answered_at, event.recording_url) == (None, None)


@given(
    st.permutations(
        [
            "call_ringing.json",
            "call_answered.json",
            "call_hangup.json",
            "aftercall_record_available.json",
            "aftercall_comments_updated.json",
            "aftercall_tags_updated.json",
        ]
    )
)
def test_an_answered_call_folds_the_same_in_any_order(names: list[str]) -> None:
    call = fold(only_event(name) for name in names)
    assert call.state is CallState.ENDED
    assert (call.duration, call.recording_url, call.agent) == (113, RECORD, JEAN)
    assert (call.notes, call.tags) == ("Asked for a quote on 20 seats.", ("sales", "quote"))
    assert (call.answered_at, call.ended_at) == (seconds(8.25), seconds(121.5))


@pytest.mark.parametrize("event", ["missed", "voicemail"])
def test_an_unanswered_calls_duration_is_not_talk_time(event: str) -> None:
    ringing = document("call_ringing.json")
    doc = document(f"call_{event}.json")
    doc["data"].update(answered_time=ringing["timestamp"] + 5, duration_in_seconds=30)
    del doc["data"]["hangup_time"]
    hangup = document("call_missed.json")
    hangup["event"] = "hangup"
    hangup["data"]["duration_in_seconds"] = 30
    events = [parse(d).events[0] for d in (ringing, doc, hangup)]
    assert [e.duration for e in events] == [None, 0, 0]
    assert fold(events).state is not CallState.ENDED


def test_a_voicemail_call_folds_to_voicemail_with_its_message() -> None:
    names = ["call_ringing.json", "call_voicemail.json", "aftercall_voicemail_available.json"]
    call = fold(only_event(name) for name in names)
    assert call.state is CallState.VOICEMAIL
    assert call.recording_url == "https://cdn.ringover.com/voicemails/8417298416743612807.mp3"


def test_a_retry_has_the_same_event_id() -> None:
    body = (FIXTURES / "call_hangup.json").read_bytes()
    again = json.dumps(json.loads(body)).encode()
    assert parse(body).events[0].event_id == parse(again).events[0].event_id


# --- verification: a JWT signed HS512 with the webhook's key -------------------------------------


def test_verify_accepts_a_jwt_signed_with_one_of_the_keys() -> None:
    body = (FIXTURES / "call_ringing.json").read_bytes()
    ADAPTER.verify(signature(), body, ["another key", KEY], NOW)
    lower = {SIGNATURE_HEADER.lower(): signature()[SIGNATURE_HEADER]}
    ADAPTER.verify(lower, body, [KEY], NOW)


def test_a_short_key_chosen_by_ringover_verifies_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ADAPTER.verify(signature("short"), b"{}", ["short"], NOW)


@given(st.text(min_size=1, max_size=80).filter(lambda k: k != KEY))
def test_verify_refuses_a_jwt_signed_with_any_other_key(key: str) -> None:
    with pytest.raises(SignatureError, match="not signed"):
        ADAPTER.verify(signature(key), b"{}", [KEY], NOW)


def test_verify_refuses_other_algorithms() -> None:
    for algorithm in ("HS256", "none"):
        token = jwt.encode({"iat": 1}, KEY if algorithm != "none" else "", algorithm=algorithm)
        with pytest.raises(SignatureError, match="not an HS512 JWT"):
            ADAPTER.verify({SIGNATURE_HEADER: token}, b"{}", [KEY], NOW)


@pytest.mark.parametrize("headers", [{}, {SIGNATURE_HEADER: ""}, {SIGNATURE_HEADER: "a.b.c"}])
def test_verify_refuses_a_missing_or_garbled_signature(headers: dict[str, str]) -> None:
    with pytest.raises(SignatureError):
        ADAPTER.verify(headers, b"{}", [KEY], NOW)


def test_verify_refuses_an_expired_or_early_jwt_by_the_servers_clock() -> None:
    moment = NOW.timestamp()
    ADAPTER.verify(signature(exp=moment + 60, nbf=moment - 60), b"{}", [KEY], NOW)
    with pytest.raises(SignatureError, match="expired"):
        ADAPTER.verify(signature(exp=moment - 3600), b"{}", [KEY], NOW)
    with pytest.raises(SignatureError, match="not valid yet"):
        ADAPTER.verify(signature(nbf=moment + 3600), b"{}", [KEY], NOW)


# --- ids, numbers and times, explored ------------------------------------------------------------


@given(st.integers(min_value=2**53 + 1, max_value=2**64))
def test_call_ids_beyond_2_53_stay_exact(call_id: int) -> None:
    for name in ("call_hangup.json", "aftercall_record_available.json"):
        doc = document(name)
        doc["data"]["call_id"] = call_id
        assert parse(doc).events[0].call_id == str(call_id)


def test_a_call_id_sent_as_a_float_is_refused_not_rounded() -> None:
    body = (FIXTURES / "call_ringing.json").read_bytes().replace(CALL_ID.encode(), b"8.4e18")
    with pytest.raises(PayloadError) as caught:
        parse(body)
    assert caught.value.field == "data.call_id"


@given(st.text(alphabet="0123456789", min_size=1, max_size=99))
def test_international_digits_get_their_plus(digits: str) -> None:
    doc = document("call_ringing.json")
    doc["data"]["from_number"] = digits
    assert parse(doc).events[0].from_number == "+" + digits


@given(
    start=st.floats(min_value=946_684_800, max_value=1_900_000_000),
    ring=st.floats(min_value=0, max_value=600),
    talk=st.integers(min_value=0, max_value=86_400),
)
def test_float_times_are_read_and_talk_time_is_rounded(
    start: float, ring: float, talk: int
) -> None:
    doc = document("call_hangup.json")
    answered, hangup = start + ring, start + ring + talk
    doc["timestamp"] = hangup
    doc["data"].update(start_time=start, answered_time=answered, hangup_time=hangup)
    now = datetime.fromtimestamp(hangup, UTC)
    [event] = ADAPTER.parse(json.dumps(doc).encode(), now).events
    assert event.started_at == datetime.fromtimestamp(start, UTC)
    assert event.duration is not None and abs(event.duration - talk) <= 1


# --- malformed deliveries: a 4xx naming the field ------------------------------------------------


def _with(name: str, path: str, value: Any) -> dict[str, Any]:
    doc = document(name)
    *parents, last = path.split(".")
    target = doc
    for part in parents:
        target = target[part]
    target[last] = value
    return doc


BAD_INPUT: list[tuple[dict[str, Any] | bytes, str, str]] = [
    (b"\xff", "body", "not UTF-8"),
    (b"NaN", "body", "not a JSON number"),
    (b'"call"', "body", "got a string"),
    ({"resource": "call", "event": "ringing", "timestamp": 1744365600}, "data", "Field required"),
    (_with("call_ringing.json", "data.call_id", None), "data.call_id", "valid string"),
    (_with("call_ringing.json", "data.call_id", ""), "data.call_id", "1 to 255"),
    (_with("call_ringing.json", "timestamp", None), "timestamp", "datetime"),
    (_with("call_ringing.json", "data.start_time", 1e30), "data.start_time", "not a UNIX time"),
    (_with("call_ringing.json", "data.direction", "both"), "data.direction", "'inbound'"),
    (_with("call_ringing.json", "data.from_number", "3" * 100), "data.from_number", "99 digits"),
    (_with("call_ringing.json", "data.user.email", "x" * 321), "data.user.email", "320"),
    (_with("call_hangup.json", "data.record", "ftp:/x"), "data.record", "URL"),
    (_with("call_hangup.json", "data.hangup_time", 1744365600 + 8 * 86400), "data.hangup_time", ""),
    (
        _with("aftercall_record_available.json", "data.record_link", None),
        "data.record_link",
        "URL",
    ),
    (
        _with("aftercall_tags_updated.json", "data.tags", ["t"] * (TAGS_MAX + 1)),
        "data.tags",
        "at most 100",
    ),
]


@pytest.mark.parametrize(("body", "field", "words"), BAD_INPUT)
def test_bad_input_names_the_field(body: dict[str, Any] | bytes, field: str, words: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse(body)
    assert caught.value.field == field
    assert words in caught.value.problem
