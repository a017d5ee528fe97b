"""What the HubSpot connector remembers in Callbridge's database: lookups and written objects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callbridge.connectors.hubspot.tables import hubspot_objects, hubspot_phone_cache
from callbridge.storage import driver, units
from callbridge.storage.sql import ignoring_insert, upsert

Sessions = async_sessionmaker[AsyncSession]


class PhoneCache:
    """Phone → records found, per integration, so a busy number costs no search per call."""

    def __init__(
        self, sessions: Sessions, integration_id: str, clock: Callable[[], datetime], ttl: float
    ) -> None:
        self._sessions = sessions
        self._engine: AsyncEngine = sessions.kw["bind"]
        self._integration_id = integration_id
        self._clock = clock
        self._ttl = timedelta(seconds=ttl)

    async def get(self, phone: str) -> list[dict[str, Any]] | None:
        """Return the cached records of ``phone`` if still fresh."""
        key = {"integration_id": self._integration_id, "phone": phone}
        row = await units.read(
            self._engine, lambda conn: driver.execute(conn, _CACHED, key).first()
        )
        if row is None or self._clock() - row.cached_at > self._ttl:
            return None
        return list(row.records)

    async def put(self, phone: str, records: list[dict[str, Any]]) -> None:
        """Remember the records found for ``phone`` (with the sync's next write, in a sync).

        A lost entry costs a search, never a duplicate: a contact created under a claim is
        found by the claim (``sync.writes``) until HubSpot's search shows it.
        """
        row = self._row(phone, records, self._clock())
        await units.later(
            self._engine, lambda conn: upsert(conn, hubspot_phone_cache, row, _CACHE_KEYS)
        )

    async def add(self, phone: str, record: dict[str, Any]) -> None:
        """Add a record to ``phone``'s fresh entry, or start one (with the sync's next write).

        The entry is read in the transaction that writes it, not in a unit of its own before:
        what another lookup cached meanwhile is kept, and a created contact costs no read.
        """
        key = {"integration_id": self._integration_id, "phone": phone}
        now = self._clock()

        def work(conn: Connection) -> None:
            row = driver.execute(conn, _CACHED, key).first()
            fresh = row is not None and now - row.cached_at <= self._ttl
            known = list(row.records) if fresh else []
            if record["id"] in {item["id"] for item in known}:
                return
            upsert(conn, hubspot_phone_cache, self._row(phone, [*known, record], now), _CACHE_KEYS)

        await units.later(self._engine, work)

    def _row(self, phone: str, records: list[dict[str, Any]], at: datetime) -> dict[str, Any]:
        """Return the cache row of ``phone``'s ``records``, cached at ``at``."""
        return {
            "integration_id": self._integration_id,
            "phone_e164": phone,
            "records": records,
            "cached_at": at,
        }


@dataclass(frozen=True)
class Claim:
    """A claim row: the object's HubSpot id once known, and when its create was last sent."""

    object_id: str | None
    created_at: datetime
    keyed: bool = False  # the create was sent with the unique callbridge_key


