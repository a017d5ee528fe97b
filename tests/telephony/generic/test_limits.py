"""The generic parser against the documented limits, on generated events at every edge.

Whatever the parser accepts must be storable and answerable: ids and numbers kept exactly,
free text cleaned and cut to its limit, times in the window, a duration in range. Whatever it
refuses must be refused for a documented reason, and the 422 must name that field.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from datetime import UTC
from typing import Any

import hypothesis
from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.domain.event import CallEvent
from callbridge.errors import PayloadError
from callbridge.telephony.generic import GenericAdapter
from callbridge.telephony.limits import check_delivery_id
from tests.telephony.generic.generic_events import event as generated_event
from tests.telephony.generic.generic_rules import (
    AHEAD,
    DURATION_MAX,
    EARLIEST,
    TAG_LIMIT,
    TEXTS,
    expected_text,
    refused,
    server_now,
)

NOW = server_now()


@settings(max_examples=200)
@given(event=generated_event(NOW))
def test_parse_accepts_what_the_docs_accept_and_names_what_it_refuses(
    event: dict[str, Any],
) -> None:
    body = json.dumps(event).encode()
    event = json.loads(body)  # as sent: JSON joins a high and a low surrogate escape into one
    must_refuse = refused(event, NOW)
    try:
        delivery = GenericAdapter().parse(body, NOW)
    except PayloadError as err:
        hypothesis.event("refused", err.field)
        assert must_refuse, f"refused {err.field} ({err.problem}), which the docs accept"
        assert err.field in must_refuse, (err.field, err.problem, must_refuse)
        f"{err.field}: {err.problem}".encode()  # the 422 answer can be encoded
        return
    hypothesis.event("accepted")
    assert not must_refuse, f"accepted {sorted(must_refuse)}, which the docs refuse"
    (parsed,) = delivery.events
    _assert_fits(parsed, event)


def _assert_fits(parsed: CallEvent, event: dict[str, Any]) -> None:
    """Check one accepted event against what was sent, field by field."""
    call = event["call"]
    assert parsed.event_id == str(event["id"])
    assert parsed.call_id == str(call["id"])
    for name, attribute in (("from", "from_number"), ("to", "to_number")):
        assert getattr(parsed, attribute) == (str(call[name]) if name in call else None)
    sent_agent, sent_utm = call.get("agent") or {}, call.get("utm") or {}
    for key in ("id", "email", "extension"):
        kept = getattr(parsed.agent, key) if parsed.agent else None
        assert kept == (str(sent_agent[key]) if key in sent_agent else None)
    texts = {
        "call.agent.name": (sent_agent.get("name"), parsed.agent and parsed.agent.name),
        "call.disposition": (call.get("disposition"), parsed.disposition),
        "call.notes": (call.get("notes"), parsed.notes),
        **{
            f"call.utm.{key}": (sent_utm.get(key), getattr(parsed.utm, key) if parsed.utm else None)
            for key in ("source", "medium", "campaign", "term", "content")
        },
    }
    for path, (sent, kept) in texts.items():
        assert kept == (None if sent is None else expected_text(sent, TEXTS[path])), path
    assert parsed.tags == tuple(expected_text(tag, TAG_LIMIT) for tag in call.get("tags", []))
    for moment in (parsed.occurred_at, parsed.started_at, parsed.answered_at, parsed.ended_at):
        assert moment is None or (moment.tzinfo is UTC and EARLIEST <= moment <= NOW + AHEAD), (
            moment
        )
    assert parsed.duration is None or 0 <= parsed.duration <= DURATION_MAX
    json.dumps(asdict(parsed), default=str, ensure_ascii=False).encode()  # no lone surrogate


@settings(max_examples=100)
@given(header=st.one_of(st.text(max_size=300), st.text(min_size=250, max_size=260)))
def test_a_delivery_id_is_kept_whole_or_refused_naming_the_header(header: str) -> None:
    fits = 1 <= len(header) <= 255 and not re.search("[\x00-\x1f\x7f\ud800-\udfff]", header)
    try:
        assert check_delivery_id(header) == header
    except PayloadError as err:
        assert not fits
        assert err.field == "webhook-id"
        assert "255" in err.problem or "control" in err.problem
    else:
        assert fits
