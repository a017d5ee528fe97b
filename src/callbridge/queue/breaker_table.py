"""The ``circuit_breakers`` table: one row per integration whose CRM has failed lately.

Shared by every worker process (it is in the database), scoped by company and integration.
``state`` is ``closed`` (syncs run), ``open`` (syncs wait until ``retry_at``) or ``half_open``
(one sync, the probe, runs until ``probe_until``; the others wait for its outcome).
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, String, Table, Text

from callbridge.storage.metadata import metadata
from callbridge.storage.types import UTCDateTime

STATES = ("closed", "open", "half_open")

circuit_breakers = Table(
    "circuit_breakers",
    metadata,
    Column("company_id", String(36), ForeignKey("companies.id"), nullable=False),
    Column("integration_id", String(36), ForeignKey("integrations.id"), primary_key=True),
    Column("state", String(10), nullable=False),
    # Transient failures in a row (a success resets it); the threshold opens the breaker.
    Column("failures", Integer, nullable=False, server_default="0"),
    # Times it opened in this outage: the wait before the next probe doubles with each.
    Column("opens", Integer, nullable=False, server_default="0"),
    # The first failure of the streak: "CRM unreachable since".
    Column("since", UTCDateTime, nullable=True),
    Column("retry_at", UTCDateTime, nullable=True),
    Column("probe_until", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint(
        "state IN ({})".format(", ".join(f"'{state}'" for state in STATES)), name="state"
    ),
)
