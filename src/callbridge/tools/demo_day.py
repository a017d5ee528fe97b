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
    followups: FollowUps = field(default_factory=lambda: FollowUps())


@dataclass(frozen=True)
class FollowUps:
    """The deals, tasks and notes the matrix wrote for this run's calls, by Callbridge call id."""

    deals: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tasks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    notes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    top_manager_id: str | None = None
    call_ids: dict[str, str] = field(default_factory=dict)  # Callbridge id by provider call id


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
    if creates_all:
        _judge_followups(report, day, syncs, crm.followups)
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


def _judge_followups(
    report: Report, day: list[DemoCall], syncs: dict[str, dict[str, Any]], found: FollowUps
) -> None:
    """Check the matrix's work: deals with their UTM source, tasks all assigned, the TOP manager."""
    of_call = {found.call_ids.get(c.call_id): c for c in day}
    deals = [(of_call.get(i), d) for i, listed in found.deals.items() for d in listed]
    tracked = [(c.utm, d) for c, d in deals if c is not None and c.utm]
    ok = bool(deals) and all((d.get("utm") or {}).get("source") == u["source"] for u, d in tracked)
    report.add("deals for new callers (with the call's UTM)", f"{len(deals)} ({len(tracked)})", ok)
    tasks = [t for listed in found.tasks.values() for t in listed]
    unassigned = sum(not t.get("assignee") for t in tasks)
    ok = bool(tasks) and unassigned == 0
    report.add("call-back and mapping tasks (unassigned)", f"{len(tasks)} ({unassigned})", ok)
    unknown_agent = [
        c
        for c in day
        if c.agent_email == UNKNOWN_AGENT[1] and syncs.get(c.call_id, {}).get("status") == "done"
    ]
    mapped = sum(_has_top_task(found, c) for c in unknown_agent)
    ok = bool(unknown_agent) and mapped == len(unknown_agent)
    report.add("unknown employee: a task for the TOP manager", f"{mapped}/{len(unknown_agent)}", ok)
    new_missed = [c for c in day if c.party == "unknown" and c.scenario == "incoming missed"]
    called_back = sum(_has_top_task(found, c) for c in new_missed)
    ok = bool(new_missed) and called_back == len(new_missed)
    report.add(
        "new caller missed: call-back task for the TOP manager",
        f"{called_back}/{len(new_missed)}",
        ok,
    )
    notes = sum(len(listed) for listed in found.notes.values())
    report.add("notes: who answered, when not the responsible manager", notes)


def _has_top_task(found: FollowUps, call: DemoCall) -> bool:
    """Tell whether the matrix gave the TOP manager a task for ``call``."""
    tasks = found.tasks.get(found.call_ids.get(call.call_id, ""), [])
    return found.top_manager_id is not None and any(
        t.get("assignee") == found.top_manager_id for t in tasks
    )
