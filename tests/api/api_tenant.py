"""A company as seen by API tests."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from callbridge.bootstrap import CreatedCompany


@dataclass
class Tenant:
    """A company and a client authenticated as its admin."""

    company: CreatedCompany
    client: httpx.AsyncClient
