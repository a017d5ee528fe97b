"""Ingest: verify, parse and durably store a telephony delivery with its fold jobs, then answer.

The stage's entry is :func:`ingest`; what it answers is an :class:`IngestResult`.
:func:`refuse_oversized` logs a delivery the API refused for its size before reading it all.
"""

from callbridge.ingest.deliveries import IngestResult, ingest, refuse_oversized

__all__ = ["IngestResult", "ingest", "refuse_oversized"]
