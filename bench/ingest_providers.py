"""Signed webhook ingest rate per telephony provider, and what parsing costs in-process.

Run alone with ``python -m bench.ingest_providers``. For each database (SQLite, then PostgreSQL):
the raw single-row commit rate (``bench.ingest.raw_commit_rate``, the better of 1 and CLIENTS
writers), then one ``callbridge serve`` (embedded worker off, ``CALLBRIDGE_PUBLIC_URL`` set to
its own address, which Twilio signs) with one source per provider, each sent ROUNDS rounds
(interleaved across providers, so a burst of load on the shared machine hits them all) of
DELIVERIES pre-signed realistic deliveries (``bench.provider_deliveries``) by CLIENTS concurrent
connections of ``bench.load``. Separately, without a server, ``adapter.verify`` +
``adapter.parse`` are timed on the same deliveries: the CPU a delivery's parsing costs, to
compare with the server's CPU per delivery.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bench.harness import (
    Process,
    child,
    environment,
    free_port,
    markdown_table,
    new_company,
    percentile,
    postgres_database,
    scratch_dir,
    settings_for,
)
from bench.ingest import post_all, raw_commit_rate
from bench.provider_deliveries import BUILDERS, SECRETS, Delivery
from callbridge.runtime import Runtime
from callbridge.settings import Settings
from callbridge.storage import accounts, sql
from callbridge.telephony import PROVIDERS

DELIVERIES = 800
ROUNDS = 3
WARM_UP = 30
CLIENTS = 16
RAW_COMMITS = 1000
PARSE_ROUNDS = 3


@dataclass(frozen=True)
class ProviderFigures:
    """What one provider measured on one database."""

    database: str
    provider: str
    raw: float
    ingest: float
    accepted: int
    refused: int
    p50_ms: float
    p95_ms: float
    server_cpu_ms: float
    parse_ms: float


def parse_cost_ms(provider: str, secret: str, url: str, deliveries: list[Delivery]) -> float:
    """Return the CPU ms of ``verify`` + ``parse`` per delivery, in-process, best of rounds."""
    adapter = PROVIDERS[provider]
    best = float("inf")
    for _ in range(PARSE_ROUNDS):
        started = time.process_time()
        for body, headers in deliveries:
            now = datetime.now(UTC)
            adapter.verify(headers, body, [secret], now, url)
            parsed = adapter.parse(body, now)
            assert parsed.events, parsed.ignored
        best = min(best, time.process_time() - started)
    return best * 1000 / len(deliveries)


async def _sources(settings: Settings) -> dict[str, tuple[str, str]]:
    """Create a company and one source per vendor; return provider → (source id, secret)."""
    company = await new_company(settings)
    sources = {"generic": (company.source_id, company.source_secret)}
    runtime = Runtime.create(settings)
    try:
        async with runtime.sessions.begin() as session:
            for provider, secret in SECRETS.items():
                sealed = runtime.box.seal([secret])
                source_id = await sql.run(
                    session,
                    accounts.create_source,
                    company.company_id,
                    provider,
                    provider,
                    sealed,
                    runtime.clock(),
                )
                sources[provider] = (source_id, secret)
    finally:
        await runtime.close()
    return sources


@dataclass
class _Rounds:
    """One provider's rounds so far on one server."""

    rates: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    refused: int = 0
    cpu_seconds: float = 0.0


async def _round(server: Process, path: str, deliveries: list[Delivery], into: _Rounds) -> None:
    """POST one round's deliveries (after a warm-up) and add what it measured ``into``."""
    await post_all(server.url, path, deliveries[:WARM_UP], CLIENTS)
    cpu_before = server.cpu_seconds()
    rate, latencies, refused = await post_all(server.url, path, deliveries[WARM_UP:], CLIENTS)
    into.cpu_seconds += server.cpu_seconds() - cpu_before
    into.rates.append(rate)
    into.latencies += latencies
    into.refused += refused


