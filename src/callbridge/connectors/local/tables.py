"""Tables of the local CRM: records, phones indexed by E.164, activities, deals, tasks, notes."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from callbridge.storage.metadata import metadata
from callbridge.storage.types import UTCDateTime

UTC_TIME = UTCDateTime()


def _scope() -> list[Column[str]]:
    return [
        Column("company_id", String(36), ForeignKey("companies.id"), nullable=False),
        Column("integration_id", String(36), ForeignKey("integrations.id"), nullable=False),
    ]


crm_records = Table(
    "crm_records",
    metadata,
    Column("id", String(36), primary_key=True),
    *_scope(),
    Column("object_type", String(20), nullable=False),
    Column("name", String(300), nullable=False),
    Column("email", String(320), nullable=True),
    Column("owner", String(200), nullable=True),
    Column("created_at", UTC_TIME, nullable=False),
    Column("updated_at", UTC_TIME, nullable=False),
    Index("ix_crm_records_scope", "integration_id", "object_type"),
)

crm_record_phones = Table(
    "crm_record_phones",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "record_id", String(36), ForeignKey("crm_records.id", ondelete="CASCADE"), nullable=False
    ),
    Column("integration_id", String(36), ForeignKey("integrations.id"), nullable=False),
    Column("raw", String(100), nullable=False),
    Column("e164", String(20), nullable=True),
    # The second reading of bare digits that are also an international number without its "+"
    # (``33612345607`` with region DE: ``e164`` +4933612345607, this +33612345607).
    Column("ambiguous_e164", String(20), nullable=True),
    Index("ix_crm_record_phones_lookup", "integration_id", "e164"),
    Index("ix_crm_record_phones_ambiguous", "integration_id", "ambiguous_e164"),
    Index("ix_crm_record_phones_record", "record_id"),
)

crm_activities = Table(
    "crm_activities",
    metadata,
    Column("id", String(36), primary_key=True),
    *_scope(),
    Column(
        "record_id", String(36), ForeignKey("crm_records.id", ondelete="CASCADE"), nullable=False
    ),
    Column("external_id", String(200), nullable=False),
    Column("deal_id", String(36), ForeignKey("crm_deals.id", ondelete="SET NULL"), nullable=True),
    Column("direction", String(10), nullable=False),
    Column("status", String(20), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("started_at", UTC_TIME, nullable=True),
    Column("duration", Integer, nullable=True),
    Column("agent", String(320), nullable=True),
    Column("recording_url", Text, nullable=True),
    Column("notes", Text, nullable=True),
    Column("tags", JSON, nullable=False, default=list),
    Column("disposition", String(200), nullable=True),
    Column("created_at", UTC_TIME, nullable=False),
    Column("updated_at", UTC_TIME, nullable=False),
    UniqueConstraint("integration_id", "record_id", "external_id"),
    Index("ix_crm_activities_external", "integration_id", "external_id"),
)

crm_deals = Table(
    "crm_deals",
    metadata,
    Column("id", String(36), primary_key=True),
    *_scope(),
    Column("record_id", String(36), ForeignKey("crm_records.id", ondelete="CASCADE")),
    Column("name", Text, nullable=False),
    Column("stage", String(100), nullable=False),
    Column("owner", String(200), nullable=True),
    Column("utm", JSON, nullable=True),
    Column("external_id", String(200), nullable=True),
    Column("created_at", UTC_TIME, nullable=False),
    Column("updated_at", UTC_TIME, nullable=False),
)

crm_tasks = Table(
    "crm_tasks",
    metadata,
    Column("id", String(36), primary_key=True),
    *_scope(),
    Column("record_id", String(36), ForeignKey("crm_records.id", ondelete="CASCADE")),
    Column("deal_id", String(36), ForeignKey("crm_deals.id", ondelete="CASCADE"), nullable=True),
    Column("title", Text, nullable=False),
    Column("assignee", String(200), nullable=True),
    Column("due_at", UTC_TIME, nullable=True),
    Column("external_id", String(200), nullable=True),
    Column("created_at", UTC_TIME, nullable=False),
)

crm_notes = Table(
    "crm_notes",
    metadata,
    Column("id", String(36), primary_key=True),
    *_scope(),
    Column("record_id", String(36), ForeignKey("crm_records.id", ondelete="CASCADE")),
    Column("deal_id", String(36), ForeignKey("crm_deals.id", ondelete="CASCADE"), nullable=True),
    Column("body", Text, nullable=False),
    Column("external_id", String(200), nullable=True),
    Column("created_at", UTC_TIME, nullable=False),
)
