"""Whether an integration's HubSpot budget is the bottleneck in this process (see batching)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

# Takes that leave the budget at most half used this many times in a row end the pressure.
CALM_TAKES = 3
# integration → takes in a row that left its budget at most half used
_CALM: dict[str, int] = {}


def pressed(integration_id: str) -> bool:
    """Tell whether the integration's budget refused or filled up lately."""
    return _CALM.get(integration_id, CALM_TAKES) < CALM_TAKES


def press(integration_id: str) -> None:
    """Say the budget refused a take (or was more than half used after one)."""
    if len(_CALM) > 4096:
        _CALM.clear()
    _CALM[integration_id] = 0


def note(integration_id: str, roomy: bool) -> None:
    """Count a granted take: CALM_TAKES takes in a row at most half used end the pressure."""
    if roomy:
        _CALM[integration_id] = _CALM.get(integration_id, CALM_TAKES) + 1
    else:
        press(integration_id)


# integration → syncs now inside a lookup or a create of the connector, in this process
_INSIDE: dict[str, int] = {}


@contextlib.contextmanager
def inside(integration_id: str) -> Iterator[None]:
    """Count a sync inside a lookup or a create while the block runs."""
    _INSIDE[integration_id] = _INSIDE.get(integration_id, 0) + 1
    try:
        yield
    finally:
        _INSIDE[integration_id] -= 1
        if not _INSIDE[integration_id]:
            del _INSIDE[integration_id]


def crowded(integration_id: str) -> bool:
    """Tell whether other syncs are inside a lookup or a create too: there is work to share."""
    return _INSIDE.get(integration_id, 0) > 1
