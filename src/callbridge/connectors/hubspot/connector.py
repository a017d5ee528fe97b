"""HubSpot as a connector: search by phone, create contacts, log calls, deals, tasks, notes."""

from __future__ import annotations

import re
import uuid
from typing import Any

from pydantic import ValidationError

from callbridge.connectors.base import Capability, Connector, IntegrationContext
from callbridge.connectors.hubspot import batch_search, batching, mapping, pressure
from callbridge.connectors.hubspot.client import HubSpotClient, HubSpotRejected
from callbridge.connectors.hubspot.config import HubSpotConfig, HubSpotCredentials
from callbridge.connectors.hubspot.creates import OnceCreator, Target
from callbridge.connectors.hubspot.limits import RateBucket
from callbridge.connectors.hubspot.store import PhoneCache, WrittenObjects
from callbridge.connectors.numbers import matched
from callbridge.connectors.together import together
from callbridge.domain.activity import ActivityDraft
from callbridge.domain.crm_user import CrmUser
from callbridge.domain.deal import Deal, DealDraft
from callbridge.domain.phone import PhoneNumber, normalize
from callbridge.domain.record import ContactDraft, CrmRecord, ObjectType
from callbridge.domain.task import NoteDraft, TaskDraft
from callbridge.errors import Permanent, RateLimited

OBJECTS = "/crm/v3/objects"

# Reserved with a lookup's searches: the request every sync makes next (log the call on the
# record found, or create the contact), so a sync is not stopped between its lookup and its log.
LOOKUP_PREPAID = 1
# Reserved by an open-deal lookup: the associations, the deals' batch read when the record has
# deals, and the call log that follows it.
DEAL_LOOKUP_PREPAID = 3
# The batchers of coalesced searches (see ``batching``).
SEARCHES = ("search:contacts", "search:companies")


