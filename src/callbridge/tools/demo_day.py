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


SEED_RECORDS = (
    SeedRecord("Alice Martin", "contact", "(415) 555-0134", "+14155550134"),
    SeedRecord("Bob Chen", "contact", "415.555.0188", "+14155550188"),
    SeedRecord("Carla Gómez", "contact", "+1 (415) 555-0123 ", "+14155550123"),
    SeedRecord("Dan Okafor", "contact", "650-555-0142", "+16505550142"),
    SeedRecord("Dan Okafor", "lead", "(650) 555 0142", "+16505550142"),
)
EMPLOYEES = (
    ("Maya Patel", "maya.patel@demo.callbridge.dev"),
    ("Tom Becker", "tom.becker@demo.callbridge.dev"),
    ("Lina Rossi", "lina.rossi@demo.callbridge.dev"),
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


def plan_day(run_id: str, calls: int, unknown: list[str], rng: random.Random) -> list[DemoCall]:
    """Plan ``calls`` calls: the required cases first, then a random mix of the scenarios."""
    known = sorted({record.e164 for record in SEED_RECORDS})
    parties: list[tuple[str, str | None, str | None]] = [
        ("unknown", unknown[0], _CONCURRENT),
        ("unknown", unknown[0], _CONCURRENT),
        ("anonymous", None, None),
        *(("known", number, None) for number in known),
    ]
    pool = unknown[1:]
    while len(parties) < calls:
        if rng.random() < 0.5:
            parties.append(("known", rng.choice(known), None))
        else:
            parties.append(("unknown", rng.choice(pool), None))
    start = datetime.now(UTC) - timedelta(hours=8)
    step = timedelta(hours=8) / len(parties)
    # The concurrent pair rings at the same moment; every other call has its own time of day.
    planned = [
        _plan_call(f"{run_id}-{i:03d}", party, start + (0 if party[2] else i) * step, rng)
        for i, party in enumerate(parties)
    ]
    _make_sure_every_case_happens(planned)
    return planned


def _plan_call(
    call_id: str, party: tuple[str, str | None, str | None], at: datetime, rng: random.Random
) -> DemoCall:
    kind, number, group = party
    scenario = "incoming answered" if group else rng.choice(SCENARIOS)
    if kind == "anonymous":
        scenario = "incoming missed"
    call = DemoCall(call_id, scenario, kind, number, group=group)
    if group:
        call.call_id = f"{call_id}-{group}"
    events = _events(call, number or "anonymous", at, rng)
    call.reversed = group is None and rng.random() < 0.25
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
    name, email = rng.choice(EMPLOYEES)
    common: dict[str, Any] = {
        "direction": "incoming" if incoming else "outgoing",
        "from": external if incoming else COMPANY_NUMBER,
        "to": COMPANY_NUMBER if incoming else external,
        "agent": {"email": email, "name": name},
        "started_at": at.isoformat(),
    }
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


@dataclass
class Tally:
    """What the sending phase saw."""

    deliveries: int = 0
    retries: int = 0
    retry_duplicates: int = 0
    rejected: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CrmState:
    """The local CRM and the queue after the day, as read through the API."""

    records_added: int
    activities: list[dict[str, Any]]
    records_by_number: dict[str, int]
    dead_jobs: int


@dataclass
class Report:
    """The summary rows: label, figure, and whether its check holds (None: no check)."""

    rows: list[tuple[str, str, bool | None]] = field(default_factory=list)

    def add(self, label: str, figure: object, ok: bool | None = None) -> None:
        """Add one row."""
        self.rows.append((label, str(figure), ok))

    @property
    def consistent(self) -> bool:
        """Tell whether every check holds."""
        return all(ok is not False for _, _, ok in self.rows)


def judge(
    day: list[DemoCall],
    tally: Tally,
    syncs: dict[str, dict[str, Any]],
    crm: CrmState,
    creates_all: bool,
) -> Report:
    """Compare what the CRM shows with what the day sent; ``syncs`` by provider call id."""
    report = Report()
    planned = sum(d.retry for c in day for d in c.deliveries + c.late)
    report.add("calls sent", len(day))
    events = sum(c.event_count for c in day)
    report.add("events sent (deliveries with retries)", f"{events} ({tally.deliveries})")
    report.add("deliveries refused by the server", len(tally.rejected), not tally.rejected)
    ok = tally.retry_duplicates == tally.retries == planned
    report.add("retried deliveries answered duplicate", f"{tally.retry_duplicates}/{planned}", ok)
    unknown = {c.number for c in day if c.party == "unknown" and c.number}
    created = crm.records_added == len(unknown) if creates_all else None
    report.add("contacts created (distinct unknown callers)", crm.records_added, created)
    _judge_activities(report, day, syncs, crm)
    pair = {c.number for c in day if c.group and c.number}
    together = sum(crm.records_by_number.get(n, 0) for n in pair)
    ok = together == 1 if creates_all else together <= 1
    report.add("duplicates avoided: contacts for the concurrent caller", together, ok)
    report.add("failures: dead jobs", crm.dead_jobs, crm.dead_jobs == 0)
    report.add("failures: calls not synced", len(day) - len(syncs), len(syncs) == len(day))
    return report


def _judge_activities(
    report: Report, day: list[DemoCall], syncs: dict[str, dict[str, Any]], crm: CrmState
) -> None:
    """Check one activity per logged call, matches on odd formats and the late updates."""
    per_call: dict[str, list[dict[str, Any]]] = {}
    for activity in crm.activities:
        per_call.setdefault(activity["external_id"], []).append(activity)
    logged = {k: v for k, v in syncs.items() if v["status"] == "done"}
    found = {k: per_call.get(f"callbridge:{v['call_id']}", []) for k, v in logged.items()}
    count = sum(len(per_call.get(f"callbridge:{v['call_id']}", [])) for v in syncs.values())
    report.add("activities logged (one per synced call)", count, count == len(logged))
    extra = sum(max(0, len(a) - 1) for a in found.values())
    report.add("duplicates avoided: extra activities from retries", extra, extra == 0)
    known = [c for c in day if c.party == "known"]
    matched = sum(bool(syncs.get(c.call_id, {}).get("matched")) for c in known)
    ok = matched == len(known)
    report.add("known callers matched on odd formats", f"{matched}/{len(known)}", ok)
    late = [(c, d.event["type"]) for c in day for d in c.late]
    field_of = {"call.recording": "recording_url", "call.updated": "notes"}
    applied = sum(any(a.get(field_of[kind]) for a in found.get(c.call_id, [])) for c, kind in late)
    ok = applied == len(late)
    report.add("late recordings and notes on the same activity", f"{applied}/{len(late)}", ok)
    anonymous = [syncs.get(c.call_id, {}).get("status") for c in day if c.party == "anonymous"]
    ok = all(status == "skipped" for status in anonymous)
    report.add("anonymous calls skipped, nothing created", len(anonymous), ok)
