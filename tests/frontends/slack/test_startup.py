"""Start-up: Slack off without credentials; on while the Web API is unreachable (it logs, retries and
serves /healthz); multi-workspace install through OAuth with the installation stored in our database."""

from __future__ import annotations

import asyncio
import re
import socket
from urllib.parse import parse_qs, urlparse

import aiohttp
from aiohttp import web
from sqlalchemy import text

from bot.kernel.settings import Settings
from handlers.slack import app as slack_app
from tests.frontends.probe_feature import Probe
from tests.frontends.slack.harness import HOME, SlackHarness
from tests.standins.slack_api import SlackApiStandIn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_slack_is_off_without_credentials(core, caplog):
    caplog.set_level("INFO", logger="cadence.slack")
    app = web.Application()
    assert slack_app.setup(core, Settings(), app) is None
    assert "slack" not in core.messengers
    assert next(r.message for r in caplog.records if r.name == "cadence.slack").startswith("slack: off")
    assert not any(r.resource.canonical == "/slack/events" for r in app.router.routes())


async def test_starts_and_serves_health_while_the_api_is_unreachable(core, caplog):
    caplog.set_level("WARNING", logger="cadence.slack")
    port = free_port()
    api = SlackApiStandIn()
    api.port = port  # nothing listens there yet
    slack = await SlackHarness(core, api).start()
    try:
        async with aiohttp.ClientSession() as s, s.get(slack.url + "/healthz") as resp:
            assert resp.status == 200 and "SlackFrontEnd" in await resp.text()
        r = await slack.command("alice", "/cadence help")
        assert r.status in (200, 503)  # Slack retries or shows its own error; we did not crash
        for _ in range(100):  # the background token check logs that it will retry
            if any("not reachable" in r.message for r in caplog.records):
                break
            await asyncio.sleep(0.05)
        assert any("not reachable" in r.message for r in caplog.records)
        await api.start(port=port)  # the API comes back
        r = await slack.command("alice", "/cadence help")
        assert r.status == 200 and "/cadence" in slack.last_private("alice")
        for _ in range(150):  # the background token check retried and succeeded
            if slack.frontend.bot_user_id:
                break
            await asyncio.sleep(0.1)
        assert slack.frontend.bot_user_id == "UBOT0001"
    finally:
        await slack.stop()
        await api.stop()


async def test_oauth_install_stores_the_workspace_and_its_token_is_used(core, slack_api):
    Probe().register(core.registry)
    db_url = core.engine.url.render_as_string(hide_password=False)
    slack = await SlackHarness(core, slack_api).start(
        slack_bot_token=None, slack_client_id="111.222", slack_client_secret="oauth-secret", database_url=db_url
    )
    try:
        async with aiohttp.ClientSession() as s:
            async with s.get(slack.url + "/slack/install", allow_redirects=False) as resp:
                page = await resp.text()
                assert resp.status in (200, 302)
                cookie = resp.cookies["slack-app-oauth-state"].value  # Secure: sent back by hand over http
            link = resp.headers.get("Location") or re.search(r'href="([^"]+oauth/v2/authorize[^"]+)"', page).group(1)
            query = parse_qs(urlparse(link.replace("&amp;", "&")).query)
            assert "commands" in query["scope"][0] and query["client_id"] == ["111.222"]
            state = query["state"][0]
            async with s.get(
                slack.url + f"/slack/oauth_redirect?code=c0de&state={state}",
                headers={"Cookie": f"slack-app-oauth-state={cookie}"},
            ) as resp:
                assert resp.status == 200, await resp.text()
        async with core.engine.connect() as conn:
            token = (
                await conn.execute(text("SELECT bot_token FROM slack_bots WHERE team_id = :t"), {"t": slack.team})
            ).scalar()
        assert token == "xoxb-installed-token"
        await slack.command("alice", "/cadence setup ACME Acme portal")
        post = slack_api.last("chat.postMessage")
        assert post.headers["Authorization"] == "Bearer xoxb-installed-token"
        assert slack.posts(HOME) and "ACME" in slack.posts(HOME)[-1]["text"]
    finally:
        await slack.stop()


async def test_socket_mode_is_used_when_an_app_token_is_set(core, slack_api, monkeypatch):
    """Same handlers, no HTTP route needed: the handler connects in the background and never blocks start."""
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

    connected = asyncio.Event()
    apps = []

    async def fake_connect(self):
        apps.append(self.app)
        connected.set()

    monkeypatch.setattr(AsyncSocketModeHandler, "connect_async", fake_connect)
    monkeypatch.setattr(AsyncSocketModeHandler, "close_async", lambda self: asyncio.sleep(0))
    slack = await SlackHarness(core, slack_api).start(slack_app_token="xapp-1-test", slack_signing_secret=None)
    try:
        await asyncio.wait_for(connected.wait(), 5)
        assert apps == [slack.frontend.bolt]
        assert not any(r.resource.canonical == "/slack/events" for r in slack.web_app.router.routes())
        assert core.messengers["slack"] is slack.frontend.messenger
    finally:
        await slack.stop()
