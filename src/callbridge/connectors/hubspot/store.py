"""What the HubSpot connector remembers in Callbridge's database: lookups and written objects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callbridge.connectors.hubspot.tables import hubspot_objects, hubspot_phone_cache
from callbridge.storage.sql import insert_ignore

Sessions = async_sessionmaker[AsyncSession]


class PhoneCache:
    """Phone → records found, per integration, so a busy number costs no search per call."""

    def __init__(
        self, sessions: Sessions, integration_id: str, clock: Callable[[], datetime], ttl: float
    ) -> None:
        self._sessions = sessions
        self._integration_id = integration_id
        self._clock = clock
        self._ttl = timedelta(seconds=ttl)

    def _key(self, phone: str) -> list[Any]:
        table = hubspot_phone_cache
        return [table.c.integration_id == self._integration_id, table.c.phone_e164 == phone]

    async def get(self, phone: str) -> list[dict[str, Any]] | None:
        """Return the cached records of ``phone`` if still fresh."""
        table = hubspot_phone_cache
        query = select(table.c.records, table.c.cached_at).where(*self._key(phone))
        async with self._sessions() as session:
            row = (await session.execute(query)).first()
        if row is None or self._clock() - row.cached_at > self._ttl:
            return None
        return list(row.records)

    async def put(self, phone: str, records: list[dict[str, Any]]) -> None:
        """Remember the records found for ``phone``."""
        values = {"records": records, "cached_at": self._clock()}
        async with self._sessions.begin() as session:
            row = {"integration_id": self._integration_id, "phone_e164": phone, **values}
            if not await insert_ignore(session, hubspot_phone_cache, row):
                await session.execute(
                    update(hubspot_phone_cache).where(*self._key(phone)).values(**values)
                )


@dataclass(frozen=True)
class Claim:
    """A claim row: the object's HubSpot id once known, and when its create was last sent."""

    object_id: str | None
    created_at: datetime
    keyed: bool = False  # the create was sent with the unique callbridge_key


class WrittenObjects:
    """The claim rows of objects we create: pending before the create, with the id after it."""

    def __init__(self, sessions: Sessions, integration_id: str, clock: Callable[[], datetime]):
        self._sessions = sessions
        self._integration_id = integration_id
        self._clock = clock

    def _key(self, kind: str, external_id: str, record_id: str) -> dict[str, str]:
        return {
            "integration_id": self._integration_id,
            "kind": kind,
            "external_id": external_id,
            "record_id": record_id,
        }

    def _where(self, kind: str, external_id: str, record_id: str) -> list[Any]:
        key = self._key(kind, external_id, record_id)
        return [hubspot_objects.c[name] == value for name, value in key.items()]

    async def get(self, kind: str, external_id: str, record_id: str) -> Claim | None:
        """Return the claim of an object: its HubSpot id, or None while its create is unsure."""
        table = hubspot_objects
        query = select(table.c.object_id, table.c.created_at, table.c.keyed).where(
            *self._where(kind, external_id, record_id)
        )
        async with self._sessions() as session:
            row = (await session.execute(query)).first()
        return Claim(row.object_id, row.created_at, row.keyed) if row else None

    async def claim(self, kind: str, external_id: str, record_id: str, keyed: bool) -> None:
        """Write the claim before a create, or restamp a pending one as the create is re-sent.

        Its time is when the latest create was sent: an unsure create is looked up by search only
        once HubSpot's search index has had time to show it (counted from that moment). ``keyed``
        says whether that create carries the unique key it can be read back by.
        """
        now = self._clock()
        values: dict[str, Any] = {**self._key(kind, external_id, record_id), "keyed": keyed}
        values |= {"object_id": None, "created_at": now}
        async with self._sessions.begin() as session:
            if not await insert_ignore(session, hubspot_objects, values):
                await session.execute(
                    update(hubspot_objects)
                    .where(
                        *self._where(kind, external_id, record_id),
                        hubspot_objects.c.object_id.is_(None),
                    )
                    .values(created_at=now, keyed=keyed)
                )

    async def save(self, kind: str, external_id: str, record_id: str, object_id: str) -> None:
        """Complete the claim with the created (or found) object's id."""
        values = {**self._key(kind, external_id, record_id), "object_id": object_id}
        async with self._sessions.begin() as session:
            if not await insert_ignore(
                session, hubspot_objects, {**values, "created_at": self._clock()}
            ):
                await session.execute(
                    update(hubspot_objects)
                    .where(*self._where(kind, external_id, record_id))
                    .values(object_id=object_id)
                )

    async def drop(self, kind: str, external_id: str, record_id: str) -> None:
        """Drop a pending claim whose create was refused: nothing was made."""
        async with self._sessions.begin() as session:
            await session.execute(
                delete(hubspot_objects).where(
                    *self._where(kind, external_id, record_id),
                    hubspot_objects.c.object_id.is_(None),
                )
            )

    async def records_with(self, kind: str, record_ids: set[str]) -> set[str]:
        """Return which of ``record_ids`` we created (or started creating) a ``kind`` on."""
        table = hubspot_objects
        query = select(table.c.record_id).where(
            table.c.integration_id == self._integration_id,
            table.c.kind == kind,
            table.c.record_id.in_(sorted(record_ids)),
        )
        async with self._sessions() as session:
            return {row.record_id for row in await session.execute(query)}
