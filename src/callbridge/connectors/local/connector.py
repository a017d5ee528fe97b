"""The local CRM as a connector, built through the same entry point as any third-party CRM."""

from __future__ import annotations

from callbridge.connectors.base import Capability, Connector, IntegrationContext
from callbridge.connectors.local.client import LocalCrmClient
from callbridge.connectors.local.config import LocalConfig
from callbridge.connectors.local.followups import LocalFollowUps
from callbridge.domain.activity import ActivityDraft
from callbridge.domain.crm_user import CrmUser
from callbridge.domain.deal import Deal, DealDraft
from callbridge.domain.phone import PhoneNumber
from callbridge.domain.record import ContactDraft, CrmRecord, ObjectType
from callbridge.domain.task import NoteDraft, TaskDraft
from callbridge.errors import Permanent


class LocalConnector:
    """Connector over the local CRM tables; it can do everything a connector may declare."""

    capabilities = frozenset(Capability)

    def __init__(
        self, client: LocalCrmClient, followups: LocalFollowUps, config: LocalConfig
    ) -> None:
        self.client = client
        self.followups = followups
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
        activity_id = await self.client.insert_activity(activity)
        if activity_id is None:
            raise Permanent(f"local CRM record {activity.record_id} does not exist")
        return activity_id

    async def update_call(self, activity_id: str, activity: ActivityDraft) -> None:
        """Overwrite the activity with the call's latest data."""
        if not await self.client.update_activity(activity_id, activity):
            raise Permanent(f"local CRM activity {activity_id} does not exist")

    async def find_open_deal(self, record_id: str) -> Deal | None:
        """Return the record's most recent open deal."""
        return await self.followups.find_open_deal(record_id)

    async def create_deal(self, draft: DealDraft) -> Deal:
        """Create the call's deal once."""
        return await self.followups.create_deal(draft)

    async def set_deal_owner(self, deal_id: str, owner: str) -> None:
        """Make ``owner`` responsible for the deal."""
        await self.followups.set_deal_owner(deal_id, owner)

    async def create_task(self, draft: TaskDraft) -> str:
        """Create the task once."""
        return await self.followups.create_task(draft)

    async def add_note(self, draft: NoteDraft) -> str:
        """Add the note once."""
        return await self.followups.add_note(draft)

    async def list_users(self) -> list[CrmUser]:
        """Return the users owners and assignees are chosen from."""
        return await self.followups.list_users()

    async def get_record(self, record_id: str) -> CrmRecord | None:
        """Return the integration's record with this id (never another integration's)."""
        return await self.client.get_record(record_id)

    async def remove_call(self, activity_id: str) -> bool:
        """Delete a logged call activity (it moved to another record)."""
        return await self.client.delete_activity(activity_id)


def build(context: IntegrationContext) -> Connector:
    """Build the local CRM connector for one integration."""
    client = LocalCrmClient(
        context.sessions,
        context.company_id,
        context.integration_id,
        context.default_region,
        context.clock,
        context.read_sessions,
    )
    followups = LocalFollowUps(
        context.sessions, context.company_id, context.integration_id, context.clock
    )
    return LocalConnector(client, followups, LocalConfig.model_validate(dict(context.config)))
