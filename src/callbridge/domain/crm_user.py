"""A user of a CRM, to which employees are mapped (owners, assignees)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CrmUser:
    """A CRM user: the id owners and assignees are written with, and the e-mail to map by."""

    id: str
    email: str | None
    name: str | None = None
