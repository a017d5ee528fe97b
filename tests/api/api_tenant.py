"""A company as seen by API tests."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from callbridge.service.bootstrap import CreatedCompany


@dataclass
class Tenant:
    """A company and a client authenticated as its admin."""

    company: CreatedCompany
    client: httpx.AsyncClient


def problems(answer: httpx.Response) -> dict[str, str]:
    """Return a 422's field errors by dotted location (``body``/``query`` left out) → message."""
    assert answer.status_code == 422, answer.text
    return {
        ".".join(str(part) for part in error["loc"][1:]): error["msg"]
        for error in answer.json()["detail"]
    }
