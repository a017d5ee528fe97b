"""HubSpot's own tables: the shared rate limit buckets, the phone lookup cache, written objects."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Float, ForeignKey, String, Table, false

from callbridge.storage.metadata import metadata
from callbridge.storage.types import UTCDateTime

UTC_TIME = UTCDateTime()

hubspot_rate_buckets = Table(
    "hubspot_rate_buckets",
    metadata,
    Column("integration_id", String(36), ForeignKey("integrations.id"), primary_key=True),
    Column("bucket", String(20), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated_at", UTC_TIME, nullable=False),
)

hubspot_phone_cache = Table(
    "hubspot_phone_cache",
    metadata,
    Column("integration_id", String(36), ForeignKey("integrations.id"), primary_key=True),
    Column("phone_e164", String(20), primary_key=True),
    Column("records", JSON, nullable=False),
    Column("cached_at", UTC_TIME, nullable=False),
)

# One row per object Callbridge writes (call engagement, deal, task, note), keyed by its external
# id: written "pending" before the create and with the HubSpot id after it, so a retry returns
# the object already made and an interrupted create is looked up, not repeated: read by its
# unique ``callbridge_key`` when the create carried it (``keyed``), else searched for once the
# search index has settled.
hubspot_objects = Table(
    "hubspot_objects",
    metadata,
    Column("integration_id", String(36), ForeignKey("integrations.id"), primary_key=True),
    Column("kind", String(10), primary_key=True),
    Column("external_id", String(200), primary_key=True),
    Column("record_id", String(60), primary_key=True),
    Column("object_id", String(40), nullable=True),
    Column("created_at", UTC_TIME, nullable=False),
    Column("keyed", Boolean, nullable=False, server_default=false()),
)
