"""Deals, tasks and notes of the local CRM, each idempotent on its external id."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callbridge.connectors.local.tables import crm_deals, crm_notes, crm_tasks
from callbridge.domain.crm_user import CrmUser
from callbridge.domain.deal import Deal, DealDraft
from callbridge.domain.task import NoteDraft, TaskDraft
from callbridge.storage import units
from callbridge.storage.tables import users

CLOSED_STAGES = frozenset({"won", "lost"})


class LocalFollowUps:
    """The local CRM's deals, tasks and notes for one integration."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        company_id: str,
        integration_id: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._engine: AsyncEngine = sessions.kw["bind"]
        self._scope = {"company_id": company_id, "integration_id": integration_id}
        self._clock = clock

    async def find_open_deal(self, record_id: str) -> Deal | None:
        """Return the record's most recently updated deal that is not won or lost."""
        query = (
            select(crm_deals)
            .where(
                *self._mine(crm_deals),
                crm_deals.c.record_id == record_id,
                crm_deals.c.stage.not_in(CLOSED_STAGES),
            )
            .order_by(crm_deals.c.updated_at.desc())
            .limit(1)
        )
        row = await units.read(self._engine, lambda db: db.execute(query).mappings().first())
        return _deal(row) if row else None

    async def create_deal(self, draft: DealDraft) -> Deal:
        """Create a deal for the record, or return the one already made for this external id."""
        now = self._clock()
        values = {
            "id": str(uuid.uuid4()),
            **self._scope,
            "record_id": draft.record_id,
            "name": draft.name,
            "owner": draft.owner,
            "stage": draft.stage or "new",
            "external_id": draft.external_id,
            "utm": {k: v for k, v in vars(draft.utm).items() if v} if draft.utm else None,
            "created_at": now,
            "updated_at": now,
        }
        query = select(crm_deals).where(
            *self._mine(crm_deals), crm_deals.c.external_id == draft.external_id
        )

        def create_once(db: Connection) -> Any:
            row = db.execute(query).mappings().first()
            if row is None:
                db.execute(insert(crm_deals), values)
                row = db.execute(query).mappings().one()
            return row

        return _deal(await units.write(self._engine, create_once))

    async def set_deal_owner(self, deal_id: str, owner: str) -> None:
        """Make ``owner`` the deal's responsible manager."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(crm_deals)
                .where(crm_deals.c.id == deal_id, *self._mine(crm_deals))
                .values(owner=owner, updated_at=self._clock())
            )

    async def create_task(self, draft: TaskDraft) -> str:
        """Create a task, or return the one already made for this external id."""
        existing = await self._by_external_id(crm_tasks, draft.external_id)
        if existing is not None:
            return str(existing["id"])
        return await self._insert(
            crm_tasks,
            {
                "record_id": draft.record_id,
                "deal_id": draft.deal_id,
                "title": f"{draft.title}\n{draft.body}".strip(),
                "assignee": draft.assignee,
                "due_at": draft.due_at,
                "external_id": draft.external_id,
                "created_at": self._clock(),
            },
        )

    async def add_note(self, draft: NoteDraft) -> str:
        """Add a note, or return the one already made for this external id."""
        existing = await self._by_external_id(crm_notes, draft.external_id)
        if existing is not None:
            return str(existing["id"])
        return await self._insert(
            crm_notes,
            {
                "record_id": draft.record_id,
                "deal_id": draft.deal_id,
                "body": draft.body,
                "external_id": draft.external_id,
                "created_at": self._clock(),
            },
        )

    async def list_users(self) -> list[CrmUser]:
        """Return the company's users: the local CRM's users are Callbridge's own."""
        query = select(users.c.id, users.c.email, users.c.name).where(
            users.c.company_id == self._scope["company_id"]
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [CrmUser(id=row.id, email=row.email, name=row.name) for row in rows]

    async def rows(self, table: Table) -> list[dict[str, Any]]:
        """Return every row of ``table`` for the integration, oldest first (API and tests)."""
        query = select(table).where(*self._mine(table))
        async with self._sessions() as session:
            result = await session.execute(query.order_by(table.c.created_at, table.c.id))
            return [dict(row) for row in result.mappings()]

    async def _by_external_id(self, table: Table, external_id: str) -> Any:
        query = select(table).where(*self._mine(table), table.c.external_id == external_id)
        async with self._sessions() as session:
            return (await session.execute(query)).mappings().first()

    def _mine(self, table: Table) -> list[Any]:
        """Name the company and the integration: every statement carries both."""
        return [table.c[name] == value for name, value in self._scope.items()]

    async def _insert(self, table: Table, values: dict[str, Any]) -> str:
        new_id = str(uuid.uuid4())
        async with self._sessions.begin() as session:
            await session.execute(insert(table).values(id=new_id, **self._scope, **values))
        return new_id


def _deal(row: Any) -> Deal:
    return Deal(
        id=row["id"],
        name=row["name"],
        owner=row["owner"],
        stage=row["stage"],
        is_open=row["stage"] not in CLOSED_STAGES,
        updated_at=row["updated_at"],
    )
