"""The local CRM as a connector, built through the same entry point as any third-party CRM."""

from __future__ import annotations

from callbridge.connectors.base import Capability, Connector, IntegrationContext
from callbridge.connectors.local.client import LocalCrmClient
from callbridge.connectors.local.config import LocalConfig
from callbridge.domain.activity import ActivityDraft
from callbridge.domain.phone import PhoneNumber
from callbridge.domain.record import ContactDraft, CrmRecord, ObjectType
from callbridge.errors import Permanent


class LocalConnector:
    """Connector over the local CRM tables; it can do everything a connector may declare."""

    capabilities = frozenset(Capability)

    def __init__(self, client: LocalCrmClient, config: LocalConfig) -> None:
        self.client = client
        self.config = config

    async def check(self) -> None:
        """Nothing to check: the local CRM lives in Callbridge's own database."""

    async def find_by_phone(self, phone: PhoneNumber) -> list[CrmRecord]:
        """Return the records with ``phone`` among their numbers (an indexed E.164 lookup)."""
        return await self.client.find_by_e164(phone.e164)

    async def create_contact(self, draft: ContactDraft) -> CrmRecord:
        """Create a contact carrying the caller's E.164 number."""
        return await self.client.create_record(
            ObjectType.CONTACT, draft.name, [draft.phone_e164], owner=draft.owner
        )

    async def find_call(self, record_id: str, external_id: str) -> str | None:
        """Return the activity already logged on ``record_id`` for this call, if any."""
        return await self.client.find_activity(record_id, external_id)

    async def log_call(self, activity: ActivityDraft) -> str:
        """Log the call on its record; a second log of the same call returns the first one."""
        if await self.client.get_record(activity.record_id) is None:
            raise Permanent(f"local CRM record {activity.record_id} does not exist")
        return await self.client.insert_activity(activity)

    async def update_call(self, activity_id: str, activity: ActivityDraft) -> None:
        """Overwrite the activity with the call's latest data."""
        if not await self.client.update_activity(activity_id, activity):
            raise Permanent(f"local CRM activity {activity_id} does not exist")


def build(context: IntegrationContext) -> Connector:
    """Build the local CRM connector for one integration."""
    client = LocalCrmClient(
        context.sessions,
        context.company_id,
        context.integration_id,
        context.default_region,
        context.clock,
    )
    return LocalConnector(client, LocalConfig.model_validate(dict(context.config)))