class HubSpotConnector:
    """Connector over HubSpot's v3 objects and v4 associations, within the shared budget."""

    capabilities = frozenset(Capability) - {Capability.ACTIVITY_REMOVAL}
    # Every create writes its claim row before its request (``creates.OnceCreator``): the sync's
    # own claim and bookkeeping ride in that transaction (``sync.writes.commit_before_create``).
    claims_before_creates = True

    def __init__(
        self,
        client: HubSpotClient,
        cache: PhoneCache,
        written: WrittenObjects,
        region: str,
        creator: OnceCreator,
    ) -> None:
        self.client = client
        self.cache = cache
        self.written = written
        self.region = region
        self.creator = creator
        # Records this sync's search showed without any deal: no open-deal lookup for them.
        self.without_deals: set[str] = set()
        # Records a cached lookup showed without deals then: their lookup reserves no batch read.
        self.had_no_deals: set[str] = set()
        # The deal this sync created or found on a record: the call logged on that record is
        # associated with it even when the activity names no deal (a new caller's deal).
        self.deal_of: dict[str, str] = {}

    @property
    def config(self) -> HubSpotConfig:
        """Return the integration's HubSpot settings."""
        return self.client.config

    async def check(self) -> None:
        """Check the token reads owners and contacts (the scopes every sync needs)."""
        await self.client.request("GET", "/crm/v3/owners/", params={"limit": 1})
        await self.client.request(
            "POST", f"{OBJECTS}/contacts/search", json={"limit": 1}, search=True
        )

    async def find_by_phone(self, phone: PhoneNumber) -> list[CrmRecord]:
        """Return contacts (phone, mobile) and companies (phone) with this number, cached.

        One search per object type (HubSpot searches one type per request), each with one filter
        group per phone property. Companies are searched as ``company_search`` says: by default
        only when no contact has the number, so a known contact costs one search. The searches
        also read ``num_associated_deals``, so a record without any deal needs no open-deal
        lookup in this sync.
        """
        with pressure.inside(self.client.integration_id):
            return await self._find(phone)

    async def _find(self, phone: PhoneNumber) -> list[CrmRecord]:
        cached = await self.cache.get(phone.e164)
        if cached is not None:
            records = [mapping.record_from_json(item) for item in cached]
            self.had_no_deals |= {item["id"] for item in cached if not item.get("deals", True)}
            return records
        alone = not batching.coalescing(self.client, *SEARCHES)
        mode = self.config.company_search
        if alone:
            # Both searches are paid up front (a sync refused between them would search again
            # when retried); the companies search is given back when a contact has the number.
            try:
                await self.client.prepay(1 if mode == "never" else 2, LOOKUP_PREPAID)
            except RateLimited:  # the budget is the bottleneck: share searches, if others search
                if not pressure.crowded(self.client.integration_id):
                    raise
                alone = False
        if alone:
            found = await self._search_alone(phone)
        else:
            found = await self._search_coalesced(phone)
        matching = self._matching(found, phone)
        await self._note_without_deals(matching)
        if matching:  # misses are not cached: a contact typed in HubSpot must be found next call
            await self.cache.put(phone.e164, [mapping.record_to_json(r, d) for r, d in matching])
        return [record for record, _ in matching]

    async def _search_alone(self, phone: PhoneNumber) -> list[tuple[CrmRecord, bool]]:
        """Search as one sync: its own searches, paid up front with its next request."""
        mode = self.config.company_search
        if mode == "always" or (mode == "when_no_contact" and self.client.roomy):
            return await self._search_both(phone, mode)
        found = await self._search_contacts(phone)
        if mode == "when_no_contact" and self._matching(found, phone):
            await self.client.refund_search()
        elif mode != "never":
            found += await self._search_companies(phone)
        return found

    async def _search_coalesced(self, phone: PhoneNumber) -> list[tuple[CrmRecord, bool]]:
        """Search in one request with the other syncs waiting to search (``batch_search``).

        The companies are searched as ``company_search`` says, as alone: with the contacts while
        the budget is not under pressure (one round trip), else after them, only when needed.
        """
        mode, lookup = self.config.company_search, (phone, self.region)
        contacts: batching.Batcher[batch_search.Lookup, batch_search.Found]
        companies: batching.Batcher[batch_search.Lookup, batch_search.Found]
        contacts = batching.batcher(self.client, SEARCHES[0], batch_search.contacts)
        companies = batching.batcher(self.client, SEARCHES[1], batch_search.companies)
        roomy = not pressure.pressed(self.client.integration_id)
        if mode == "always" or (mode == "when_no_contact" and roomy):
            found, others = await together(
                contacts.submit(self.client, lookup), companies.submit(self.client, lookup)
            )
            if mode == "when_no_contact" and self._matching(found, phone):
                return found
            return found + others
        found = await contacts.submit(self.client, lookup)
        if mode == "when_no_contact" and not self._matching(found, phone):
            found = found + await companies.submit(self.client, lookup)
        return found

    async def _search_contacts(self, phone: PhoneNumber) -> list[tuple[CrmRecord, bool]]:
        """Search contacts by phone and mobile phone, in one request."""
        return await self._search_records(
            "contacts",
            mapping.phone_groups(
                phone,
                ["hs_searchable_calculated_phone_number", "hs_searchable_calculated_mobile_number"],
                ["phone", "mobilephone"],
                self.region,
            ),
            mapping.CONTACT_PROPERTIES,
        )

    async def _search_both(self, phone: PhoneNumber, mode: str) -> list[tuple[CrmRecord, bool]]:
        """Search contacts and companies at once: one round trip instead of two.

        With ``when_no_contact`` this is done only while the budget is less than half used
        (``client.roomy``): the companies found are then dropped when a contact has the number,
        and the search it cost is not given back (HubSpot counted it).
        """
        contacts, companies = await together(
            self._search_contacts(phone), self._search_companies(phone)
        )
        if mode == "when_no_contact" and self._matching(contacts, phone):
            return contacts
        return contacts + companies

    async def _search_companies(self, phone: PhoneNumber) -> list[tuple[CrmRecord, bool]]:
        """Search companies by phone."""
        return await self._search_records(
            "companies",
            mapping.phone_groups(
                phone, ["hs_searchable_calculated_phone_number"], ["phone"], self.region
            ),
            mapping.COMPANY_PROPERTIES,
        )

    def _matching(
        self, found: list[tuple[CrmRecord, bool]], phone: PhoneNumber
    ) -> list[tuple[CrmRecord, bool]]:
        """Keep the records found whose number really is ``phone``, marked with how it is."""
        kept = []
        for record, deals in found:
            marked = matched(record, phone, self.region)
            if marked is not None or self._same_digits(record, phone):
                kept.append((marked or record, deals))
        return kept

    async def _note_without_deals(self, found: list[tuple[CrmRecord, bool]]) -> None:
        """Remember the records HubSpot counts no deal on, unless we created one on them.

        HubSpot computes ``num_associated_deals`` a little after an association is made; a deal
        we created ourselves may not be counted yet, so our own record of it wins.
        """
        candidates = {record.id for record, has_deals in found if not has_deals}
        if candidates:
            ours = await self.written.records_with("deal", candidates)
            self.without_deals |= candidates - ours

    def _same_digits(self, record: CrmRecord, phone: PhoneNumber) -> bool:
        """Keep a number we cannot read when its digits are the caller's national digits.

        National-digit matches of another country, which we can read, are dropped by
        :func:`~callbridge.connectors.numbers.matched` before this.
        """
        digits = phone.national_digits().lstrip("0")
        return any(
            re.sub(r"\D", "", raw).lstrip("0") == digits
            for raw in record.phones
            if not isinstance(normalize(raw, self.region), PhoneNumber)
        )

    async def _search_records(
        self, kind: str, groups: list[Any], properties: list[str]
    ) -> list[tuple[CrmRecord, bool]]:
        """Return the records found, each with whether HubSpot counts deals on it."""
        body = {"filterGroups": groups, "properties": properties, "limit": 100}
        found = await self.client.request("POST", f"{OBJECTS}/{kind}/search", json=body, paid=True)
        return [
            (mapping.record_from(kind, item), mapping.has_deals(item))
            for item in found.get("results", [])
        ]

    async def create_contact(self, draft: ContactDraft) -> CrmRecord:
        """Create a contact with the caller's E.164 number, once per draft external id.

        The draft's external id (the sync's contact claim) is the contact's unique key, so a
        create whose answer was lost is found, not repeated. HubSpot's search shows a new contact
        only after a few seconds; the cached lookup has it at once, so the next calls (or this
        sync, retried) find it without a search.
        """
        props = {"firstname": draft.name, "phone": draft.phone_e164}
        if draft.owner:
            props["hubspot_owner_id"] = draft.owner
        external_id = draft.external_id or f"callbridge:contact:{uuid.uuid4()}"
        target = Target("contact", external_id, draft.phone_e164)
        contact_id = await self.creator.create(target, props, [])
        record = CrmRecord(
            contact_id, ObjectType.CONTACT, draft.name, (draft.phone_e164,), draft.owner,
            self.client.clock(),
        )  # fmt: skip
        await self.cache.add(draft.phone_e164, mapping.record_to_json(record, False))
        return record

    async def get_record(self, record_id: str) -> CrmRecord | None:
        """Read a contact (or a ``company:`` record) by id; None when this portal has none."""
        kind, hubspot_id = mapping.target(record_id)
        if not hubspot_id.isdigit() or len(hubspot_id) > mapping.MAX_ID_DIGITS:
            return None  # HubSpot ids are numbers: this one was never HubSpot's
        fields = mapping.COMPANY_PROPERTIES if kind == "companies" else mapping.CONTACT_PROPERTIES
        path = f"{OBJECTS}/{kind}/{hubspot_id}"
        try:
            found = await self.client.request("GET", path, params={"properties": ",".join(fields)})
        except HubSpotRejected as err:
            if err.status == 404:  # deleted meanwhile, or another portal's record
                return None
            raise
        return mapping.record_from(kind, found)

    async def find_call(self, record_id: str, external_id: str) -> str | None:
        """Return the engagement logged for this call on this record, if one was made.

        Without a claim no create was sent; a claim without an id is an unsure create, looked
        up by its unique key (or, where the portal has none, by a search once it has settled).
        """
        target = Target("call", external_id, record_id)
        claim = await self.creator.claim_of(target)
        if claim is None or claim.object_id:
            return claim.object_id if claim else None
        return await self.creator.recover(target, claim)

    async def _create_once(
        self, kind: str, external_id: str, record_id: str, props: dict[str, str], links: list[Any]
    ) -> str:
        """Create an object once per (external id, record): a retry returns the first one."""
        target = Target(kind, external_id, record_id)
        return await self.creator.create(target, {**props, mapping.RECORD_ID: record_id}, links)

    async def log_call(self, activity: ActivityDraft) -> str:
        """Create the calls engagement with its record and deal associations, in one request.

        The deal is the activity's, or else the one this sync created or found on the record.
        """
        links = mapping.associations("calls", activity.record_id, self._deal_for(activity))
        props = mapping.call_properties(activity)
        return await self._create_once(
            "call", activity.external_id, activity.record_id, props, links
        )

    async def update_call(self, activity_id: str, activity: ActivityDraft) -> None:
        """PATCH the engagement with the latest data; link the deal if one appeared since."""
        body = {"properties": mapping.call_properties(activity)}
        await self.client.request("PATCH", f"{OBJECTS}/calls/{activity_id}", json=body)
        deal_id = self._deal_for(activity)
        if deal_id:
            type_id = mapping.ASSOCIATION["calls"]["deals"]
            await self._associate("calls", activity_id, "deals", deal_id, type_id)

    def _deal_for(self, activity: ActivityDraft) -> str | None:
        """Return the deal a call engagement goes with: the activity's, or this sync's deal."""
        return activity.deal_id or self.deal_of.get(activity.record_id)

    async def _associate(
        self, kind: str, object_id: str, to_type: str, to_id: str, type_id: int
    ) -> None:
        spec = [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]
        path = f"/crm/v4/objects/{kind}/{object_id}/associations/{to_type}/{to_id}"
        await self.client.request("PUT", path, json=spec)

    async def find_open_deal(self, record_id: str) -> Deal | None:
        """Return the record's most recently updated open deal.

        No request when this sync's search showed the record without any deal. Otherwise the
        lookup reserves its requests and the call log after it in one take (without the batch
        read when the cached lookup showed no deal: a deal since then costs one more take).
        """
        if record_id in self.without_deals:
            return None
        hint = DEAL_LOOKUP_PREPAID - (record_id in self.had_no_deals)
        await self.client.ensure_prepaid(hint)
        kind, object_id = mapping.target(record_id)
        path = f"/crm/v4/objects/{kind}/{object_id}/associations/deals"
        linked = (await self.client.request("GET", path)).get("results") or []
        if not linked:
            await self.client.refund(self.client.prepaid - 1)  # keep the call log's token
            return None
        inputs = [{"id": str(item["toObjectId"])} for item in linked[:100]]
        body = {"properties": mapping.DEAL_PROPERTIES, "inputs": inputs}
        found = await self.client.request("POST", f"{OBJECTS}/deals/batch/read", json=body)
        deals = [d for d in map(mapping.deal_from, found.get("results") or []) if d.is_open]
        deal = max(deals, key=lambda d: (d.updated_at is not None, d.updated_at), default=None)
        if deal is not None:
            self.deal_of[record_id] = deal.id
        return deal

    async def create_deal(self, draft: DealDraft) -> Deal:
        """Create a deal on the record (pipeline, stage, owner, UTM), once per external id."""
        props = mapping.deal_properties(draft, self.config.deal_pipeline, self.config.deal_stage)
        links = mapping.associations("deals", draft.record_id, None)
        deal_id = await self._create_once("deal", draft.external_id, draft.record_id, props, links)
        self.deal_of[draft.record_id] = deal_id
        return Deal(deal_id, draft.name, draft.owner, props["dealstage"])

    async def set_deal_owner(self, deal_id: str, owner: str) -> None:
        """Make ``owner`` (a HubSpot owner id) the deal's owner."""
        body = {"properties": {"hubspot_owner_id": owner}}
        await self.client.request("PATCH", f"{OBJECTS}/deals/{deal_id}", json=body)

    async def create_task(self, draft: TaskDraft) -> str:
        """Create a call-back task on the record (and deal), once per external id."""
        links = mapping.associations("tasks", draft.record_id, draft.deal_id)
        props = mapping.task_properties(draft)
        return await self._create_once("task", draft.external_id, draft.record_id, props, links)

    async def add_note(self, draft: NoteDraft) -> str:
        """Add a note on the record (and deal), once per external id."""
        links = mapping.associations("notes", draft.record_id, draft.deal_id)
        props = mapping.note_properties(draft)
        return await self._create_once("note", draft.external_id, draft.record_id, props, links)

    async def list_users(self) -> list[CrmUser]:
        """Return HubSpot's owners, every page."""
        users: list[CrmUser] = []
        params: dict[str, Any] = {"limit": 100}
        while True:
            page = await self.client.request("GET", "/crm/v3/owners/", params=params)
            users += [mapping.user_from(owner) for owner in page.get("results") or []]
            after = (page.get("paging") or {}).get("next", {}).get("after")
            if not after:
                return users
            params["after"] = after


def build(context: IntegrationContext) -> Connector:
    """Build the HubSpot connector for one integration."""
    try:
        config = HubSpotConfig.model_validate(dict(context.config))
    except ValidationError as err:
        raise Permanent(f"invalid HubSpot settings: {err}") from err
    try:
        credentials = HubSpotCredentials.model_validate(dict(context.credentials))
    except ValidationError:  # the first request says AuthFailed, so the integration is paused
        credentials = HubSpotCredentials.model_validate({"access_token": ""})
    bucket = RateBucket(context.sessions, context.integration_id, context.clock)
    client = HubSpotClient(
        context.http, config, credentials, bucket, context.clock, context.integration_id
    )
    cache = PhoneCache(
        context.sessions, context.integration_id, context.clock, config.cache_seconds
    )
    written = WrittenObjects(context.sessions, context.integration_id, context.clock)
    creator = OnceCreator(client, written, context.clock, context.integration_id)
    return HubSpotConnector(client, cache, written, context.default_region, creator)
