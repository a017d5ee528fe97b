"""Whether a number stored in a CRM is a caller's, under any plausible reading of it.

Every connector matches the caller's E.164 against each reading
:func:`~callbridge.domain.phone.stored_readings` gives of a stored number: the usual one and,
for bare digits that are also a number once a "+" is put in front, the international one. A
record found only through that second reading says so in ``CrmRecord.matched_reading``.
"""

from __future__ import annotations

from dataclasses import replace

from callbridge.domain.phone import PhoneNumber, Reading, stored_readings
from callbridge.domain.record import CrmRecord


def reading_of(raw: str, e164: str, region: str) -> Reading | None:
    """Return the reading of the stored ``raw`` that is ``e164``, the usual one first; or None."""
    return next((r for r in stored_readings(raw, region) if r.number.e164 == e164), None)


def matched(record: CrmRecord, phone: PhoneNumber, region: str) -> CrmRecord | None:
    """Return the record marked with how one of its numbers is ``phone``, or None if none is.

    A usual reading wins: ``matched_reading`` is set only when every stored number that is
    ``phone`` is so only through its ambiguous reading.
    """
    ambiguous: str | None = None
    for raw in record.phones:
        reading = reading_of(raw, phone.e164, region)
        if reading is not None and not reading.ambiguous:
            return replace(record, matched_reading=None)
        if reading is not None and ambiguous is None:
            ambiguous = raw
    return None if ambiguous is None else replace(record, matched_reading=ambiguous)
