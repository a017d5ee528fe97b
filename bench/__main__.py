"""Run the benchmarks and append their results to ``bench/RESULTS.md``.

``python -m bench`` runs them all; ``python -m bench lookup ingest`` runs the ones named.
Each one also runs alone (``python -m bench.ingest``) and then only prints its section.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from bench import (
    bottlecrm,
    hubspot,
    hubspot_backlog,
    ingest,
    ingest_providers,
    latency,
    limiter,
    lookup,
    selection,
    throughput,
    ui,
)
from bench.harness import git_commit, machine, today

BENCHMARKS: dict[str, Callable[[], Coroutine[Any, Any, str]]] = {
    "ingest": ingest.run,
    "ingest-providers": ingest_providers.run,
    "latency": latency.run,
    "lookup": lookup.run,
    "bottlecrm": bottlecrm.run,
    "hubspot": hubspot.run,
    "hubspot-backlog": hubspot_backlog.run,
    "limiter": limiter.run,
    "selection": selection.run,
    "throughput": throughput.run,
    "ui": ui.run,
}
RESULTS = Path(__file__).with_name("RESULTS.md")
_HEADER = """# Benchmark results

Recorded by `python -m bench` (`make bench`); each run appends a section below. Figures depend on
the machine and on what else runs on it: compare runs on one machine, not across machines.
"""


def main(names: list[str]) -> int:
    """Run the named benchmarks (all when none) and append one dated section to RESULTS.md."""
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    sections = []
    for name in names or list(BENCHMARKS):
        started = time.perf_counter()
        print(f"running {name} …", flush=True)
        sections.append(asyncio.run(BENCHMARKS[name]()))
        print(sections[-1], f"\n({name} took {time.perf_counter() - started:.0f} s)\n", flush=True)
    heading = f"## {today()} — commit {git_commit()}\n\nMachine: {machine()}.\n"
    existing = RESULTS.read_text() if RESULTS.exists() else _HEADER
    RESULTS.write_text(
        existing.rstrip("\n") + "\n\n" + heading + "\n" + "\n\n".join(sections) + "\n"
    )
    print(f"appended to {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
