"""Prometheus metrics: what every process counted, and the job queue's state read at scrape time.

Counters and histograms live in the process that counts (the API counts webhooks, workers count
jobs). With several processes on one host, set ``PROMETHEUS_MULTIPROC_DIR`` for all of them: each
writes its figures to that directory and ``/metrics`` adds them up. Workers on other hosts serve
their own figures with ``callbridge worker --metrics-port``. Jobs waiting for a retry and dead
letters are rows in the database, so they are counted there when scraped, never by a process
that may have died since (docs/operations.md, "Metrics").
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

from fastapi import APIRouter, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from callbridge.api.deps import RuntimeDep
from callbridge.queue.base import JobCounts

log = logging.getLogger("callbridge.metrics")

WEBHOOKS = Counter("callbridge_webhooks_total", "Webhook deliveries", ["provider", "outcome"])
JOBS = Counter("callbridge_jobs_total", "Jobs run", ["task", "outcome"])
JOB_SECONDS = Histogram("callbridge_job_seconds", "Job run time", ["task"])
# The queue's rows by state, named as operators look for them.
_QUEUE_GAUGES = {
    "waiting": ("callbridge_jobs_waiting", "Jobs waiting for their first run"),
    "retry": ("callbridge_jobs_waiting_for_retry", "Jobs that failed and wait to run again"),
    "running": ("callbridge_jobs_running", "Jobs being run by a worker"),
    "dead": ("callbridge_dead_letters", "Jobs that failed for good (replay with the CLI)"),
}

router = APIRouter(tags=["health"])


def process_registry() -> CollectorRegistry:
    """Return what this host's processes counted: all of them in multiprocess mode."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return registry


class QueueState(Collector):
    """The queue's jobs by task and state, as counted in the database at scrape time."""

    def __init__(self, counts: JobCounts | None) -> None:
        self._counts = counts

    def collect(self) -> Iterator[Metric]:
        """Yield one gauge per state (every task of every state), and whether the count ran."""
        readable = GaugeMetricFamily(
            "callbridge_queue_readable", "1 when the queue's jobs could be counted, else 0"
        )
        readable.add_metric([], 0.0 if self._counts is None else 1.0)
        yield readable
        if self._counts is None:
            return
        for state, (name, documentation) in _QUEUE_GAUGES.items():
            gauge = GaugeMetricFamily(name, documentation, labels=["task"])
            for (task, counted_state), count in sorted(self._counts.items()):
                if counted_state == state:
                    gauge.add_metric([task], float(count))
            yield gauge


@router.get("/metrics", response_class=Response)
async def metrics(runtime: RuntimeDep) -> Response:
    """Expose the metrics in the Prometheus text format."""
    counts: JobCounts | None
    try:
        counts = await runtime.queue.job_counts()
    except Exception:  # the processes' figures are still worth serving
        log.warning("counting the queue's jobs for /metrics failed", exc_info=True)
        counts = None
    queue = CollectorRegistry(auto_describe=False)
    queue.register(QueueState(counts))
    body = generate_latest(process_registry()) + generate_latest(queue)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
