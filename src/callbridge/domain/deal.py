"""A deal (opportunity) in a CRM, and what Callbridge asks a CRM to create."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from callbridge.domain.event import Utm


@dataclass(frozen=True)
class Deal:
    """A deal as found in, or created in, a CRM."""

    id: str
    name: str
    owner: str | None = None
    stage: str | None = None
    is_open: bool = True
    updated_at: datetime | None = None


@dataclass(frozen=True)
class DealDraft:
    """A deal to create for a call; creating it twice with one ``external_id`` gives one deal."""

    external_id: str
    name: str
    record_id: str
    owner: str | None = None
    pipeline: str | None = None
    stage: str | None = None
    utm: Utm | None = None
