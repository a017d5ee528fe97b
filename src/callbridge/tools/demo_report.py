"""What ``callbridge demo`` checks after the day: what it saw, what the CRM shows, the verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from callbridge.tools.demo_day import UNKNOWN_AGENT, DemoCall


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
