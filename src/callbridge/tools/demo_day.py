"""The simulated day of ``callbridge demo``: seed contacts, employees, and the calls to send."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from callbridge.domain.phone import PhoneNumber, normalize
from callbridge.testing.webhooks import generic_event

COMPANY_NUMBER = "+14155550100"
SCENARIOS = (
    "incoming answered",
    "incoming missed",
    "incoming voicemail",
    "outgoing answered",
    "outgoing unanswered",
)
_ANSWERED = frozenset({"incoming answered", "outgoing answered"})
# Fictional 555-01XX numbers in real US area codes: valid for libphonenumber, owned by nobody.
_AREA_CODES = ("212", "303", "312", "404", "503", "617", "702", "206", "213", "305", "512", "615")
_CONCURRENT = "concurrent"


@dataclass(frozen=True)
class SeedRecord:
    """A record of the local CRM, its number stored the odd way people type them."""

    name: str
    object_type: str
    phone: str
    e164: str
    owner_email: str  # the responsible manager: the employee who owns the record


EMPLOYEES = (
    ("Maya Patel", "maya.patel@demo.callbridge.dev"),
    ("Tom Becker", "tom.becker@demo.callbridge.dev"),
    ("Lina Rossi", "lina.rossi@demo.callbridge.dev"),
)
# The TOP manager gets new clients' missed calls and the tasks nobody else can take.
TOP_MANAGER = ("Grace Hopper", "grace.hopper@demo.callbridge.dev")
# An agent the phone system knows but no Callbridge user matches: the "unknown employee" case.
UNKNOWN_AGENT = ("Sam Temp", "sam.temp@demo.callbridge.dev")
_MAYA, _TOM, _LINA = (email for _, email in EMPLOYEES)
SEED_RECORDS = (
    SeedRecord("Alice Martin", "contact", "(415) 555-0134", "+14155550134", _MAYA),
    SeedRecord("Bob Chen", "contact", "415.555.0188", "+14155550188", _TOM),
    SeedRecord("Carla Gómez", "contact", "+1 (415) 555-0123 ", "+14155550123", _LINA),
    SeedRecord("Dan Okafor", "contact", "650-555-0142", "+16505550142", _MAYA),
    SeedRecord("Dan Okafor", "lead", "(650) 555 0142", "+16505550142", _TOM),
)
# Call tracking: where new callers found the number (sent with their incoming calls).
CAMPAIGNS = (
    {"source": "google", "medium": "cpc", "campaign": "spring_sale"},
    {"source": "facebook", "medium": "social", "campaign": "launch_video"},
    {"source": "newsletter", "medium": "email", "campaign": "march_digest"},
)


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery of one event; ``retry`` sends it a second time, unchanged."""

    event: dict[str, Any]
    retry: bool


@dataclass
class DemoCall:
    """A call of the day: its events in the order they are sent, and the late ones."""

    call_id: str
    scenario: str
    party: str  # known, unknown or anonymous
    number: str | None  # the external party in E.164, None when anonymous
    deliveries: list[Delivery] = field(default_factory=list)
    late: list[Delivery] = field(default_factory=list)
    reversed: bool = False
    group: str | None = None
    agent_email: str | None = None
    utm: dict[str, str] | None = None

    @property
    def event_count(self) -> int:
        """Return how many distinct events the call has."""
        return len(self.deliveries) + len(self.late)


def unknown_numbers(rng: random.Random, count: int) -> list[str]:
    """Return ``count`` distinct valid E.164 numbers that no seed record carries."""
    seeds = {record.e164 for record in SEED_RECORDS}
    found: list[str] = []
    while len(found) < count:
        raw = f"+1{rng.choice(_AREA_CODES)}55501{rng.randrange(100):02d}"
        parsed = normalize(raw, "US")
        if isinstance(parsed, PhoneNumber) and parsed.e164 not in seeds | set(found):
            found.append(parsed.e164)
    return found


@dataclass(frozen=True)
class _Party:
    """Who a planned call is with; a required case fixes its scenario and agent."""

    kind: str  # known, unknown or anonymous
    number: str | None
    group: str | None = None
    scenario: str | None = None
    agent_email: str | None = None


def plan_day(run_id: str, calls: int, unknown: list[str], rng: random.Random) -> list[DemoCall]:
    """Plan ``calls`` calls: every scenario of the default matrix first, then a random mix."""
    known = sorted({record.e164 for record in SEED_RECORDS})
    required = [
        # A new client calling twice at once, answered: one contact, one deal with its UTM.
        _Party("unknown", unknown[0], _CONCURRENT, "incoming answered"),
        _Party("unknown", unknown[0], _CONCURRENT, "incoming answered"),
        _Party("anonymous", None, scenario="incoming missed"),
        # A new client's missed call: contact, deal and call-back task for the TOP manager.
        _Party("unknown", unknown[1], scenario="incoming missed"),
        # Existing clients, each case once; the first answered by an unknown employee.
        *(
            _Party("known", number, scenario=scenario)
            for number, scenario in zip(known, SCENARIOS, strict=False)
        ),
    ]
    required[4] = _Party("known", known[0], None, SCENARIOS[0], UNKNOWN_AGENT[1])
    parties = required[:calls] if calls < len(required) else required
    pool = unknown[2:]  # unknown[1] calls once: its missed call is a new client's
    while len(parties) < calls:
        if rng.random() < 0.5:
            parties.append(_Party("known", rng.choice(known)))
        else:
            parties.append(_Party("unknown", rng.choice(pool)))
    start = datetime.now(UTC) - timedelta(hours=8)
    step = timedelta(hours=8) / len(parties)
    # The concurrent pair rings at the same moment; every other call has its own time of day.
    planned = [
        _plan_call(f"{run_id}-{i:03d}", party, start + (0 if party.group else i) * step, rng)
        for i, party in enumerate(parties)
    ]
    _make_sure_every_case_happens(planned)
    return planned


