"""Who is who in the CRM for one call: the agent's CRM user and the company's TOP manager."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, bindparam, select

from callbridge.connectors.base import Capability, Connector, supports
from callbridge.runtime import Runtime
from callbridge.storage import driver, sql, user_links
from callbridge.storage.tables import crm_user_links, users


@dataclass(frozen=True)
class People:
    """The CRM user ids a call's actions may be assigned to, and the names of the people."""

    agent_named: bool
    agent_crm_id: str | None
    agent_label: str
    top_manager_crm_id: str | None
    # The name of the employee linked to each CRM user id (the company's users directory).
    crm_names: Mapping[str, str] = field(default_factory=dict)

    @property
    def agent_mapped(self) -> bool | None:
        """Tell whether the agent is mapped (None: the call names no agent)."""
        return None if not self.agent_named else self.agent_crm_id is not None

    def name_of(self, crm_user_id: str) -> str | None:
        """Return the name of the employee linked to a CRM user; None when nobody is linked."""
        return self.crm_names.get(crm_user_id)


@dataclass(frozen=True)
class Directory:
    """The company's users as a sync needs them: TOP managers, names and links to CRM users."""

    top: list[str]
    names: dict[str, str]
    links: dict[str, dict[str, object]]


def load_directory(db: Connection, company_id: str, integration_id: str) -> Directory:
    """Read the company's TOP managers, user names and the integration's user links at once."""
    scope = {"company_id": company_id, "integration_id": integration_id}
    rows = driver.execute(db, _USERS, scope).all()
    top = [row.id for row in sorted(rows, key=lambda r: r.name) if row.role == "top_manager"]
    names = {row.id: row.name for row in rows}
    links = {
        row.id: dict(zip(_LINK_KEYS, row[3:], strict=True)) for row in rows if row[3] is not None
    }
    return Directory(top, names, links)


# Each of the company's users with its link in the integration, if it has one (the link's
# columns after the user's three).
_LINK_KEYS = tuple(column.key for column in crm_user_links.c)
_USERS = (
    select(
        users.c.id,
        users.c.name,
        users.c.role,
        *(column.label(f"link_{column.key}") for column in crm_user_links.c),
    )
    .select_from(
        users.outerjoin(
            crm_user_links,
            and_(
                crm_user_links.c.company_id == bindparam("company_id"),
                crm_user_links.c.integration_id == bindparam("integration_id"),
                crm_user_links.c.user_id == users.c.id,
            ),
        )
    )
    .where(users.c.company_id == bindparam("company_id"))
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
            directory = await sql.run(session, load_directory, company_id, integration_id)
    top, names, links = directory.top, directory.names, directory.links
    wanted = [user for user in (user_id, *top[:1]) if user]
    missing = [user for user in wanted if user not in links]
    now = runtime.clock()
    if (
        refresh
        and supports(connector, Capability.OWNERS)
        and _worth_listing(integration_id, missing, now)
    ):
        crm_users = await connector.list_users()
        async with runtime.sessions.begin() as session:
            await sql.run(
                session, user_links.link_by_email, company_id, integration_id, crm_users, now
            )
            links = await sql.run(session, user_links.links, company_id, integration_id)
        _remember_unmapped(integration_id, [user for user in missing if user not in links], now)
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
        crm_names=_names_by_crm_id(links, names),
    )


async def with_email_links(
    runtime: Runtime,
    company_id: str,
    integration_id: str,
    user_id: str | None,
    connector: Connector,
    directory: Directory | None = None,
) -> tuple[Directory, dict[str, str]]:
    """Return the directory with the links by e-mail a sync would make now, and those links.

    What :func:`resolve_for` with ``refresh`` would write (when it would read the CRM's users at
    all), computed without writing: explain shows the mapping the call's sync will make.
    """
    if directory is None:
        async with runtime.reads() as session:
            directory = await sql.run(session, load_directory, company_id, integration_id)
    links = dict(directory.links)
    missing = [user for user in (user_id, *directory.top[:1]) if user and user not in links]
    if not supports(connector, Capability.OWNERS) or not _worth_listing(
        integration_id, missing, runtime.clock()
    ):
        return directory, {}
    crm_users = await connector.list_users()
    async with runtime.reads() as session:
        employees = await sql.run(session, user_links.employee_emails, company_id)
    made: dict[str, str] = {}
    for employee, crm_id in user_links.by_email(employees, crm_users).items():
        link = links.get(employee)
        if link is None or (link["source"] != "manual" and link["crm_user_id"] != crm_id):
            links[employee] = {**(link or {}), "crm_user_id": crm_id, "source": "email"}
            made[employee] = crm_id
    return Directory(directory.top, directory.names, links), made


# Employees the CRM's user list did not contain, per (integration, user), and when it was read.
# Their next calls do not read the list again for a while: an agent without a CRM account would
# otherwise cost one request to the CRM on every call. A new employee, or a link made by hand,
# is not held back by this.
UNMAPPED_RETRY = timedelta(minutes=10)
_unmapped: dict[tuple[str, str], datetime] = {}


def _worth_listing(integration_id: str, missing: list[str], now: datetime) -> bool:
    """Tell whether some missing employee was not looked for in the CRM's list lately."""
    return any(
        now - _unmapped.get((integration_id, user), now - UNMAPPED_RETRY) >= UNMAPPED_RETRY
        for user in missing
    )


def _remember_unmapped(integration_id: str, users: list[str], now: datetime) -> None:
    if len(_unmapped) > 10_000:
        _unmapped.clear()
    for user in users:
        _unmapped[(integration_id, user)] = now


def _names_by_crm_id(links: dict[str, dict[str, object]], names: dict[str, str]) -> dict[str, str]:
    """Name each linked CRM user after its employee (the first by name, if several share it)."""
    named: dict[str, str] = {}
    for user_id in sorted(links, key=lambda user: (names.get(user) or "", user)):
        name = names.get(user_id)
        if name:
            named.setdefault(str(links[user_id]["crm_user_id"]), name)
    return named


def _crm_id(links: dict[str, dict[str, object]], user_id: str | None) -> str | None:
    link = links.get(user_id) if user_id else None
    return str(link["crm_user_id"]) if link else None
