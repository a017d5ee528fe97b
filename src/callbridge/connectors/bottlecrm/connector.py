"""BottleCRM as a connector: contacts and leads by phone, calls as interactions, deals, tasks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from callbridge.connectors.base import Capability, Connector, IntegrationContext
from callbridge.connectors.bottlecrm.client import BottleCrmClient, BottleCrmNotFound
from callbridge.connectors.bottlecrm.config import BottleCrmConfig
from callbridge.connectors.bottlecrm.mapping import (
    carries,
    contact_values,
    deal_from,
    deal_values,
    interaction_changes,
    interaction_values,
    is_record_id,
    marker,
    missing_links,
    record_from_detail,
    record_from_hit,
    same_number,
    task_values,
    user_from_profile,
)
from callbridge.connectors.numbers import matched
from callbridge.connectors.together import together
from callbridge.domain.activity import ActivityDraft
from callbridge.domain.crm_user import CrmUser
from callbridge.domain.deal import Deal, DealDraft
from callbridge.domain.phone import PhoneNumber
from callbridge.domain.record import ContactDraft, CrmRecord, ObjectType
from callbridge.domain.task import NoteDraft, TaskDraft
from callbridge.errors import Permanent

# The record kinds a call can be logged on, as BottleCRM names them: home → API module.
MODULES = {"contact": "contacts", "lead": "leads"}


class BottleCrmConnector:
    """Connector over BottleCRM's REST API, for one integration (one org, one token)."""

    capabilities = frozenset(
        {
            Capability.FIND_BY_PHONE,
            Capability.CREATE_CONTACT,
            Capability.LOG_CALL,
            Capability.UPDATE_CALL,
            Capability.DEALS,
            Capability.TASKS,
            Capability.NOTES,
            Capability.OWNERS,
            Capability.RECORD_LOOKUP,
        }
    )

    def __init__(
        self,
        client: BottleCrmClient,
        config: BottleCrmConfig,
        region: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.client = client
        self.config = config
        self._region = region
        self._clock = clock
        self._homes: dict[str, str] = {}  # record id → "contact" | "lead", as found

    async def check(self) -> None:
        """Read the org's users: a refused token raises AuthFailed."""
        await self.client.users()

    async def find_by_phone(self, phone: PhoneNumber) -> list[CrmRecord]:
        """Return the contacts (and leads) whose number is ``phone``, in whatever format."""
        kinds = [ObjectType.CONTACT] + ([ObjectType.LEAD] if self.config.search_leads else [])
        answers = await together(
            *(self.client.duplicates(MODULES[kind.value], phone.e164) for kind in kinds)
        )
        found = []
        for kind, hits in zip(kinds, answers, strict=True):
            for hit in hits:
                if same_number(hit.get("phone") or "", phone.e164, self._region):
                    found_record = record_from_hit(hit, kind)
                    record = matched(found_record, phone, self._region) or found_record
                    self._homes[record.id] = kind.value
                    found.append(record)
        return found

    async def create_contact(self, draft: ContactDraft) -> CrmRecord:
        """Create a contact named after the draft, carrying the caller's E.164 number."""
        owner = draft.owner or self.config.default_owner
        created = await self.client.create("contacts", contact_values(draft, owner))
        if created is None:
            raise Permanent("BottleCRM created a contact but did not say its id")
        self._homes[created] = "contact"
        return CrmRecord(created, ObjectType.CONTACT, draft.name, (draft.phone_e164,), owner)

    async def find_call(self, record_id: str, external_id: str) -> str | None:
        """Return the interaction on ``record_id`` whose body carries the call's marker."""
        home = await self._home(record_id)
        matches = [
            str(item["id"])
            for item in await self.client.interactions(home, record_id)
            if carries(item.get("body"), external_id)
        ]
        return matches[-1] if matches else None  # newest first: the oldest is the one

    async def log_call(self, activity: ActivityDraft) -> str:
        """Log the call as an interaction, unless the record already has it."""
        existing = await self.find_call(activity.record_id, activity.external_id)
        if existing is not None:
            return existing
        home = await self._home(activity.record_id)
        values = interaction_values(activity, home, self._clock())
        created = await self.client.log_interaction(values)
        return str(created["id"])

    async def update_call(self, activity_id: str, activity: ActivityDraft) -> None:
        """Rewrite the interaction with the call's latest data (PATCH; BottleCRM has no PUT)."""
        changes = interaction_changes(activity, self._clock())
        await self.client.patch("interactions", activity_id, changes)

    async def find_open_deal(self, record_id: str) -> Deal | None:
        """Return the first open opportunity of a contact (leads have none)."""
        if await self._home(record_id) != "contact":
            return None
        detail = await self.client.detail("contacts", record_id)
        deals = [deal_from(item) for item in detail.get("opportunities") or []]
        return next((deal for deal in deals if deal.is_open), None)

    async def create_deal(self, draft: DealDraft) -> Deal:
        """Create an opportunity in the configured (or default) pipeline, once per external id."""
        owner = draft.owner or self.config.default_owner
        found = await self._find_deal(draft)
        if found is not None:
            await self._complete("opportunities", found, draft.record_id, owner)
            return deal_from(found)
        pipeline = draft.pipeline or self.config.pipeline or await self._default_pipeline()
        values = deal_values(draft, pipeline, owner)
        created = await self.client.create("opportunities", values)
        if created is None:
            raise Permanent("BottleCRM created an opportunity but did not say its id")
        return Deal(id=created, name=values["name"], owner=owner, stage=values["stage"])

    async def _find_deal(self, draft: DealDraft) -> dict[str, Any] | None:
        params = {"name": draft.name[:200]}
        for item in await self.client.listing("opportunities", "opportunities", params):
            if carries(item.get("description"), draft.external_id):
                return item
        return None

    async def _complete(
        self, module: str, found: dict[str, Any], contact_id: str | None, owner: str | None
    ) -> None:
        """Link what a half-done create of ``found`` left out (its contact, its owner)."""
        changes = missing_links(found, contact_id, owner)
        if changes:
            await self.client.patch(module, str(found["id"]), changes)

    async def _default_pipeline(self) -> str:
        pipelines = await self.client.pipelines()
        chosen = next((p for p in pipelines if p.get("is_default")), None) or (
            pipelines[0] if pipelines else None
        )
        if chosen is None:
            raise Permanent("BottleCRM has no deal pipeline: create one, or set `pipeline`")
        return str(chosen["id"])

    async def set_deal_owner(self, deal_id: str, owner: str) -> None:
        """Make ``owner`` (a profile id) the opportunity's only assignee."""
        await self.client.patch("opportunities", deal_id, {"assigned_to": [owner]})

    async def create_task(self, draft: TaskDraft) -> str:
        """Create a task once per external id; BottleCRM gives no id, so find it by title."""
        home = await self._home(draft.record_id)
        owner = draft.assignee or self.config.default_owner
        existing = await self._find_task(draft)
        if existing is None:
            await self.client.create("tasks", task_values(draft, home, owner))
            existing = await self._find_task(draft)
        if existing is None:
            raise Permanent(f"BottleCRM created task {draft.title!r} but it cannot be found")
        contact = draft.record_id if home == "contact" else None
        await self._complete("tasks", existing, contact, owner)
        return str(existing["id"])

    async def _find_task(self, draft: TaskDraft) -> dict[str, Any] | None:
        """Return the task (its detail) titled as the draft and carrying its marker."""
        params = {"title": draft.title[:200]}
        for item in await self.client.listing("tasks", "tasks", params):
            task = (await self.client.detail("tasks", str(item["id"]))).get("task_obj") or {}
            if carries(task.get("description"), draft.external_id):
                return {**task, "id": item["id"]}
        return None

    async def add_note(self, draft: NoteDraft) -> str:
        """Comment on the deal, or else on the record, once per external id."""
        if draft.deal_id:
            module, target = "opportunities", draft.deal_id
        else:
            module, target = MODULES[await self._home(draft.record_id)], draft.record_id
        comments = (await self.client.detail(module, target)).get("comments") or []
        if not any(carries(c.get("comment"), draft.external_id) for c in comments):
            text = f"{draft.body.strip()}\n\n{marker(draft.external_id)}"
            comments = await self.client.comment(module, target, text)
        for comment in comments:
            if carries(comment.get("comment"), draft.external_id):
                return str(comment["id"])
        raise Permanent(f"BottleCRM did not keep the comment on {module} {target}")

    async def list_users(self) -> list[CrmUser]:
        """Return the org's active profiles, with the e-mail employees are mapped by."""
        return [user_from_profile(profile) for profile in await self.client.users()]

    async def get_record(self, record_id: str) -> CrmRecord | None:
        """Read a contact or lead of this org by id; None when the org has neither."""
        if not is_record_id(record_id):
            return None  # BottleCRM's ids are UUIDs: this one was never BottleCRM's
        for home, module in MODULES.items():
            try:
                body = await self.client.detail(module, record_id)
            except BottleCrmNotFound:
                continue
            self._homes[record_id] = home
            return record_from_detail(body.get(f"{home}_obj") or {}, record_id, ObjectType(home))
        return None

    async def _home(self, record_id: str) -> str:
        """Return whether a record is a contact or a lead, asking BottleCRM if not known yet."""
        if record_id not in self._homes and await self.get_record(record_id) is None:
            raise Permanent(f"BottleCRM has no contact or lead {record_id} visible to this token")
        return self._homes[record_id]


def build(context: IntegrationContext) -> Connector:
    """Build the BottleCRM connector for one integration."""
    try:
        config = BottleCrmConfig.model_validate(dict(context.config))
    except ValidationError as err:
        raise Permanent(f"invalid BottleCRM settings: {err}") from err
    token = context.credentials.get("token")
    client = BottleCrmClient(context.http, config.base_url, token)
    return BottleCrmConnector(client, config, context.default_region, context.clock)
