"""What each process counts (webhooks, jobs), and the registry that adds up a host's processes.

The API counts webhooks and serves ``/metrics`` (:mod:`callbridge.api.metrics`, which adds
what it reads in the database at scrape time); workers count jobs
(:mod:`callbridge.service.worker`). Both import the counters from here, so the worker never
imports the API.
"""

from __future__ import annotations

import os

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, multiprocess

WEBHOOKS = Counter("callbridge_webhooks_total", "Webhook deliveries", ["provider", "outcome"])
JOBS = Counter("callbridge_jobs_total", "Jobs run", ["task", "outcome"])
JOB_SECONDS = Histogram("callbridge_job_seconds", "Job run time", ["task"])


def process_registry() -> CollectorRegistry:
    """Return what this host's processes counted: all of them in multiprocess mode."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return registry
