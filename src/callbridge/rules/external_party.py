"""Find who the external party of a call is: normalize the number, search each integration."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from callbridge.domain.call import Call
from callbridge.domain.event import Direction
from callbridge.domain.phone import NoExternalNumber, NoNumberReason, PhoneNumber, normalize


def external_number(
    call: Call, region: str, company: Mapping[str, Any], extensions: Collection[str]
) -> PhoneNumber | NoExternalNumber:
    """Return the external party's number in E.164, or why there is none to match."""
    if call.direction is Direction.INTERNAL:
        return NoExternalNumber(NoNumberReason.INTERNAL_EXTENSION, call.to_number)
    if call.direction is None:
        return NoExternalNumber(NoNumberReason.MISSING, None)
    return normalize(
        call.external_number,
        region,
        own_numbers=company.get("own_numbers") or (),
        extensions=extensions,
    )
