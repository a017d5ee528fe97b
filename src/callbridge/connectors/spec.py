"""What a connector declares in one place: how it is built and which parts of Callbridge it owns.

Each connector package has a ``spec.py`` whose ``SPEC`` its ``callbridge.connectors`` entry point
names, as a Home Assistant integration has its manifest::

    SPEC = ConnectorSpec(
        key="acme",
        build=build,                                    # connector.py
        tables=tables,                                  # tables.py, if it keeps state
        migrations=Path(__file__).parent / "migrations",  # its Alembic revisions
        routers=routes.routers,                         # routes.py, if it serves an API
        fake="callbridge.connectors.acme.fake",         # its fake CRM server, for tests
        settings=AcmeConfig,                            # config.py: its settings' model
        credentials=AcmeCredentials,                    # and its credentials' (SecretStr: secret)
    )

The registry reads it; the runtime gathers every connector's tables and migration folders from
it; the API mounts its routers; the web UI renders the fields of its settings and credentials
from their models (a ``SecretStr`` field is a password field, never shown back). The connectors
room never imports the API: the API hands a connector's ``routers`` its two request dependencies
as a :class:`RouteHost`; field types and refusals come from :mod:`callbridge.web`, as for every
other route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from callbridge.connectors.base import ConnectorFactory
from callbridge.storage.accounts import Principal

if TYPE_CHECKING:  # only the type checker needs it: annotations are strings at run time
    from fastapi import APIRouter


@dataclass(frozen=True)
class RouteHost:
    """The API's request dependencies, handed to a connector's routes (``Depends(host.principal)``).

    ``principal`` authenticates the company API key and answers 401 or 403 as every route does;
    ``runtime`` returns the process runtime (its ``sessions``, ``reads`` and ``clock``).
    """

    principal: Callable[..., Awaitable[Principal]]
    runtime: Callable[..., Awaitable[Any]]


#: Build a connector's FastAPI routers with what the API hands them.
RouterFactory = Callable[[RouteHost], "Sequence[APIRouter]"]


@dataclass(frozen=True)
class ConnectorSpec:
    """A connector's manifest: its registry key, its factory, and the parts it owns, if any.

    ``tables`` is the module defining its tables on :data:`callbridge.storage.metadata.metadata`;
    ``migrations`` the folder of its Alembic revisions (searched as one of Alembic's
    ``version_locations``); ``routers`` builds its API routes; ``fake`` names the module of a fake
    of the CRM's API that its tests run against; ``settings`` and ``credentials`` the pydantic
    models of its integration's ``config`` and credentials, whose fields the UI's forms show.
    """

    key: str
    build: ConnectorFactory
    tables: ModuleType | None = None
    migrations: Path | None = None
    routers: RouterFactory | None = None
    fake: str | None = None
    settings: type[BaseModel] | None = None
    credentials: type[BaseModel] | None = None


def N_(text: str) -> str:
    """Mark a field's label or hint for the web UI's catalogs (docs/ui.md, "Languages").

    A spec lists its models' labels (the key, ``_`` as a space) and descriptions with it; the
    UI shows their translation where the catalogs have one, else the English as declared.
    """
    return text


def spec_of(key: str, loaded: Any) -> ConnectorSpec:
    """Return the spec an entry point loaded: a ``ConnectorSpec``, or a bare build function."""
    if isinstance(loaded, ConnectorSpec):
        if loaded.key != key:
            raise ValueError(f"entry point {key!r} names the spec of {loaded.key!r}")
        return loaded
    if callable(loaded):  # a connector that declares nothing but how it is built
        return ConnectorSpec(key=key, build=loaded)
    raise TypeError(f"entry point {key!r} is neither a ConnectorSpec nor a build function")
