"""Fixtures of the end-to-end tests: the Slack Web API stand-in and the harness around the real app."""

from __future__ import annotations

import pytest

from tests.frontends.probe_feature import Probe
from tests.frontends.slack.harness import SlackHarness

# The Teams fixtures, re-exported so that every test here can use them without importing them.
from tests.frontends.teams.fixtures import probe_registry as probe_registry
from tests.frontends.teams.fixtures import teams as teams
from tests.frontends.teams.fixtures import teams_auth as teams_auth
from tests.frontends.teams.fixtures import teams_probe as teams_probe
from tests.standins.slack_api import SlackApiStandIn


@pytest.fixture
async def slack_api():
    api = await SlackApiStandIn().start()
    yield api
    await api.stop()


@pytest.fixture
def probe(core) -> Probe:
    """The test-only probe feature, registered on this test's core."""
    p = Probe()
    p.register(core.registry)
    return p


@pytest.fixture
async def slack(core, slack_api, probe):
    """The real web app (app.build_web_app) with Slack on, driven over HTTP; Web API → stand-in."""
    harness = await SlackHarness(core, slack_api).start()
    yield harness
    await harness.stop()