async def measure(database: str, database_url: str | None, name: str) -> list[ProviderFigures]:
    """Measure the raw commit rate, then each provider's ingest through one server, interleaved."""
    with scratch_dir(name) as data_dir:
        settings = settings_for(data_dir, database_url)
        url = settings.resolved_database_url()
        raw_url = url if database_url else f"sqlite+aiosqlite:///{data_dir / 'raw.db'}"
        raw = max(
            await raw_commit_rate(raw_url, 1, RAW_COMMITS),
            await raw_commit_rate(raw_url, CLIENTS, RAW_COMMITS),
        )
        sources = await _sources(settings)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        paths = {p: f"/webhooks/{p}/{source_id}" for p, (source_id, _) in sources.items()}
        made = {p: BUILDERS[p](secret, base + paths[p]) for p, (_, secret) in sources.items()}
        per_round = WARM_UP + DELIVERIES
        rounds = {p: list(itertools.islice(made[p], per_round * ROUNDS)) for p in sources}
        parse_ms = {
            p: parse_cost_ms(p, secret, base + paths[p], rounds[p][:DELIVERIES])
            for p, (_, secret) in sources.items()
        }
        measured = {p: _Rounds() for p in sources}
        env = environment(data_dir, database_url, embedded_worker="false", public_url=base)
        args = ["serve", "--host", "127.0.0.1", "--port", str(port)]
        with child(args, env, data_dir / "server.log", base) as server:
            for number in range(ROUNDS):
                for p in sources:
                    these = rounds[p][number * per_round : (number + 1) * per_round]
                    await _round(server, paths[p], these, measured[p])
    return [_figures(database, p, raw, measured[p], parse_ms[p]) for p in sources]


def _figures(
    database: str, provider: str, raw: float, rounds: _Rounds, parse_ms: float
) -> ProviderFigures:
    """Summarise a provider's rounds: its best round's rate, latencies and CPU over all."""
    count = len(rounds.latencies)
    return ProviderFigures(
        database=database,
        provider=provider,
        raw=raw,
        ingest=max(rounds.rates),
        accepted=count - rounds.refused,
        refused=rounds.refused,
        p50_ms=percentile(rounds.latencies, 0.5) * 1000,
        p95_ms=percentile(rounds.latencies, 0.95) * 1000,
        server_cpu_ms=rounds.cpu_seconds * 1000 / max(1, count),
        parse_ms=parse_ms,
    )


async def run() -> str:
    """Run the benchmark on SQLite and PostgreSQL and return its Markdown section."""
    load_before = os.getloadavg()[0]
    figures = await measure("SQLite", None, "ingest_providers_sqlite")
    with postgres_database("ingest_providers") as pg_url:
        figures += await measure("PostgreSQL", pg_url, "ingest_providers_pg")
    return section(figures, (load_before, os.getloadavg()[0]))


def section(figures: list[ProviderFigures], load: tuple[float, float]) -> str:
    """Format the figures as a Markdown section."""
    headers = [
        "database",
        "provider",
        "raw commits/s (best)",
        "ingest deliveries/s",
        "ratio",
        "POST p50 / p95 ms",
        "server CPU ms/delivery",
        "verify+parse CPU ms/delivery (in-process)",
        "parse share of server CPU",
    ]
    rows = [
        [
            f.database,
            f.provider,
            f"{f.raw:.0f}",
            f"{f.ingest:.0f} ({f.accepted} ok, {f.refused} refused)",
            f"{f.ingest / f.raw:.2f}",
            f"{f.p50_ms:.1f} / {f.p95_ms:.1f}",
            f"{f.server_cpu_ms:.2f}",
            f"{f.parse_ms:.3f}",
            f"{f.parse_ms / f.server_cpu_ms:.0%}" if f.server_cpu_ms else "—",
        ]
        for f in figures
    ]
    intro = (
        f"Per provider, {ROUNDS} rounds (interleaved across providers) of {DELIVERIES} "
        f"pre-signed realistic deliveries (`bench/provider_deliveries.py`: fresh call ids, 3 "
        f"events per call, one journal per call for 3CX), each round after {WARM_UP} for warm-up; "
        f"deliveries/s is the best round, latencies and CPU are over all rounds; {CLIENTS} "
        "concurrent keep-alive connections of `bench/load.py` over loopback to one "
        "`callbridge serve` (embedded worker off, CALLBRIDGE_PUBLIC_URL set for Twilio's "
        "signature); ratio = ingest rate / the better raw single-row commit rate "
        f"({RAW_COMMITS} commits, 1 or {CLIENTS} writers). verify+parse: the adapter's "
        f"`verify` + `parse` on the same deliveries in-process, no server "
        f"(best of {PARSE_ROUNDS}). "
        f"1-minute load average {load[0]:.1f} before, {load[1]:.1f} after (shared 2-core machine)."
    )
    return f"### Ingest per provider\n\n{intro}\n\n" + markdown_table(headers, rows)


if __name__ == "__main__":
    print(asyncio.run(run()))
