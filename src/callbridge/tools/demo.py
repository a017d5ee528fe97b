"""``callbridge demo``: send a realistic day of signed calls to a running server, then check it."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from itertools import zip_longest
from typing import Any
from urllib.parse import quote

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Column, Table

from callbridge.errors import DemoError
from callbridge.testing.webhooks import signed
from callbridge.tools.demo_day import (
    EMPLOYEES,
    SEED_RECORDS,
    TOP_MANAGER,
    Delivery,
    DemoCall,
    plan_day,
)
from callbridge.tools.demo_day import unknown_numbers as candidate_numbers
from callbridge.tools.demo_report import CrmState, FollowUps, Report, Tally, judge

MIN_CALLS = 8
_SETTLED = frozenset({"done", "no_match", "skipped"})


async def run_demo(
    url: str,
    api_key: str,
    source_id: str,
    secret: str,
    calls: int,
    console: Console,
    *,
    wait_seconds: float = 120.0,
    seed: int | None = None,
) -> int:
    """Send a day of signed calls to the server at ``url``, wait for the syncs, print a summary."""
    rng = random.Random(seed)
    run_id = f"demo-{datetime.now(UTC):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"
    auth = {"authorization": f"Bearer {api_key}"}
    async with (
        httpx.AsyncClient(base_url=url, headers=auth, timeout=30) as api,
        httpx.AsyncClient(base_url=url, timeout=30) as hooks,
    ):
        try:
            integration = await _local_integration(api)
            records = f"/integrations/{integration['id']}/records"
            await _seed(api, records)
            unknown = await _fresh_numbers(api, records, rng, max(3, calls // 3))
            day = plan_day(run_id, max(calls, MIN_CALLS), unknown, rng)
            before = int((await _api(api, records, limit=1))["total"])
            tally = await _send_day(hooks, f"/webhooks/generic/{source_id}", secret, day, console)
            if tally.rejected and len(tally.rejected) == tally.deliveries:
                raise DemoError(f"the server refused every delivery, e.g. {tally.rejected[0]}")
            details = await _wait_synced(api, run_id, day, console, wait_seconds)
            crm = await _crm_state(api, records, day, before, await _call_ids(api, run_id))
        except (httpx.HTTPError, DemoError) as err:
            console.print(f"[red]demo stopped ({url}): {err}[/]")
            return 1
    syncs = {pid: _local_sync(detail, integration["id"]) for pid, detail in details.items()}
    report = judge(day, tally, syncs, crm, integration["creation_policy"] == "all")
    _print_summary(console, report)
    return 0 if report.consistent else 1


async def _api(api: httpx.AsyncClient, path: str, body: Any = None, **params: Any) -> Any:
    """GET, or POST ``body``, and return the JSON answer; raise DemoError saying what failed."""
    answer = await (
        api.get(path, params=params or None) if body is None else api.post(path, json=body)
    )
    if answer.status_code >= 400:
        method = "GET" if body is None else "POST"
        raise DemoError(f"{method} {path} answered {answer.status_code}: {answer.text[:300]}")
    return answer.json()


async def _local_integration(api: httpx.AsyncClient) -> dict[str, Any]:
    """Return the company's first local CRM integration."""
    for integration in await _api(api, "/integrations"):
        if integration["connector"] == "local":
            return dict(integration)
    raise DemoError("the company has no local CRM integration (company create adds one)")


async def _seed(api: httpx.AsyncClient, records: str) -> None:
    """Create the employees, the TOP manager and the known contacts, unless an earlier run did.

    Each known contact is owned by an employee (its responsible manager); the local CRM's users
    are the company's, so every employee is mapped to a CRM user by e-mail.
    """
    ids = {user["email"]: user["id"] for user in await _api(api, "/users")}
    people = [(name, email, "agent") for name, email in EMPLOYEES]
    for name, email, role in [*people, (*TOP_MANAGER, "top_manager")]:
        if email not in ids:
            user = {"name": name, "email": email, "role": role}
            ids[email] = (await _api(api, "/users", user))["id"]
    for seed in SEED_RECORDS:
        found = (await _api(api, f"{records}/search", phone=seed.phone))["records"]
        if not any(r["name"] == seed.name and r["object_type"] == seed.object_type for r in found):
            body: dict[str, Any] = {
                "object_type": seed.object_type,
                "name": seed.name,
                "phones": [seed.phone],
                "owner": ids[seed.owner_email],
            }
            await _api(api, records, body)


