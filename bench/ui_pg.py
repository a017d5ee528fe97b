"""The call history's first, filtered and deep pages at 100k calls on PostgreSQL.

Run alone with ``python -m bench.ui_pg``: the same calls as ``bench.ui`` (its seed rows, two
agents, one failed sync in fifty), copied into a fresh PostgreSQL database with COPY and
analysed (as autovacuum would), then the same requests as ``bench.ui`` and ``bench.ui_filters``
through a real ``callbridge serve``.
"""

from __future__ import annotations

import time

import httpx
import psycopg

from bench import ui
from bench.harness import (
    environment,
    markdown_table,
    new_company,
    postgres_database,
    scratch_dir,
    serve,
    settings_for,
)
from bench.ui_filters import timed_filters

_CALL_COLUMNS = (
    "id, company_id, source_id, provider_call_id, state, direction, from_number, to_number,"
    " user_id, started_at, duration, tags, event_count, created_at, updated_at"
)
_SYNC_COLUMNS = (
    "company_id, call_id, integration_id, external_number, matched, status, attempts, updated_at"
)


def seed(url: str, company: str, source: str, integration: str) -> float:
    """Copy CALLS calls and their syncs into the database, analyse it; return the seconds."""
    started = time.perf_counter()
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as db:
        db.execute("SET TIME ZONE 'UTC'")
        db.execute(
            "INSERT INTO users (id, company_id, name, role) VALUES (%s, %s, %s, 'agent'),"
            " (%s, %s, %s, 'agent')",
            [part for agent in ui.AGENTS for part in (agent, company, agent)],
        )
        with db.cursor() as cursor:
            with cursor.copy(f"COPY calls ({_CALL_COLUMNS}) FROM STDIN") as copy:
                for row in ui._calls(company, source):
                    copy.write_row(row)
            with cursor.copy(f"COPY call_syncs ({_SYNC_COLUMNS}) FROM STDIN") as copy:
                for row in ui._syncs(company, integration):
                    copy.write_row(row)
        db.commit()
        db.execute("ANALYZE")
    return time.perf_counter() - started


async def run() -> str:
    """Seed 100k calls on PostgreSQL, time the history's pages; return the section."""
    with scratch_dir("ui_pg") as data_dir, postgres_database("ui") as url:
        settings = settings_for(data_dir, url)
        company = await new_company(settings)
        seconds = seed(url, company.company_id, company.source_id, company.integration_id)
        load_before = ui._load()
        with (
            serve(environment(data_dir, url), data_dir / "serve.log") as server,
            httpx.Client(base_url=server.url, timeout=30) as client,
        ):
            key = company.api_key
            api = ui.timed(client, "/calls", authorization=f"Bearer {key}")
            ui.sign_in(client, key)
            page = ui.timed(client, "/ui/calls")
            filtered = timed_filters(client, ui.timed, key, company.integration_id)
        load_after = ui._load()
    rows = [
        ("`GET /calls` (API key)", *ui._figures(api), "—"),
        ("`/ui/calls` (signed in)", *ui._figures(page), ui._target(page, ui.TARGET_PAGE_MS)),
        *[
            (label, *ui._figures(times), ui._target(times, ui.TARGET_PAGE_MS) if is_ui else "—")
            for label, is_ui, times in filtered
        ],
    ]
    headers = ["measure", "median ms", "p95 ms", "max ms", "p95 target"]
    return (
        f"### Call history at {ui.CALLS:,} calls (PostgreSQL)\n\n"
        f"{ui.CALLS:,} calls and their syncs copied in {seconds:.1f} s, then analysed; "
        f"{ui.REQUESTS} requests of each after {ui.WARM_UP} warm-up ones. Load average before: "
        f"{load_before}; after: {load_after}.\n\n{markdown_table(headers, rows)}"
    )


if __name__ == "__main__":
    import asyncio

    print(asyncio.run(run()))