class WrittenObjects:
    """The claim rows of objects we create: pending before the create, with the id after it.

    Each read and write is one unit of work (``storage.units``), its statement built once; an
    id saved during a sync rides with the sync's next unit.
    """

    def __init__(self, sessions: Sessions, integration_id: str, clock: Callable[[], datetime]):
        self._sessions = sessions
        self._engine: AsyncEngine = sessions.kw["bind"]
        self._integration_id = integration_id
        self._clock = clock

    def _pending(self, key: dict[str, Any], keyed: bool) -> dict[str, Any]:
        """Return the row of a pending claim at ``key``, stamped now."""
        return {**key, "keyed": keyed, "object_id": None, "created_at": self._clock()}

    def _key(self, kind: str, external_id: str, record_id: str) -> dict[str, Any]:
        return {
            "integration_id": self._integration_id,
            "kind": kind,
            "external_id": external_id,
            "record_id": record_id,
        }

    async def get(self, kind: str, external_id: str, record_id: str) -> Claim | None:
        """Return the claim of an object: its HubSpot id, or None while its create is unsure."""
        key = self._key(kind, external_id, record_id)
        bound = _bound(key)
        row = await units.read(
            self._engine, lambda conn: driver.execute(conn, _CLAIM, bound).first()
        )
        return _claim_of(row)

    async def claim_new(
        self, kind: str, external_id: str, record_id: str, keyed: bool
    ) -> Claim | None:
        """Write the claim of a first create and return None; else return the claim found.

        One unit instead of a read then a write: the object's first create (by far the most
        common) finds no claim. A claim found is left as it is, its object's id or an unsure
        create to recover (then restamped by :meth:`claim` before the create is sent again).
        """
        key = self._key(kind, external_id, record_id)
        values = self._pending(key, keyed)

        def work(conn: Connection) -> Claim | None:
            if _inserted(conn, values):
                return None
            return _claim_of(driver.execute(conn, _CLAIM, _bound(key)).first())

        return await units.write(self._engine, work)

    async def claim(self, kind: str, external_id: str, record_id: str, keyed: bool) -> None:
        """Write the claim before a create, or restamp a pending one as the create is re-sent.

        Its time is when the latest create was sent: an unsure create is looked up by search only
        once HubSpot's search index has had time to show it (counted from that moment). ``keyed``
        says whether that create carries the unique key it can be read back by.
        """
        values = self._pending(self._key(kind, external_id, record_id), keyed)

        def work(conn: Connection) -> None:
            if not _inserted(conn, values):
                driver.execute(conn, _RESTAMP, _bound(values))

        await units.write(self._engine, work)

    async def save(self, kind: str, external_id: str, record_id: str, object_id: str) -> None:
        """Complete the claim with the created (or found) object's id.

        In a sync it is written with the sync's next transaction (``units.later``): if the run
        stops first, the claim stays without its id, and a retry looks the object up by its
        unique key (or search) instead of creating it again. The claim row exists (written
        before the create, or read before the recovery): one ``UPDATE``, and an insert only if
        it is gone.
        """
        key = self._key(kind, external_id, record_id)
        values = {**key, "object_id": object_id, "created_at": self._clock(), "keyed": False}

        def work(conn: Connection) -> None:
            bound = _bound(values)
            if driver.execute(conn, _SAVE, bound).rowcount == 0 and not _inserted(conn, values):
                driver.execute(conn, _SAVE, bound)  # written meanwhile

        await units.later(self._engine, work)

    async def drop(self, kind: str, external_id: str, record_id: str) -> None:
        """Drop a pending claim whose create was refused: nothing was made."""
        key = self._key(kind, external_id, record_id)
        bound = _bound(key)
        await units.write(self._engine, lambda conn: conn.execute(_DROP, bound))

    async def records_with(self, kind: str, record_ids: set[str]) -> set[str]:
        """Return which of ``record_ids`` we created (or started creating) a ``kind`` on."""
        key = {"integration_id": self._integration_id, "kind": kind, "ids": sorted(record_ids)}
        rows = await units.read(self._engine, lambda conn: conn.execute(_WITH, key).all())
        return {row.record_id for row in rows}


_CACHE_KEYS = ("integration_id", "phone_e164")
_CACHED = select(hubspot_phone_cache.c.records, hubspot_phone_cache.c.cached_at).where(
    hubspot_phone_cache.c.integration_id == bindparam("integration_id"),
    hubspot_phone_cache.c.phone_e164 == bindparam("phone"),
)
# Bound as ``b_<column>``: an UPDATE may not bind a parameter named after one of its columns.
_OBJECT = [
    hubspot_objects.c[name] == bindparam(f"b_{name}")
    for name in ("integration_id", "kind", "external_id", "record_id")
]
_CLAIM = select(
    hubspot_objects.c.object_id, hubspot_objects.c.created_at, hubspot_objects.c.keyed
).where(*_OBJECT)
_PENDING = hubspot_objects.c.object_id.is_(None)
_RESTAMP = (
    update(hubspot_objects)
    .where(*_OBJECT, _PENDING)
    .values(created_at=bindparam("b_created_at"), keyed=bindparam("b_keyed"))
)
_SAVE = update(hubspot_objects).where(*_OBJECT).values(object_id=bindparam("b_object_id"))
_DROP = delete(hubspot_objects).where(*_OBJECT, _PENDING)
_WITH = select(hubspot_objects.c.record_id).where(
    hubspot_objects.c.integration_id == bindparam("integration_id"),
    hubspot_objects.c.kind == bindparam("kind"),
    hubspot_objects.c.record_id.in_(bindparam("ids", expanding=True)),
)


def _inserted(conn: Connection, values: dict[str, Any]) -> bool:
    """Insert a claim row unless one is at its key; say whether this one was written."""
    insert = ignoring_insert(hubspot_objects, conn.dialect.name)
    return driver.execute(conn, insert, values, tuple(values)).first() is not None


def _claim_of(row: Any) -> Claim | None:
    """Return the claim a ``_CLAIM`` row holds, or None for no row."""
    return Claim(row.object_id, row.created_at, row.keyed) if row else None


def _bound(values: dict[str, Any]) -> dict[str, Any]:
    """Return the values as the statements' ``b_`` parameters."""
    return {f"b_{name}": value for name, value in values.items()}
