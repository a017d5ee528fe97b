"""Generated generic-schema events, every field at and around its documented limit.

``event()`` draws schema-valid events (right JSON types) whose values sit on and around every
limit of ``docs/telephony/generic.md``: text with NUL, lone surrogates, emoji, RTL marks and
10,000+ characters; integers at 2^31, 2^63, 10^30 and below zero; times across the accepted
window and just outside it. ``generic_rules`` holds the oracle they are checked against.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from tests.telephony.generic.generic_rules import AHEAD, DURATION_MAX, TAGS_LIMIT

KINDS = [
    "call.ringing",
    "call.answered",
    "call.ended",
    "call.missed",
    "call.voicemail",
    "call.recording",
    "call.updated",
]
FINAL_KINDS = {"call.ended", "call.missed", "call.voicemail"}

SPECIALS = [
    "\x00",
    "\x01",
    "\x1f",
    "\x7f",
    "\ud800",
    "\udbff",
    "\udc00",
    "\udfff",
    "\u202e",  # right-to-left override
    "\u200f",  # right-to-left mark
    "שלום",
    "مرحبا",
    "😀",
    "👩\u200d💻",
    "\ufeff",
    "\ufffd",
    "\n",
    "\t",
    "\r",
    "é",
    "%_'\"\\",
]
EDGE_LENGTHS = [99, 100, 101, 199, 200, 201, 254, 255, 256, 319, 320, 321, 10_000, 20_000, 20_001]


def _pieces(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    """Text made of any characters, lone surrogates and the special pieces above."""
    surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, categories=["Cs"])
    specials = st.sampled_from(SPECIALS)
    piece = st.one_of(st.characters(), specials, specials, surrogates)
    return st.lists(piece, min_size=min_size, max_size=max_size).map("".join)


def _repeat_to(seed: str, length: int) -> str:
    return (seed * (length // len(seed) + 1))[:length]


def nasty_text() -> st.SearchStrategy[str]:
    """Short text of any characters, or text repeated to a length at some limit's edge."""
    short = _pieces(0, 24)
    long = st.builds(_repeat_to, _pieces(1, 4), st.sampled_from(EDGE_LENGTHS))
    return st.one_of(short, short, long)


def hostile_text() -> st.SearchStrategy[str]:
    """Text that always holds a character no database or JSON answer takes as it is (NUL, a
    lone surrogate, another control), often at a length beyond a limit."""
    bad = st.sampled_from(["\x00", "\ud800", "\udfff", "\x1b", "\x7f"])
    mixed = st.builds(lambda head, char, tail: head + char + tail, nasty_text(), bad, nasty_text())
    return st.one_of(mixed, st.builds(_repeat_to, mixed, st.sampled_from(EDGE_LENGTHS)))


def _big_ints(wild: bool) -> st.SearchStrategy[int]:
    if not wild:
        return st.integers(min_value=-(10**6), max_value=10**20)
    edges = [0, -1, 2**31, 2**31 - 1, 2**63, 2**63 - 1, -(2**63), 10**30, 10**254, 10**255]
    return st.one_of(st.integers(min_value=-(10**6), max_value=10**20), st.sampled_from(edges))


def token_value(wild: bool = True) -> st.SearchStrategy[str | int]:
    """An id as platforms send it: printable text (emoji, RTL, up to 255 characters) or an
    integer; ``wild`` adds text of any kind and integers of any size."""
    printable = st.text(st.characters(exclude_categories=["Cc", "Cs"]), min_size=1, max_size=40)
    edges = st.sampled_from(["evt_1", "😀" * 255, "\u202e\u05e9\u05dc\u05d5\u05dd", "x" * 255])
    if not wild:
        return st.one_of(printable, edges, _big_ints(wild))
    too_long = st.sampled_from(["x" * 256, "😀" * 256])
    return st.one_of(printable, edges, too_long, nasty_text(), _big_ints(wild))


def number_value(wild: bool = True) -> st.SearchStrategy[str | int]:
    """A phone number: a real one most of the time, else anything a token may be."""
    real = st.sampled_from(
        ["+14155550123", "+33612345678", "(415) 555-0199", "anonymous", "", "112", "1234"]
    )
    return st.one_of(real, real, token_value(wild))


def time_value(now: datetime, wild: bool = True) -> st.SearchStrategy[Any]:
    """A time inside the window (ISO with any offset, or UNIX seconds/milliseconds); ``wild``
    adds the window's edges and times far outside it."""
    offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
        lambda minutes: timezone(timedelta(minutes=minutes))
    )
    # A naive bound read at -14:00 lies 14 h later in UTC: keep 15 h inside the upper edge.
    latest = (now + AHEAD - timedelta(hours=15)).replace(tzinfo=None)
    inside = st.datetimes(min_value=datetime(2000, 1, 2), max_value=latest, timezones=offsets)
    iso = inside.map(lambda moment: moment.isoformat())
    seconds = inside.map(lambda moment: int(moment.timestamp()))
    millis = inside.map(lambda moment: int(moment.timestamp() * 1000))
    if not wild:
        return st.one_of(iso, seconds, millis)
    edges = [
        "2000-01-01T00:00:00Z",
        "2000-01-01T01:00:00+01:00",
        "1999-12-31T23:59:59Z",
        "2000-01-01T00:59:59+01:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "1900-01-01T00:00:00Z",
        "2199-01-01T00:00:00Z",
        (now + AHEAD - timedelta(hours=1)).isoformat(),
        (now + AHEAD + timedelta(hours=1)).isoformat(),
        0,
        -1,
        946_684_800,
    ]
    return st.one_of(iso, seconds, millis, st.sampled_from(edges))


