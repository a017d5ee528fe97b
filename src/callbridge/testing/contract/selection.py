"""Which suites a connector must pass, chosen from what it declares; its test class, built."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from callbridge.connectors.base import Capability
from callbridge.testing.contract.ambiguous import AmbiguousCallContract, AmbiguousContactContract
from callbridge.testing.contract.core import ContactCreationContract, ContractSuite, CoreContract
from callbridge.testing.contract.followups import DealsContract, NotesContract, TasksContract
from callbridge.testing.contract.harness import ContractHarness, missing_hooks
from callbridge.testing.contract.records import (
    ActivityRemovalContract,
    OwnersContract,
    RecordLookupContract,
)

# Every suite, each selected when the connector declares all it ``requires``.
SUITES: tuple[type[ContractSuite], ...] = (
    CoreContract,
    AmbiguousCallContract,
    ContactCreationContract,
    AmbiguousContactContract,
    RecordLookupContract,
    DealsContract,
    TasksContract,
    NotesContract,
    OwnersContract,
    ActivityRemovalContract,
)


def contract_suites(capabilities: Iterable[Capability]) -> tuple[type[ContractSuite], ...]:
    """Return the suites a connector declaring ``capabilities`` must pass, in SUITES order."""
    declared = frozenset(capabilities)
    return tuple(suite for suite in SUITES if suite.requires <= declared)


def suites_of(test_class: type) -> tuple[type[ContractSuite], ...]:
    """Return the suites a test class runs, in SUITES order."""
    return tuple(suite for suite in SUITES if issubclass(test_class, suite))


class SelectionContract:
    """Part of every built test class: it runs what the connector declares, hooks and all."""

    async def test_runs_the_suites_its_connector_declares(self, harness: ContractHarness) -> None:
        """The class was built from the running connector's own declaration."""
        assert suites_of(type(self)) == contract_suites(harness.connector.capabilities)

    async def test_the_harness_has_every_hook_its_suites_use(
        self, harness: ContractHarness
    ) -> None:
        missing = {s.__name__: missing_hooks(harness, s.hooks) for s in suites_of(type(self))}
        assert {suite: hooks for suite, hooks in missing.items() if hooks} == {}


def contract_test_class(
    capabilities: Iterable[Capability], *, name: str = "TestConnectorContract"
) -> type[ContractSuite]:
    """Return a test class running every suite ``capabilities`` select, and no other.

    Assign it to a module-level ``Test…`` name beside a ``harness`` fixture; pytest collects it
    there. A capability not declared leaves its suite out of the class: nothing skips at run time.
    """
    bases = (*contract_suites(capabilities), SelectionContract)
    caller = sys._getframe(1).f_globals.get("__name__", __name__)
    doc = f"The connector contract for {', '.join(sorted(map(str, capabilities)))}."
    return type(name, bases, {"__module__": caller, "__qualname__": name, "__doc__": doc})
