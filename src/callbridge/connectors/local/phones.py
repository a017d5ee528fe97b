"""Phones of local CRM records: their readings, the lookup by number, records from its rows.

Each stored phone is indexed by its usual E.164 reading (``e164``) and, for bare digits that
are also an international number without its "+", by that second reading (``ambiguous_e164``):
``33612345607`` with region DE is +49 33612345607 as usual and +33 6 12 34 56 07 as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import BindParameter, bindparam, select, union
from sqlalchemy.orm import aliased

from callbridge.connectors.local.mapping import record_from_row
from callbridge.connectors.local.tables import crm_record_phones, crm_records
from callbridge.domain.phone import stored_readings
from callbridge.domain.record import CrmRecord


def readings_of(raw: str, region: str) -> tuple[str | None, str | None]:
    """Return the usual E.164 reading of a stored number and its ambiguous one, if any."""
    readings = stored_readings(raw, region)
    usual = next((r.number.e164 for r in readings if not r.ambiguous), None)
    return usual, next((r.number.e164 for r in readings if r.ambiguous), None)


def _find_by_e164_query() -> Any:
    """Build once the lookup by number: it runs on every call, so it is not rebuilt each time.

    A phone matches by either reading (two indexed columns, one indexed select each); the
    record comes once, with each of its phones once, however many of them match.
    """
    phones = crm_record_phones.c
    integration: BindParameter[str] = bindparam("integration_id")
    e164: BindParameter[str] = bindparam("e164")
    usual = select(phones.record_id).where(
        phones.integration_id == integration, phones.e164 == e164
    )
    second = select(phones.record_id).where(
        phones.integration_id == integration, phones.ambiguous_e164 == e164
    )
    every = aliased(crm_record_phones)
    return (
        select(
            crm_records,
            every.c.raw,
            every.c.e164.label("phone_e164"),
            every.c.ambiguous_e164.label("phone_ambiguous_e164"),
        )
        .join(every, every.c.record_id == crm_records.c.id)
        .where(
            crm_records.c.company_id == bindparam("company_id"),
            crm_records.c.integration_id == integration,
            crm_records.c.id.in_(union(usual, second)),
        )
        .order_by(crm_records.c.id, every.c.id)
    )


FIND_BY_E164 = _find_by_e164_query()


def group_records(rows: Sequence[Any], e164: str | None = None) -> list[CrmRecord]:
    """Fold (record, phone) rows into records with all their phones.

    With the ``e164`` searched, a record none of whose phones reads so as usual was found
    through the ambiguous reading of one: that phone is named in ``matched_reading``.
    """
    phones: dict[str, list[str]] = {}
    first: dict[str, Any] = {}
    usual: set[str] = set()
    ambiguous: dict[str, str] = {}
    for row in rows:
        first.setdefault(row["id"], row)
        if row["raw"] is not None:
            phones.setdefault(row["id"], []).append(row["raw"])
        if e164 is not None and row.get("phone_e164") == e164:
            usual.add(row["id"])
        elif e164 is not None and row.get("phone_ambiguous_e164") == e164:
            ambiguous.setdefault(row["id"], row["raw"])
    return [
        replace(
            record_from_row(row, phones.get(key, [])),
            matched_reading=None if key in usual else ambiguous.get(key),
        )
        for key, row in first.items()
    ]