async def _fresh_numbers(
    api: httpx.AsyncClient, records: str, rng: random.Random, count: int
) -> list[str]:
    """Return numbers no record of the CRM carries yet (earlier runs created some)."""
    fresh: list[str] = []
    for number in candidate_numbers(rng, count * 3):
        if not (await _api(api, f"{records}/search", phone=number))["records"]:
            fresh.append(number)
        if len(fresh) == count:
            return fresh
    raise DemoError("could not find unused demo numbers: use a fresh database")


async def _send_day(
    hooks: httpx.AsyncClient, path: str, secret: str, day: list[DemoCall], console: Console
) -> Tally:
    """Send every call's events, then the late ones, with a progress bar."""
    tally = Tally()
    units: dict[str, list[DemoCall]] = {}
    for call in day:
        units.setdefault(call.group or call.call_id, []).append(call)
    total = sum(len(c.deliveries) + len(c.late) for c in day)
    total += sum(d.retry for c in day for d in c.deliveries + c.late)
    with _progress(console) as progress:
        task = progress.add_task("Sending the day's calls", total=total)

        async def deliver(delivery: Delivery) -> None:
            await _deliver(hooks, path, secret, delivery, tally, lambda: progress.advance(task))

        slots = asyncio.Semaphore(8)
        for late in (False, True):
            await asyncio.gather(*(_send_unit(u, late, deliver, slots) for u in units.values()))
            progress.update(task, description="Sending late recordings and notes")
    return tally


async def _send_unit(
    unit: list[DemoCall],
    late: bool,
    deliver: Callable[[Delivery], Awaitable[None]],
    slots: asyncio.Semaphore,
) -> None:
    """Send the events of one call, or of calls ringing together in lockstep (concurrently)."""
    async with slots:
        lists = [call.late if late else call.deliveries for call in unit]
        for step in zip_longest(*lists):
            await asyncio.gather(*(deliver(d) for d in step if d is not None))


async def _deliver(
    hooks: httpx.AsyncClient,
    path: str,
    secret: str,
    delivery: Delivery,
    tally: Tally,
    advance: Callable[[], None],
) -> None:
    """POST one signed delivery; a retry resends the very same id, headers and body."""
    body, headers = signed(secret, delivery.event)
    for attempt in range(2 if delivery.retry else 1):
        answer = await hooks.post(path, content=body, headers=headers)
        advance()
        tally.deliveries += 1
        if answer.status_code != 200:
            tally.rejected.append(f"{answer.status_code} {answer.text[:200]}")
            continue
        if attempt == 1:
            tally.retries += 1
            tally.retry_duplicates += bool(answer.json()["duplicate"])


def _progress(console: Console) -> Progress:
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    return Progress(*columns, console=console)


async def _wait_synced(
    api: httpx.AsyncClient, run_id: str, day: list[DemoCall], console: Console, seconds: float
) -> dict[str, dict[str, Any]]:
    """Poll the call history until every call is synced after its last event, or time out."""
    expected = {call.call_id: call.event_count for call in day}
    settled: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + seconds
    with _progress(console) as progress:
        task = progress.add_task("Waiting for the CRM syncs", total=len(day))
        while True:
            for provider_id, detail in (await _details(api, run_id, set(settled))).items():
                if _is_settled(detail, expected[provider_id]):
                    settled[provider_id] = detail
            progress.update(task, completed=len(settled))
            idle = (await _api(api, "/readyz")).get("pending_jobs") == 0
            if len(settled) == len(day) and idle:
                return settled
            if time.monotonic() > deadline:
                late = f"{len(day) - len(settled)} of {len(day)} calls are not synced yet"
                console.print(
                    f"[red]Timed out after {seconds:.0f} s: {late}. Is a worker "
                    "running? See GET /jobs/dead and the server's log.[/]"
                )
                return settled
            await asyncio.sleep(0.5)


async def _call_ids(api: httpx.AsyncClient, run_id: str) -> dict[str, str]:
    """Return Callbridge's id of each call of this run, by provider call id."""
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    ids: dict[str, str] = {}
    offset = 0
    while True:
        page = (await _api(api, "/calls", since=since, limit=500, offset=offset))["calls"]
        ids |= {c["provider_call_id"]: c["id"] for c in page}
        if len(page) < 500:
            return {k: v for k, v in ids.items() if k.startswith(run_id)}
        offset += 500


