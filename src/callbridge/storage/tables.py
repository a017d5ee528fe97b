"""The tables of Callbridge itself: tenants, people, sources, integrations, calls and their sync."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from callbridge.storage.metadata import metadata
from callbridge.storage.types import UTCDateTime

UTC_TIME = UTCDateTime()


def _company(index: bool = True) -> Column[str]:
    """Return a table's ``company_id``; ``index=False`` where an index led by it names the row.

    SQLite's planner, without statistics, takes an index on the company alone for a query that
    names the company and the call: it then reads every row of the company. A table read that
    way on every call has an index starting with the company and going on to the row instead.
    """
    return Column("company_id", String(36), ForeignKey("companies.id"), nullable=False, index=index)


companies = Table(
    "companies",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("own_numbers", JSON, nullable=False, default=list),
    Column("created_at", UTC_TIME, nullable=False),
    # The screens' default language (en, fr, es) when the user picked none; None: the browser's.
    Column("language", String(5), nullable=True),
    # The zone the screens write the company's times in: an IANA name (migration 0019).
    Column("time_zone", String(64), nullable=False, server_default="UTC"),
)

teams = Table(
    "teams",
    metadata,
    Column("id", String(36), primary_key=True),
    _company(),
    Column("name", String(200), nullable=False),
    Column("permissions", JSON, nullable=False, default=list),
    UniqueConstraint("company_id", "name"),
)

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    _company(),
    Column("team_id", String(36), ForeignKey("teams.id"), nullable=True),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=True),
    Column("extension", String(20), nullable=True),
    Column("telephony_user_id", String(100), nullable=True),
    Column("role", String(20), nullable=False),
    UniqueConstraint("company_id", "email"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    _company(),
    Column("name", String(200), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTC_TIME, nullable=False),
    Column("revoked_at", UTC_TIME, nullable=True),
)

telephony_sources = Table(
    "telephony_sources",
    metadata,
    Column("id", String(36), primary_key=True),
    _company(),
    Column("provider", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    Column("secrets_encrypted", LargeBinary, nullable=False),
    Column("created_at", UTC_TIME, nullable=False),
)

integrations = Table(
    "integrations",
    metadata,
    Column("id", String(36), primary_key=True),
    _company(),
    Column("connector", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    Column("default_region", String(2), nullable=False),
    Column("language", String(5), nullable=False),
    Column("name_template", String(200), nullable=True),
    Column("creation_policy", String(10), nullable=False),
    Column("config", JSON, nullable=False, default=dict),
    Column("credentials_encrypted", LargeBinary, nullable=True),
    Column("status", String(10), nullable=False, default="active"),
    Column("status_reason", Text, nullable=True),
    Column("created_at", UTC_TIME, nullable=False),
    Column("updated_at", UTC_TIME, nullable=False),
    # The code of status_reason (storage/integrations.REASON_CODES) the screens translate;
    # None for a reason stored before migration 0018, or set with no code.
    Column("status_reason_code", String(40), nullable=True),
    # The CRM account's daily API limit is used up until then (its syncs wait); past, it is over.
    Column("limited_until", UTC_TIME, nullable=True),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _company(),
    Column("source_id", String(36), ForeignKey("telephony_sources.id"), nullable=False),
    Column("delivery_id", String(255), nullable=False),
    Column("received_at", UTC_TIME, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("ignored_reason", Text, nullable=True),
    # The same as a code and its parameters (callbridge.domain.said; migration 0020).
    Column("ignored_code", JSON, nullable=True),
    UniqueConstraint("source_id", "delivery_id"),
    Index("ix_webhook_deliveries_source_received", "source_id", "received_at"),
)

#: The last refused deliveries of each source (a bounded log: never a secret, a body excerpt).
webhook_refusals = Table(
    "webhook_refusals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _company(),
    Column("source_id", String(36), ForeignKey("telephony_sources.id"), nullable=False),
    Column("received_at", UTC_TIME, nullable=False),
    Column("status", Integer, nullable=False),
    Column("error", String(40), nullable=False),
    Column("field", String(255), nullable=True),
    Column("message", Text, nullable=False),
    Column("body_excerpt", Text, nullable=False),
    Index("ix_webhook_refusals_source_received", "source_id", "received_at"),
)

call_events = Table(
    "call_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _company(index=False),
    Column("source_id", String(36), ForeignKey("telephony_sources.id"), nullable=False),
    Column("delivery_id", Integer, ForeignKey("webhook_deliveries.id"), nullable=False),
    Column("event_id", String(255), nullable=False),
    Column("provider_call_id", String(255), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("occurred_at", UTC_TIME, nullable=False),
    Column("data", JSON, nullable=False),
    UniqueConstraint("source_id", "event_id"),
    Index("ix_call_events_call", "source_id", "provider_call_id"),
    Index("ix_call_events_company_call", "company_id", "source_id", "provider_call_id"),
)

calls = Table(
    "calls",
    metadata,
    Column("id", String(36), primary_key=True),
    _company(),
    Column("source_id", String(36), ForeignKey("telephony_sources.id"), nullable=False),
    Column("provider_call_id", String(255), nullable=False),
    Column("state", String(12), nullable=False),
    Column("direction", String(10), nullable=True),
    Column("from_number", String(100), nullable=True),
    Column("to_number", String(100), nullable=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=True),
    Column("agent", JSON, nullable=True),
    Column("started_at", UTC_TIME, nullable=True),
    Column("answered_at", UTC_TIME, nullable=True),
    Column("ended_at", UTC_TIME, nullable=True),
    Column("duration", Integer, nullable=True),
    Column("recording_url", Text, nullable=True),
    Column("notes", Text, nullable=True),
    Column("tags", JSON, nullable=False, default=list),
    Column("disposition", String(200), nullable=True),
    Column("utm", JSON, nullable=True),
    Column("crm_record_id", String(255), nullable=True),
    Column("event_count", Integer, nullable=False, default=0),
    Column("created_at", UTC_TIME, nullable=False),
    Column("updated_at", UTC_TIME, nullable=False),
    UniqueConstraint("source_id", "provider_call_id"),
    Index("ix_calls_company_started", "company_id", "started_at"),
    # The call history's order (newest first, then id): a page reads 50 rows, not all of them.
    Index("ix_calls_company_created", "company_id", "created_at", "id"),
    # The history's filters by number (the start of either) and by agent, in the same order.
    Index("ix_calls_company_from", "company_id", "from_number", "created_at", "id"),
    Index("ix_calls_company_to", "company_id", "to_number", "created_at", "id"),
    Index("ix_calls_company_user", "company_id", "user_id", "created_at", "id"),
)

call_syncs = Table(
    "call_syncs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _company(),
    Column("call_id", String(36), ForeignKey("calls.id"), nullable=False),
    Column("integration_id", String(36), ForeignKey("integrations.id"), nullable=False),
    Column("external_number", String(20), nullable=True),
    Column("no_number_reason", String(30), nullable=True),
    Column("matched", JSON, nullable=False, default=list),
    Column("match_rule", Text, nullable=True),
    # The same reason as a code and its parameters (callbridge.rules.match_reason), which the
    # screens translate; None for syncs written before migration 0017.
    Column("match_reason", JSON, nullable=True),
    Column("scenario", String(80), nullable=True),
    Column("matrix_version", Integer, nullable=True),
    Column("status", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("reason", Text, nullable=True),
    # The same as a code and its parameters (callbridge.domain.said; migration 0020).
    Column("reason_code", JSON, nullable=True),
    Column("updated_at", UTC_TIME, nullable=False),
    UniqueConstraint("call_id", "integration_id"),
)

call_actions = Table(
    "call_actions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _company(),
    Column("call_id", String(36), ForeignKey("calls.id"), nullable=False, index=True),
    Column("integration_id", String(36), ForeignKey("integrations.id"), nullable=False),
    Column("action", String(30), nullable=False),
    Column("target", String(255), nullable=False, default=""),
    Column("status", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("reason", Text, nullable=True),
    # The same reason as a code and its parameters (callbridge.domain.said), for the screens.
    Column("reason_code", JSON, nullable=True),
    Column("result_id", String(255), nullable=True),
    Column("updated_at", UTC_TIME, nullable=False),
    UniqueConstraint("call_id", "integration_id", "action", "target"),
)

contact_claims = Table(
    "contact_claims",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _company(),
    Column("integration_id", String(36), ForeignKey("integrations.id"), nullable=False),
    Column("phone_e164", String(20), nullable=False),
    Column("call_id", String(36), ForeignKey("calls.id"), nullable=False),
    Column("status", String(10), nullable=False),
    Column("record_id", String(255), nullable=True),
    Column("created_at", UTC_TIME, nullable=False),
    UniqueConstraint("integration_id", "phone_e164"),
)

activity_links = Table(
    "activity_links",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _company(index=False),
    Column("call_id", String(36), ForeignKey("calls.id"), nullable=False),
    Column("integration_id", String(36), ForeignKey("integrations.id"), nullable=False),
    Column("record_id", String(255), nullable=False),
    Column("object_type", String(20), nullable=False),
    Column("activity_id", String(255), nullable=True),
    Column("status", String(10), nullable=False),
    Column("updated_at", UTC_TIME, nullable=False),
    UniqueConstraint("call_id", "integration_id", "record_id"),
    Index("ix_activity_links_company_call", "company_id", "call_id", "integration_id"),
)

__all__ = [
    "activity_links",
    "api_keys",
    "call_actions",
    "call_events",
    "call_syncs",
    "calls",
    "companies",
    "contact_claims",
    "crm_user_links",
    "integrations",
    "matrix_versions",
    "teams",
    "telephony_sources",
    "users",
    "webhook_deliveries",
    "webhook_refusals",
]

matrix_versions = Table(
    "matrix_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _company(),
    Column("integration_id", String(36), ForeignKey("integrations.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("matrix", JSON, nullable=False),
    Column("created_at", UTC_TIME, nullable=False),
    # The API key that saved the version and its name then (null: saved before 0013).
    Column("saved_by_key_id", String(36), nullable=True),
    Column("saved_by", String(200), nullable=True),
    UniqueConstraint("integration_id", "version"),
)

crm_user_links = Table(
    "crm_user_links",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _company(),
    Column("integration_id", String(36), ForeignKey("integrations.id"), nullable=False),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("crm_user_id", String(200), nullable=False),
    Column("source", String(10), nullable=False),
    Column("updated_at", UTC_TIME, nullable=False),
    UniqueConstraint("integration_id", "user_id"),
)

agent_tokens = Table(
    "agent_tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    _company(),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTC_TIME, nullable=False),
    Column("revoked_at", UTC_TIME, nullable=True),
)

dial_intents = Table(
    "dial_intents",
    metadata,
    Column("id", String(36), primary_key=True),
    _company(index=False),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("phone_e164", String(20), nullable=False),
    Column("provider_call_id", String(255), nullable=True),
    Column("how", String(20), nullable=False),
    Column("choices", JSON, nullable=False, default=list),
    Column("window_seconds", Integer, nullable=False),
    Column("call_id", String(36), ForeignKey("calls.id"), nullable=True),
    Column("created_at", UTC_TIME, nullable=False),
    Index("ix_dial_intents_agent_number", "user_id", "phone_e164"),
    Index("ix_dial_intents_company_agent", "company_id", "user_id", "phone_e164"),
)

call_selections = Table(
    "call_selections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _company(index=False),
    Column("call_id", String(36), ForeignKey("calls.id"), nullable=False, index=True),
    Column("integration_id", String(36), ForeignKey("integrations.id"), nullable=False),
    Column("record_id", String(255), nullable=False),
    Column("object_type", String(20), nullable=False),
    Column("name", String(300), nullable=False, default=""),
    Column("how", String(20), nullable=False),
    Column("chosen_by", String(36), ForeignKey("users.id"), nullable=True),
    Column("chosen_at", UTC_TIME, nullable=False),
    Column("replaced_at", UTC_TIME, nullable=True),
    Index("ix_call_selections_company_call", "company_id", "call_id"),
)
