"""Ingest: verify, parse and durably store a telephony delivery with its fold jobs, then answer.

The stage's one entry is :func:`ingest`; what it answers is an :class:`IngestResult`.
"""

from callbridge.ingest.deliveries import IngestResult, ingest

__all__ = ["IngestResult", "ingest"]
