"""Two companies with a vendor source each, for the tests of a provider's contact lookup."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from callbridge.runtime import Runtime
from tests.telephony.lookup_tenants import Company, LookupSources, company_with_source


@pytest.fixture
async def acme(migrated_runtime: Runtime, lookup_sources: LookupSources) -> AsyncIterator[Company]:
    """The first company, with a source of the module's provider keyed ``acme_key``."""
    sources = lookup_sources
    async for made in company_with_source(
        migrated_runtime, "ACME", sources.provider, sources.acme_key
    ):
        yield made


@pytest.fixture
async def globex(
    migrated_runtime: Runtime, lookup_sources: LookupSources
) -> AsyncIterator[Company]:
    """A second company, with a source of the same provider keyed ``globex_key``."""
    sources = lookup_sources
    async for made in company_with_source(
        migrated_runtime, "Globex", sources.provider, sources.globex_key
    ):
        yield made
