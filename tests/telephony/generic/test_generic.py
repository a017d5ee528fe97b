"""The generic provider: one test per fixture, then every class of bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from callbridge.domain.event import Agent, CallEvent, Direction, EventKind, Utm
from callbridge.errors import PayloadError, SignatureError
from callbridge.telephony import PROVIDERS
from callbridge.telephony.base import ParsedDelivery
from callbridge.telephony.generic import MAX_BATCH, GenericAdapter
from callbridge.telephony.standard_webhooks import generate_secret, sign

FIXTURES = Path(__file__).parent / "fixtures"
CLAIRE = Agent(id="u_104", email="claire.martin@example.com", extension="204", name="Claire Martin")


def at(text: str) -> datetime:
    """Return an aware UTC datetime from an ISO-8601 string with offset."""
    return datetime.fromisoformat(text).astimezone(UTC)


def parse_fixture(name: str) -> ParsedDelivery:
    """Parse one fixture file with the generic adapter."""
    return GenericAdapter().parse((FIXTURES / name).read_bytes())


def only_event(name: str) -> CallEvent:
    """Parse a fixture holding one call event and return that event."""
    delivery = parse_fixture(name)
    assert delivery.ignored is None
    assert len(delivery.events) == 1
    return delivery.events[0]


def test_registered_as_generic() -> None:
    assert PROVIDERS["generic"].name == "generic"
    assert isinstance(PROVIDERS["generic"], GenericAdapter)


def test_incoming_ringing() -> None:
    assert only_event("incoming_ringing.json") == CallEvent(
        event_id="evt_01HQ7Z3K4M8R2T6V9X1B5N0C3D",
        call_id="call_7f3a9c1e",
        kind=EventKind.RINGING,
        occurred_at=at("2025-03-04T08:14:02+00:00"),
        direction=Direction.INCOMING,
        from_number="+33 6 12 34 56 78",
        to_number="01 23 45 67 89",
        agent=CLAIRE,
        started_at=at("2025-03-04T08:14:02+00:00"),
    )


def test_incoming_answered() -> None:
    assert only_event("incoming_answered.json") == CallEvent(
        event_id="evt_01HQ7Z3S0J6W4Y8A2C7E1G5K9M",
        call_id="call_7f3a9c1e",
        kind=EventKind.ANSWERED,
        occurred_at=at("2025-03-04T08:14:11+00:00"),
        direction=Direction.INCOMING,
        from_number="+33 6 12 34 56 78",
        to_number="01 23 45 67 89",
        agent=CLAIRE,
        started_at=at("2025-03-04T08:14:02+00:00"),
        answered_at=at("2025-03-04T08:14:11+00:00"),
    )


def test_incoming_ended() -> None:
    event = only_event("incoming_ended.json")
    assert event == CallEvent(
        event_id="evt_01HQ7Z6P2R8T4V0X6Z2B8D4F0H",
        call_id="call_7f3a9c1e",
        kind=EventKind.ENDED,
        occurred_at=at("2025-03-04T08:16:16+00:00"),
        direction=Direction.INCOMING,
        from_number="+33 6 12 34 56 78",
        to_number="01 23 45 67 89",
        agent=CLAIRE,
        started_at=at("2025-03-04T08:14:02+00:00"),
        answered_at=at("2025-03-04T08:14:11+00:00"),
        ended_at=at("2025-03-04T08:15:46+00:00"),
        duration=95,
        disposition="interested",
    )
    assert event.occurred_at.tzinfo is UTC


def test_missed_with_unix_timestamps() -> None:
    assert only_event("missed.json") == CallEvent(
        event_id="evt_01HQ8A1B2C3D4E5F6G7H8J9K0L",
        call_id="call_b81d0e44",
        kind=EventKind.MISSED,
        occurred_at=at("2025-03-04T11:45:00+00:00"),
        direction=Direction.INCOMING,
        from_number="067 123 45 67",
        to_number="+380 44 123 4567",
        started_at=at("2025-03-04T11:44:35+00:00"),
        ended_at=at("2025-03-04T11:45:00+00:00"),
        duration=0,
    )


def test_voicemail() -> None:
    assert only_event("voicemail.json") == CallEvent(
        event_id="evt_01HQ8B7N3P9R5T1V7X3Z9B5D1F",
        call_id="call_c2e6f390",
        kind=EventKind.VOICEMAIL,
        occurred_at=at("2025-03-04T22:42:31+00:00"),
        direction=Direction.INCOMING,
        from_number="(201) 555-0143",
        to_number="+1 201 555 0100",
        agent=Agent(extension="200"),
        started_at=at("2025-03-04T22:41:50+00:00"),
        ended_at=at("2025-03-04T22:42:31+00:00"),
        duration=0,
        recording_url="https://recordings.example.com/voicemail/call_c2e6f390.mp3",
    )


def test_outgoing_click_to_dial_with_integer_ids() -> None:
    assert only_event("outgoing_click_to_dial.json") == CallEvent(
        event_id="9007199254740993",
        call_id="184467440737095516",
        kind=EventKind.ENDED,
        occurred_at=at("2025-03-05T14:03:27.512+00:00"),
        direction=Direction.OUTGOING,
        from_number="+44 20 7946 0000",
        to_number="020 7946 0958",
        agent=Agent(id="3302", email="sam.okafor@example.co.uk", name="Sam Okafor"),
        started_at=at("2025-03-05T14:00:02+00:00"),
        answered_at=at("2025-03-05T14:00:15+00:00"),
        ended_at=at("2025-03-05T14:03:27+00:00"),
        duration=192,
        crm_record_id="0035g00000XyZaBAAV",
    )


def test_recording_arriving_late() -> None:
    assert only_event("recording_late.json") == CallEvent(
        event_id="evt_01HQ7ZB4F8H2K6M0P4R8T2V6X0",
        call_id="call_7f3a9c1e",
        kind=EventKind.RECORDING,
        occurred_at=at("2025-03-04T08:17:03+00:00"),
        recording_url="https://recordings.example.com/2025/03/04/call_7f3a9c1e.mp3?sig=af31c9",
    )


def test_updated_with_notes_tags_and_disposition() -> None:
    assert only_event("updated_notes_tags.json") == CallEvent(
        event_id="evt_01HQ7ZD9G3J7L1N5Q9S3U7W1Y5",
        call_id="call_7f3a9c1e",
        kind=EventKind.UPDATED,
        occurred_at=at("2025-03-04T08:21:40+00:00"),
        notes="Wants a quote for 12 seats; call back Thursday.\nPrefers email.",
        tags=("quote", "priority"),
        disposition="callback_scheduled",
    )


def test_tracked_incoming_call_carries_utm() -> None:
    assert only_event("tracked_incoming_utm.json") == CallEvent(
        event_id="evt_01HQ9C4E8G2J6L0N4Q8S2U6W0Y",
        call_id="call_d4a7b915",
        kind=EventKind.RINGING,
        occurred_at=at("2025-03-06T09:30:00+00:00"),
        direction=Direction.INCOMING,
        from_number="+39 06 1234 5678",
        to_number="+33 1 23 45 67 00",
        utm=Utm(
            source="google",
            medium="cpc",
            campaign="spring_sale_2025",
            term="crm telephony",
            content="ad_variant_b",
            tracking_number="+33 1 23 45 67 00",
        ),
    )


def test_non_call_event_is_ignored_with_a_reason() -> None:
    assert parse_fixture("ignored_user_created.json") == ParsedDelivery(
        events=(), ignored="event type user.created is not a call event"
    )


def test_batch_gives_its_call_events_in_order_and_names_the_ignored() -> None:
    delivery = parse_fixture("batch.json")
    assert delivery.ignored == "event type contact.updated is not a call event"
    assert delivery.events == (
        CallEvent(
            event_id="evt_batch_1",
            call_id="call_e5f10a22",
            kind=EventKind.RINGING,
            occurred_at=at("2025-03-07T08:00:00+00:00"),
            direction=Direction.INCOMING,
            from_number="+12015550178",
            to_number="+12015550100",
        ),
        CallEvent(
            event_id="evt_batch_2",
            call_id="call_e5f10a22",
            kind=EventKind.ANSWERED,
            occurred_at=at("2025-03-07T08:00:06+00:00"),
            agent=Agent(email="dana.lee@example.com"),
            answered_at=at("2025-03-07T08:00:06+00:00"),
        ),
        CallEvent(
            event_id="evt_batch_4",
            call_id="call_e5f10a22",
            kind=EventKind.ENDED,
            occurred_at=at("2025-03-07T08:02:10+00:00"),
            ended_at=at("2025-03-07T08:02:10+00:00"),
            duration=124,
        ),
    )


def test_verify_uses_standard_webhooks() -> None:
    secret = generate_secret()
    body = (FIXTURES / "incoming_ringing.json").read_bytes()
    now = datetime(2025, 3, 4, 8, 14, 3, tzinfo=UTC)
    timestamp = int(now.timestamp())
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, "msg_1", timestamp, body),
    }
    PROVIDERS["generic"].verify(headers, body, [secret], now)
    with pytest.raises(SignatureError):
        PROVIDERS["generic"].verify(headers, body + b" ", [secret], now)


def minimal(**changes: Any) -> dict[str, Any]:
    """Return a minimal valid call.ended event, with top-level or call fields changed."""
    event: dict[str, Any] = {
        "id": "evt_1",
        "type": "call.ended",
        "timestamp": "2025-03-04T09:15:46+01:00",
        "call": {"id": "call_1"},
    }
    for key, value in changes.items():
        target = event["call"] if key.startswith("call_") else event
        name = key.removeprefix("call_")
        if value is _DROP:
            del target[name]
        else:
            target[name] = value
    return event


_DROP = object()

BAD_INPUT = [
    # (body, field, words in the problem)
    (b"{not json", "body", "not valid JSON"),
    (b"", "body", "not valid JSON"),
    (b"\xff\xfe\x00", "body", "not UTF-8"),
    (b'"call.ended"', "body", "got a string"),
    (b"[]", "body", "empty"),
    (json.dumps([minimal()] * (MAX_BATCH + 1)).encode(), "body", f"at most {MAX_BATCH}"),
    (json.dumps([minimal(), 3]).encode(), "[1]", "got a number"),
    (minimal(id=_DROP), "id", "Field required"),
    (minimal(id=""), "id", "1 to 255 characters"),
    (minimal(type=_DROP), "type", "Field required"),
    (minimal(type="call.transferred"), "type", "'call.ringing'"),
    (minimal(type="ended"), "type", "'call.ended'"),
    (minimal(type=7), "type", "'call.ended'"),
    (minimal(timestamp=_DROP), "timestamp", "Field required"),
    (minimal(timestamp="2025-03-04T09:15:46"), "timestamp", "timezone"),
    (minimal(timestamp="yesterday"), "timestamp", "datetime"),
    (minimal(call=_DROP), "call", "Field required"),
    (minimal(call="call_1"), "call", "should be an object"),
    (minimal(call_id=_DROP), "call.id", "Field required"),
    (minimal(call_id=True), "call.id", "valid string"),
    (minimal(call_direction="inbound"), "call.direction", "'incoming'"),
    (minimal(call_duration=-1), "call.duration", "from 0 to 604800"),
    (minimal(call_duration="95s"), "call.duration", "valid integer"),
    (minimal(call_duration=9.5), "call.duration", "fractional part"),
    (minimal(call_ended_at=1.5e30), "call.ended_at", "datetime"),
    (minimal(call_recording_url="ftp://example.com/a.mp3"), "call.recording_url", "http"),
    (minimal(call_tags="vip"), "call.tags", "valid tuple"),
    (minimal(call_tags=["vip", 3]), "call.tags[1]", "valid string"),
    (minimal(call_agent={"email": ["a@example.com"]}), "call.agent.email", "valid string"),
    (minimal(call_utm={"source": 1}), "call.utm.source", "valid string"),
    (minimal(call_notes={"text": "hi"}), "call.notes", "valid string"),
    (minimal(type="call.recording"), "call.recording_url", "required"),
    (json.dumps([minimal(), minimal(call_duration=-5)]).encode(), "[1].call.duration", "0"),
]


@pytest.mark.parametrize(("body", "field", "words"), BAD_INPUT)
def test_bad_input_names_the_field(body: dict[str, Any] | bytes, field: str, words: str) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(PayloadError) as caught:
        GenericAdapter().parse(raw)
    assert caught.value.field == field
    assert words in caught.value.problem


def test_unknown_fields_are_ignored() -> None:
    event = minimal(future_field={"x": 1}, call_queue="sales")
    delivery = GenericAdapter().parse(json.dumps(event).encode())
    assert [e.call_id for e in delivery.events] == ["call_1"]


def test_numbers_sent_as_json_integers_become_text() -> None:
    event = minimal(call_from=33612345678, call_agent={"extension": 204})
    (parsed,) = GenericAdapter().parse(json.dumps(event).encode()).events
    assert (parsed.from_number, parsed.agent) == ("33612345678", Agent(extension="204"))


def test_batch_of_only_ignored_events() -> None:
    body = json.dumps([{"type": "user.created"}, {"type": "user.deleted"}]).encode()
    assert GenericAdapter().parse(body) == ParsedDelivery(
        events=(), ignored="event types user.created, user.deleted are not call events"
    )
