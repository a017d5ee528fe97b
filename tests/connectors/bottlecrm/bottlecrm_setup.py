"""What the BottleCRM tests share: connectors built on a server, contacts typed as people do."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callbridge.connectors.base import Connector, IntegrationContext
from callbridge.connectors.registry import factory
from callbridge.testing.servers import LOOPBACK

__all__ = ["LOOPBACK", "bottlecrm_connector", "store_contact"]


def bottlecrm_connector(
    http: httpx.AsyncClient, base_url: str, token: str, region: str = "US"
) -> Connector:
    """Build the BottleCRM connector through the registry, as the sync does."""
    context = IntegrationContext(
        integration_id="bottlecrm-tests",
        company_id="bottlecrm-tests",
        default_region=region,
        config={"base_url": base_url},
        credentials={"token": token},
        http=http,
        sessions=async_sessionmaker[AsyncSession](),
    )
    return factory("bottlecrm")(context)


async def store_contact(api: httpx.AsyncClient, first: str, last: str, phone: str) -> str:
    """Create a contact over BottleCRM's API with its phone typed exactly as given."""
    answer = await api.post(
        "/api/contacts/", json={"first_name": first, "last_name": last, "phone": phone}
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])