async def _get_many(api: httpx.AsyncClient, paths: list[str]) -> list[Any]:
    """GET many paths, a few at a time rather than hundreds at once."""
    answers: list[Any] = []
    for start in range(0, len(paths), 20):
        answers += await asyncio.gather(*(_api(api, p) for p in paths[start : start + 20]))
    return answers


async def _details(api: httpx.AsyncClient, run_id: str, skip: set[str]) -> dict[str, Any]:
    """Return the detail of this run's calls, by provider call id, except those in ``skip``."""
    ids = await _call_ids(api, run_id)
    found = await _get_many(api, [f"/calls/{i}" for pid, i in ids.items() if pid not in skip])
    return {detail["provider_call_id"]: detail for detail in found}


def _local_sync(detail: dict[str, Any], integration_id: str) -> dict[str, Any]:
    """Return the call's sync to the local CRM integration."""
    for sync in detail["syncs"]:
        if sync["integration_id"] == integration_id:
            return dict(sync)
    return {"status": "missing", "call_id": detail["id"], "matched": []}


def _is_settled(detail: dict[str, Any], events: int) -> bool:
    """Tell whether every event was folded and every sync ran after the last fold."""
    if detail["event_count"] < events or detail["state"] not in ("ended", "missed", "voicemail"):
        return False
    syncs = detail["syncs"]
    return bool(syncs) and all(
        s["status"] in _SETTLED and s["updated_at"] >= detail["updated_at"] for s in syncs
    )


async def _crm_state(
    api: httpx.AsyncClient, records: str, day: list[DemoCall], before: int, ids: dict[str, str]
) -> CrmState:
    """Read every record with its activities, the records of the unknown callers, dead jobs."""
    record_ids: list[str] = []
    while True:
        page = await _api(api, records, limit=500, offset=len(record_ids))
        record_ids += [record["id"] for record in page["records"]]
        if len(page["records"]) < 500:
            break
    shown = await _get_many(api, [f"{records}/{i}" for i in record_ids])
    unknown = sorted({c.number for c in day if c.party == "unknown" and c.number})
    found = await _get_many(api, [f"{records}/search?phone={quote(n)}" for n in unknown])
    ours = set(ids) | set(ids.values())
    jobs = await _api(api, "/jobs/dead")
    dead = [j for j in jobs if {j["payload"].get("call"), j["payload"].get("call_id")} & ours]
    return CrmState(
        records_added=int(page["total"]) - before,
        activities=[activity for record in shown for activity in record["activities"]],
        records_by_number={n: len(f["records"]) for n, f in zip(unknown, found, strict=True)},
        dead_jobs=len(dead),
        followups=await _followups(api, records.rsplit("/", 1)[0], ids),
    )


async def _followups(api: httpx.AsyncClient, integration: str, ids: dict[str, str]) -> FollowUps:
    """Read the deals, tasks and notes the matrix wrote for this run's calls."""
    mine = set(ids.values())

    async def by_call(kind: str) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = {}
        for row in await _api(api, f"{integration}/{kind}"):
            parts = str(row.get("external_id") or "").split(":")
            if len(parts) > 2 and parts[0] == "callbridge" and parts[1] in mine:
                grouped.setdefault(parts[1], []).append(row)
        return grouped

    users = await _api(api, "/users")
    top = next((u["id"] for u in users if u["email"] == TOP_MANAGER[1]), None)
    return FollowUps(
        deals=await by_call("deals"),
        tasks=await by_call("tasks"),
        notes=await by_call("notes"),
        top_manager_id=top,
        call_ids=ids,
    )


def _print_summary(console: Console, report: Report) -> None:
    """Print the summary table."""
    columns = (Column("figure", justify="right"), Column("check", justify="center"))
    table = Table("", *columns, title="Callbridge demo: the day in the CRM")
    for label, figure, ok in report.rows:
        mark = "" if ok is None else "[green]ok[/]" if ok else "[red]FAILED[/]"
        table.add_row(label, figure, mark)
    console.print(table)
    verdict = "[green]consistent[/]" if report.consistent else "[red]NOT consistent[/]"
    console.print(f"Result: {verdict}")
