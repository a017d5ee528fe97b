"""Resolve record ids given by callers inside the integration, never outside it.

Click-to-dial, pre-call intents and agents' choices name CRM records by id. A sync must log
only on records of its own integration: a candidate found by number is one already; any other
id is read back through the connector (:class:`SupportsRecordLookup`), and an id the
integration does not have (another company's record, one deleted meanwhile) is dropped, so the
call falls back to matching by number and its page says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from callbridge.connectors.base import Capability, Connector, supports
from callbridge.domain.record import CrmRecord


@dataclass(frozen=True)
class Resolved:
    """The given records that exist in the integration, and the ids that do not."""

    records: list[CrmRecord]
    missing: list[str]


async def in_integration(
    connector: Connector, given: Sequence[CrmRecord], candidates: Sequence[CrmRecord]
) -> Resolved:
    """Keep the given records the integration has, with their CRM details."""
    known = {record.id: record for record in candidates}
    kept: list[CrmRecord] = []
    missing: list[str] = []
    for record in given:
        found = known.get(record.id) or await _look_up(connector, record)
        if found is None:
            missing.append(record.id)
        else:
            kept.append(found)
    return Resolved(kept, missing)


async def _look_up(connector: Connector, record: CrmRecord) -> CrmRecord | None:
    """Read a record by id; a CRM that cannot is trusted, its own API scopes the id."""
    if supports(connector, Capability.RECORD_LOOKUP):
        return await connector.get_record(record.id)
    # An external CRM answers only for the account its credentials open: an id from elsewhere
    # fails there (and is reported), it cannot reach another company's data.
    return record
