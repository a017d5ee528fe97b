"""Build what a sync reads (Loaded, Found) in memory, for tests of the pure decision."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from callbridge.domain.call import Call, fold
from callbridge.domain.capability import Capability
from callbridge.domain.phone import PhoneNumber, normalize
from callbridge.domain.record import CrmRecord
from callbridge.rules.default_matrix import DEFAULT_MATRIX_JSON
from callbridge.storage.agent_choices import Chosen
from callbridge.storage.integrations import IntegrationRow
from callbridge.sync.inputs import Found, Loaded
from callbridge.sync.people import People
from callbridge.sync.record_lookup import Resolved
from callbridge.sync.writes import SyncContext
from callbridge.telephony.generic import GenericAdapter
from callbridge.testing.webhooks import call_sequence

CALLER = "+14155550199"
T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def number() -> PhoneNumber:
    """Return the caller's number, normalized."""
    parsed = normalize(CALLER, "US")
    assert isinstance(parsed, PhoneNumber)
    return parsed


def a_call(direction: str, answered: bool, **extra: Any) -> Call:
    """Fold the events of a whole call with the caller."""
    events = call_sequence("call-1", direction, CALLER, answered=answered, start=T0, **extra)
    return fold(GenericAdapter().parse(json.dumps(events).encode()).events)


def integration(policy: str = "all") -> IntegrationRow:
    """Return an integration row as a sync reads it."""
    return IntegrationRow(
        id="integration-1",
        company_id="company-1",
        connector="local",
        name="CRM",
        default_region="US",
        language="en",
        name_template=None,
        creation_policy=policy,
        config={},
        credentials_encrypted=None,
        status="active",
        status_reason=None,
        created_at=T0,
        updated_at=T0,
        status_reason_code=None,
        limited_until=None,
    )


def loaded(
    call: Call,
    *,
    policy: str = "all",
    links: dict[str, dict[str, Any]] | None = None,
    decided: tuple[str, int] | None = None,
    declined: str | None = None,
    matrix: dict[str, Any] | None = None,
    version: int = 0,
) -> Loaded:
    """Return a call's inputs as a sync reads them."""
    ctx = SyncContext("company-1", "call-1", integration(policy), call, dict(links or {}))
    return Loaded(
        ctx, number(), None, None, None, decided, declined, version,
        matrix or DEFAULT_MATRIX_JSON, False,
    )  # fmt: skip


def found(
    candidates: Sequence[CrmRecord] = (),
    *,
    agent: bool | None = None,
    capabilities: frozenset[Capability] = frozenset(Capability),
    chosen: Chosen | None = None,
    given: Resolved | None = None,
) -> Found:
    """Return what the CRM and the agents said; ``agent``: mapped, unmapped, None if unnamed."""
    who = People(
        agent_named=agent is not None,
        agent_crm_id="crm-agent" if agent else None,
        agent_label="Ann",
        top_manager_crm_id="crm-top",
    )
    return Found(tuple(candidates), who, capabilities, chosen, given)
