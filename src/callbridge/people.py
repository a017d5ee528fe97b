"""Who is who in the CRM for one call: the agent's CRM user and the company's TOP manager."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select

from callbridge.connectors.base import Capability, Connector, SupportsOwners
from callbridge.runtime import Runtime
from callbridge.storage import user_links
from callbridge.storage.sql import Executes
from callbridge.storage.tables import users


@dataclass(frozen=True)
class People:
    """The CRM user ids a call's actions may be assigned to, and the agent's name."""

    agent_named: bool
    agent_crm_id: str | None
    agent_label: str
    top_manager_crm_id: str | None

    @property
    def agent_mapped(self) -> bool | None:
        """Tell whether the agent is mapped (None: the call names no agent)."""
        return None if not self.agent_named else self.agent_crm_id is not None


@dataclass(frozen=True)
class Directory:
    """The company's users as a sync needs them: TOP managers, names and links to CRM users."""

    top: list[str]
    names: dict[str, str]
    links: dict[str, dict[str, object]]


def load_directory(session: Executes, company_id: str, integration_id: str) -> Directory:
    """Read the company's TOP managers, user names and the integration's user links."""
    rows = session.execute(_USERS, {"company_id": company_id}).all()
    top = [row.id for row in sorted(rows, key=lambda r: r.name) if row.role == "top_manager"]
    names = {row.id: row.name for row in rows}
    return Directory(top, names, user_links.links(session, integration_id))


_USERS = select(users.c.id, users.c.name, users.c.role).where(
    users.c.company_id == bindparam("company_id")
)


async def resolve_for(
    runtime: Runtime,
    company_id: str,
    integration_id: str,
    user_id: str | None,
    agent: dict[str, str] | None,
    connector: Connector,
    *,
    refresh: bool,
    directory: Directory | None = None,
) -> People:
    """Map an agent (a user id or None) and the TOP manager; ``refresh`` may write links."""
    if directory is None:
        async with runtime.reads() as session:
            directory = await session.run_sync(load_directory, company_id, integration_id)
    top, names, links = directory.top, directory.names, directory.links
    wanted = [user for user in (user_id, *top[:1]) if user]
    if refresh and any(user not in links for user in wanted) and _lists_users(connector):
        assert isinstance(connector, SupportsOwners)
        crm_users = await connector.list_users()
        async with runtime.sessions.begin() as session:
            await user_links.link_by_email(
                session, company_id, integration_id, crm_users, runtime.clock()
            )
            links = await session.run_sync(user_links.links, integration_id)
    agent = agent or {}
    label = (
        (names.get(user_id) if user_id else None)
        or agent.get("name")
        or agent.get("email")
        or (agent.get("extension") or agent.get("id") or "nobody")
    )
    return People(
        agent_named=bool(agent),
        agent_crm_id=_crm_id(links, user_id),
        agent_label=str(label),
        top_manager_crm_id=next((_crm_id(links, u) for u in top if u in links), None),
    )


def _lists_users(connector: Connector) -> bool:
    return Capability.OWNERS in connector.capabilities and isinstance(connector, SupportsOwners)


def _crm_id(links: dict[str, dict[str, object]], user_id: str | None) -> str | None:
    link = links.get(user_id) if user_id else None
    return str(link["crm_user_id"]) if link else None