def _plan_call(call_id: str, party: _Party, at: datetime, rng: random.Random) -> DemoCall:
    scenario = party.scenario or rng.choice(SCENARIOS)
    number = party.number
    call = DemoCall(call_id, scenario, party.kind, number, group=party.group)
    if party.group:
        call.call_id = f"{call_id}-{party.group}"
    agent = UNKNOWN_AGENT if rng.random() < 0.1 else rng.choice(EMPLOYEES)
    call.agent_email = party.agent_email or agent[1]
    if party.kind == "unknown" and scenario.startswith("incoming"):
        call.utm = dict(rng.choice(CAMPAIGNS))
    events = _events(call, number or "anonymous", at, rng)
    call.reversed = party.group is None and rng.random() < 0.25
    call.deliveries = [Delivery(e, rng.random() < 0.2) for e in events]
    if call.reversed:
        call.deliveries.reverse()
    if scenario in _ANSWERED and rng.random() < 0.5:
        call.late.append(Delivery(_recording(call.call_id, at), rng.random() < 0.2))
    if scenario in _ANSWERED and rng.random() < 0.3:
        call.late.append(Delivery(_notes(call.call_id, at), rng.random() < 0.2))
    return call


def _events(
    call: DemoCall, external: str, at: datetime, rng: random.Random
) -> list[dict[str, Any]]:
    """Return the main events of a call, in the order they happened."""
    incoming = call.scenario.startswith("incoming")
    names = {email: name for name, email in (*EMPLOYEES, UNKNOWN_AGENT)}
    common: dict[str, Any] = {
        "direction": "incoming" if incoming else "outgoing",
        "from": external if incoming else COMPANY_NUMBER,
        "to": COMPANY_NUMBER if incoming else external,
        "agent": {"email": call.agent_email, "name": names[call.agent_email or ""]},
        "started_at": at.isoformat(),
    }
    if call.utm:
        common["utm"] = {**call.utm, "tracking_number": COMPANY_NUMBER}
    ringing = generic_event("call.ringing", call.call_id, at=at, **common)
    if call.scenario in _ANSWERED:
        duration = rng.randrange(20, 900)
        answered_at, ended_at = at + timedelta(seconds=6), at + timedelta(seconds=6 + duration)
        timing = {"answered_at": answered_at.isoformat(), "ended_at": ended_at.isoformat()}
        return [
            ringing,
            generic_event("call.answered", call.call_id, at=answered_at, **common),
            generic_event(
                "call.ended", call.call_id, at=ended_at, duration=duration, **common, **timing
            ),
        ]
    final = "call.voicemail" if call.scenario.endswith("voicemail") else "call.missed"
    end = at + timedelta(seconds=25)
    return [ringing, generic_event(final, call.call_id, at=end, duration=0, **common)]


def _recording(call_id: str, at: datetime) -> dict[str, Any]:
    url = f"https://recordings.demo.callbridge.dev/{call_id}.mp3"
    return generic_event("call.recording", call_id, at=at + timedelta(hours=1), recording_url=url)


def _notes(call_id: str, at: datetime) -> dict[str, Any]:
    return generic_event(
        "call.updated",
        call_id,
        at=at + timedelta(hours=1, minutes=5),
        notes="Asked for a quote; call back on Monday.",
        tags=["quote"],
        disposition="callback_scheduled",
    )


def _make_sure_every_case_happens(planned: list[DemoCall]) -> None:
    """Force one retry, one reversed call, one late recording and one late note."""
    first = planned[0]
    first.deliveries[0] = Delivery(first.deliveries[0].event, True)
    answered = [c for c in planned if c.scenario in _ANSWERED and c.group is None]
    if not answered:  # the concurrent pair is always answered: use its first call
        answered = [first]
    target = answered[0]
    if not any(c.reversed for c in planned):
        target.reversed = True
        target.deliveries.reverse()
    kinds = {d.event["type"] for c in planned for d in c.late}
    if "call.recording" not in kinds:
        target.late.append(Delivery(_recording(target.call_id, datetime.now(UTC)), True))
    if "call.updated" not in kinds:
        target.late.append(Delivery(_notes(target.call_id, datetime.now(UTC)), False))
