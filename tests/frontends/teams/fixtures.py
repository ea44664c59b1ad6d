"""Fixtures of the Teams end-to-end tests; `tests/frontends/conftest.py` makes them available to every test there."""

from __future__ import annotations

import pytest

from bot.bootstrap import default_registry
from tests.frontends.probe_feature import Probe
from tests.frontends.teams.harness import TeamsHarness


@pytest.fixture
def teams_probe() -> Probe:
    return Probe()


@pytest.fixture
def probe_registry(teams_probe: Probe):
    """Every real feature plus the test-only probe feature (a form with every input kind, an approval card)."""
    registry = default_registry()
    teams_probe.register(registry)
    return registry


@pytest.fixture
async def teams(any_db_url: str, clock, probe_registry):
    """The real app with Teams unauthenticated (no app id), on SQLite and (when reachable) PostgreSQL."""
    async with TeamsHarness.running(any_db_url, clock, registry=probe_registry) as harness:
        yield harness


@pytest.fixture
async def teams_auth(db_url: str, clock, probe_registry):
    """The real app with a Microsoft app id and password configured: JWT validation on."""
    async with TeamsHarness.running(
        db_url,
        clock,
        registry=probe_registry,
        app_id="00000000-0000-0000-0000-0000000000aa",
        app_password="not-a-real-secret",
    ) as harness:
        yield harness
