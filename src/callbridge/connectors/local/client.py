"""Read and write the local CRM's tables, scoped to one integration of one company."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callbridge.connectors.local.mapping import activity_values
from callbridge.connectors.local.phone_index import SqlitePhoneIndex, index_for
from callbridge.connectors.local.phones import FIND_BY_E164, group_records, readings_of
from callbridge.connectors.local.tables import crm_activities, crm_record_phones, crm_records
from callbridge.domain.activity import ActivityDraft
from callbridge.domain.record import CrmRecord, ObjectType
from callbridge.storage import units


def _sqlite_index(reads: async_sessionmaker[AsyncSession]) -> SqlitePhoneIndex | None:
    """Return the one-hop lookup for a SQLite file database, None for other databases."""
    bind = reads.kw.get("bind")
    url = getattr(bind, "url", None)
    if url is None or url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return index_for(str(url.database), FIND_BY_E164)


class LocalCrmClient:
    """The local CRM's storage for one integration: records by E.164, and their call activities."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        company_id: str,
        integration_id: str,
        region: str,
        clock: Callable[[], datetime],
        reads: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self._sessions = sessions
        self._engine: AsyncEngine = sessions.kw["bind"]
        self._reads = reads or sessions
        self._fast = _sqlite_index(self._reads)
        self._company_id = company_id
        self._integration_id = integration_id
        self._region = region
        self._clock = clock

    @property
    def region(self) -> str:
        """Return the default region numbers are normalized with."""
        return self._region

    def _scope(self) -> dict[str, str]:
        return {"company_id": self._company_id, "integration_id": self._integration_id}

    def e164_of(self, raw: str) -> str | None:
        """Return the E.164 form of a number as stored, using the integration's region."""
        return self.readings_of(raw)[0]

    def readings_of(self, raw: str) -> tuple[str | None, str | None]:
        """Return the usual E.164 reading of a stored number and its ambiguous one, if any."""
        return readings_of(raw, self._region)

    async def find_by_e164(self, e164: str) -> list[CrmRecord]:
        """Return the records having ``e164`` among their phones' readings, in one query.

        A record found only through the ambiguous reading of a phone names that phone in
        ``matched_reading``.
        """
        params = {**self._scope(), "e164": e164}
        if self._fast is not None:
            return group_records(await self._fast.rows(params), e164)
        async with self._reads() as session:
            rows = (await session.execute(FIND_BY_E164, params)).mappings().all()
        return group_records(rows, e164)

    async def create_record(
        self,
        object_type: ObjectType,
        name: str,
        phones: Sequence[str],
        *,
        owner: str | None = None,
        email: str | None = None,
    ) -> CrmRecord:
        """Create a record with its phones, each indexed by its E.164 form."""
        record_id, now = str(uuid.uuid4()), self._clock()
        record = {
            "id": record_id,
            "object_type": object_type.value,
            "name": name,
            "owner": owner,
            "email": email,
            "created_at": now,
            "updated_at": now,
            **self._scope(),
        }
        numbers = self._phone_rows(record_id, phones)

        def create(db: Connection) -> None:
            db.execute(insert(crm_records), record)
            if numbers:
                db.execute(insert(crm_record_phones), numbers)

        await units.write(self._engine, create)
        return CrmRecord(record_id, object_type, name, tuple(phones), owner, now)

    def _phone_rows(self, record_id: str, phones: Sequence[str]) -> list[dict[str, Any]]:
        rows = []
        for raw in phones:
            usual, ambiguous = readings_of(raw, self._region)
            rows.append(
                {
                    "record_id": record_id,
                    "integration_id": self._integration_id,
                    "raw": raw,
                    "e164": usual,
                    "ambiguous_e164": ambiguous,
                }
            )
        return rows

    async def get_record(self, record_id: str) -> CrmRecord | None:
        """Return one record with its phones, or None."""
        query = (
            select(crm_records, crm_record_phones.c.raw)
            .outerjoin(crm_record_phones, crm_record_phones.c.record_id == crm_records.c.id)
            .where(crm_records.c.id == record_id, *self._where())
            .order_by(crm_record_phones.c.id)
        )
        async with self._reads() as session:
            rows = (await session.execute(query)).mappings().all()
        records = group_records(rows)
        return records[0] if records else None

    def _where(self) -> list[Any]:
        return [
            crm_records.c.company_id == self._company_id,
            crm_records.c.integration_id == self._integration_id,
        ]

    async def list_records(
        self, *, object_type: ObjectType | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[int, list[CrmRecord]]:
        """Return the total count and one page of records, most recently updated first."""
        where = self._where()
        if object_type is not None:
            where.append(crm_records.c.object_type == object_type.value)
        page = (
            select(crm_records.c.id)
            .where(*where)
            .order_by(crm_records.c.updated_at.desc(), crm_records.c.id)
            .limit(limit)
            .offset(offset)
        )
        async with self._reads() as session:
            total = (await session.execute(select(func.count()).where(*where))).scalar_one()
            ids = list((await session.execute(page)).scalars())
        records = [await self.get_record(record_id) for record_id in ids]
        return int(total), [record for record in records if record is not None]

    async def update_record(
        self,
        record_id: str,
        *,
        name: str | None = None,
        owner: str | None = None,
        phones: Sequence[str] | None = None,
    ) -> CrmRecord | None:
        """Change a record's name, owner or phones; return it, or None if it does not exist."""
        values: dict[str, Any] = {"updated_at": self._clock()}
        if name is not None:
            values["name"] = name
        if owner is not None:
            values["owner"] = owner
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(crm_records)
                .where(crm_records.c.id == record_id, *self._where())
                .values(**values)
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                return None
            if phones is not None:
                await session.execute(self._delete_phones(record_id))
                numbers = self._phone_rows(record_id, phones)
                if numbers:
                    await session.execute(insert(crm_record_phones), numbers)
        return await self.get_record(record_id)

    async def delete_record(self, record_id: str) -> bool:
        """Delete a record with its phones and activities; False if it does not exist."""
        async with self._sessions.begin() as session:
            await session.execute(self._delete_phones(record_id))
            await session.execute(
                delete(crm_activities).where(
                    crm_activities.c.record_id == record_id, *self._activities()
                )
            )
            result = await session.execute(
                delete(crm_records).where(crm_records.c.id == record_id, *self._where())
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def _delete_phones(self, record_id: str) -> Any:
        """Delete a record's phones, only if the record is this integration's."""
        mine = select(crm_records.c.id).where(crm_records.c.id == record_id, *self._where())
        return delete(crm_record_phones).where(
            crm_record_phones.c.integration_id == self._integration_id,
            crm_record_phones.c.record_id.in_(mine),
        )

    def _activities(self) -> list[Any]:
        return [
            crm_activities.c.company_id == self._company_id,
            crm_activities.c.integration_id == self._integration_id,
        ]

    async def find_activity(self, record_id: str, external_id: str) -> str | None:
        """Return the id of the activity logged on ``record_id`` for ``external_id``."""
        query = select(crm_activities.c.id).where(
            *self._activities(),
            crm_activities.c.record_id == record_id,
            crm_activities.c.external_id == external_id,
        )
        async with self._reads() as session:
            return (await session.execute(query)).scalar_one_or_none()

    async def insert_activity(self, activity: ActivityDraft) -> str | None:
        """Insert a call activity, or return the existing one for the same record and call.

        Return None when the record does not exist. The unique constraint, not a read before
        the write, tells a second log of the same call (this runs on every call).
        """
        activity_id, now = str(uuid.uuid4()), self._clock()
        row = {
            "id": activity_id,
            "record_id": activity.record_id,
            "external_id": activity.external_id,
            "created_at": now,
            **activity_values(activity, now),
            **self._scope(),
        }
        try:
            await units.write(self._engine, lambda db: db.execute(insert(crm_activities), row))
        except IntegrityError:  # logged before (theirs is the one), or no such record
            return await self.find_activity(activity.record_id, activity.external_id)
        return activity_id

    async def update_activity(self, activity_id: str, activity: ActivityDraft) -> bool:
        """Overwrite an activity with the latest call data; False if it does not exist."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(crm_activities)
                .where(crm_activities.c.id == activity_id, *self._activities())
                .values(**activity_values(activity, self._clock()))
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def list_activities(self, record_id: str | None = None) -> list[dict[str, Any]]:
        """Return the call activities of the integration, or of one record, oldest first."""
        query = select(crm_activities).where(*self._activities())
        if record_id is not None:
            query = query.where(crm_activities.c.record_id == record_id)
        async with self._reads() as session:
            rows = (await session.execute(query.order_by(crm_activities.c.created_at))).mappings()
            return [dict(row) for row in rows]

    async def delete_activity(self, activity_id: str) -> bool:
        """Delete one call activity of the integration; False if it does not exist."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(crm_activities).where(
                    crm_activities.c.id == activity_id, *self._activities()
                )
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]