def duration_value(wild: bool = True) -> st.SearchStrategy[int | float]:
    """A duration in range; ``wild`` adds its edges and far out (2^31, 2^63, 10^30, negatives)."""
    inside = st.integers(min_value=0, max_value=DURATION_MAX)
    if not wild:
        return st.one_of(inside, st.sampled_from([0, DURATION_MAX, 95.0]))
    edges = [0, 604_800, 604_801, -1, 2**31, 2**63, -(2**63), 10**30, 95.0, 1e30]
    return st.one_of(inside, st.sampled_from(edges))


def _tags(wild: bool) -> st.SearchStrategy[list[str]]:
    few = st.lists(nasty_text(), max_size=3)
    counts = [TAGS_LIMIT, TAGS_LIMIT + 1] if wild else [TAGS_LIMIT]
    many = st.sampled_from(counts).map(lambda n: [f"t{i}" for i in range(n)])
    return st.one_of(few, few, many)


def _url(wild: bool) -> st.SearchStrategy[str]:
    fine = ["https://rec.example.com/a.mp3", "https://rec.example.com/\u202e😀 \x00.mp3"]
    bad = ["https://rec.example.com/\ud800.mp3", "https://rec.example.com/" + "a" * 2100]
    return st.sampled_from(fine + bad if wild else fine)


def call_fields(now: datetime, wild: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    """The optional fields of ``call``: free text always at its edges; ids, numbers, times and
    the duration in range, or (``wild``) at and beyond their limits."""
    agent = st.fixed_dictionaries(
        {},
        optional={
            "id": token_value(wild),
            "email": st.one_of(st.just("claire@example.com"), token_value(wild)),
            "extension": token_value(wild),
            "name": nasty_text(),
        },
    )
    utm = st.fixed_dictionaries(
        {},
        optional={
            **{name: nasty_text() for name in ("source", "medium", "campaign", "term", "content")},
            "tracking_number": number_value(wild),
        },
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "direction": st.sampled_from(["incoming", "outgoing", "internal"]),
            "from": number_value(wild),
            "to": number_value(wild),
            "agent": agent,
            "started_at": time_value(now, wild),
            "answered_at": time_value(now, wild),
            "ended_at": time_value(now, wild),
            "duration": duration_value(wild),
            "recording_url": _url(wild),
            "notes": nasty_text(),
            "tags": _tags(wild),
            "disposition": nasty_text(),
            "utm": utm,
            # Click-to-dial from a CRM page: an id the CRM does not have falls back to the
            # number (docs/tenancy.md), so it never stops the call from being processed.
            "crm_record_id": token_value(wild),
        },
    )


def event(
    now: datetime, kind: str | None = None, wild: bool | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """One event (of ``kind``, or any); ``wild`` (by default half of them) goes beyond the
    limits of ids, numbers, times and the duration."""
    if wild is not None:
        return _event(now, wild, kind)
    return st.booleans().flatmap(lambda wild: _event(now, wild, kind))


def _event(now: datetime, wild: bool, kind: str | None) -> st.SearchStrategy[dict[str, Any]]:
    call = st.builds(
        lambda call_id, rest: {"id": call_id, **rest}, token_value(wild), call_fields(now, wild)
    )
    return st.fixed_dictionaries(
        {
            "id": token_value(wild),
            "type": st.just(kind) if kind else st.sampled_from(KINDS),
            "timestamp": time_value(now, wild),
            "call": call,
        }
    )


@st.composite
def call_deliveries(draw: st.DrawFn, now: datetime) -> list[dict[str, Any]]:
    """The events of one call, in any order, ending kinds included: each one delivery."""
    call_id = draw(st.one_of(token_value(wild=False), token_value(wild=False), token_value()))
    events = [draw(event(now, kind)) for kind in draw(st.lists(st.sampled_from(KINDS), max_size=3))]
    # The final event mostly keeps its ids, times and duration in range (its text is never
    # tame), so most calls are synced; it comes anywhere in the order.
    kind = draw(st.sampled_from(sorted(FINAL_KINDS)))
    final = draw(event(now, kind, draw(st.sampled_from([False, False, None]))))
    events.insert(draw(st.integers(0, len(events))), final)
    # Most calls keep a real caller on every event, so the sync goes on to write to the CRM
    # (contact, activity, deal, task) with the edge-case text; the others vary freely.
    backbone = draw(st.one_of(st.just({}), _backbone(), _backbone(), _backbone()))
    for item in events:
        item["call"].update(backbone, id=call_id)
    return events


def _backbone() -> st.SearchStrategy[dict[str, Any]]:
    """A real caller and edge-case text on every event of the call."""
    external = st.sampled_from(["+14155550123", "+33612345678", "(415) 555-0199"])
    parties = st.builds(
        lambda direction, number: (
            {"direction": direction, "from": number, "to": "+14155550100"}
            if direction == "incoming"
            else {"direction": direction, "from": "+14155550100", "to": number}
        ),
        st.sampled_from(["incoming", "outgoing"]),
        external,
    )
    texts = st.fixed_dictionaries(
        {
            "agent": st.fixed_dictionaries({"name": hostile_text()}),
            "notes": hostile_text(),
            "disposition": hostile_text(),
            "tags": st.lists(hostile_text(), min_size=1, max_size=2),
            "utm": st.fixed_dictionaries({"source": hostile_text(), "campaign": hostile_text()}),
        }
    )
    return st.builds(lambda one, other: {**one, **other}, parties, texts)
