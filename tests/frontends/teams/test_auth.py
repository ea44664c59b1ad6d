"""Teams is closed by default: off without credentials (unless TEAMS_INSECURE_LOCAL=1, which only ever calls
loopback service URLs), and with credentials every forged, expired, wrongly issued or wrongly signed token
is a 401 that changes nothing — checked against RSA keys generated here and served by a local OpenID
metadata + JWKS stand-in (tests/standins/bot_keys.py). Malformed activities are a 400, never a 500."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import aiohttp
import jwt
import pytest
from aiohttp import web
from sqlalchemy import func, select

from app import build_web_app
from bot.kernel.settings import Settings
from handlers.teams import auth as teams_auth_module
from storage.models import Identity, Person
from tests.frontends.teams.harness import TeamsHarness
from tests.standins.bot_keys import EMULATOR_ISSUER, BotKeysStandIn, new_key

APP_ID = "00000000-0000-0000-0000-0000000000aa"


@pytest.fixture
async def keys():
    stand_in = await BotKeysStandIn().start()
    yield stand_in
    await stand_in.stop()


@pytest.fixture
async def teams_keys(db_url, clock, probe_registry, keys):
    """The real app with an app id and password; tokens checked against the local key stand-in."""
    async with TeamsHarness.running(
        db_url,
        clock,
        registry=probe_registry,
        app_id=APP_ID,
        app_password="not-a-real-secret",
        metadata_url=keys.metadata_url,
    ) as harness:
        yield harness


async def people(harness) -> int:
    async with harness.core.session_factory() as s:
        return await s.scalar(select(func.count()).select_from(Person))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def forged_tokens(keys: BotKeysStandIn, service_url: str) -> dict[str, str]:
    now = int(time.time())
    claims = {"iss": "https://api.botframework.com", "aud": APP_ID, "serviceurl": service_url, "exp": now + 600}
    stranger = new_key()
    return {
        "forged HS256": jwt.encode(claims, "guessed-secret", algorithm="HS256", headers={"kid": keys.kid}),
        "alg none": jwt.encode(claims, None, algorithm="none", headers={"kid": keys.kid}),
        "RS256, unknown key": keys.token(APP_ID, service_url, key=stranger, kid="someone-elses-key"),
        "RS256, our kid, another key": keys.token(APP_ID, service_url, key=stranger),
        "expired": keys.token(APP_ID, service_url, issued_ago=7200, lifetime=3600),
        "not yet valid": keys.token(APP_ID, service_url, issued_ago=-3600),
        "emulator-issued": keys.token(APP_ID, service_url, issuer=EMULATOR_ISSUER),
        "another bot's audience": keys.token("11111111-0000-0000-0000-000000000000", service_url),
        "another serviceUrl": keys.token(APP_ID, "https://attacker.example/"),
        "garbage": "not.a.jwt",
    }


async def test_every_bad_token_is_a_401_that_changes_nothing(teams_keys, keys, caplog):
    asha = teams_keys.user("asha")
    activity = teams_keys.activity(asha, teams_keys.channel(), text="<at>Cadence</at> cadence setup ACME Acme")
    cases = {**forged_tokens(keys, teams_keys.connector.service_url), "missing": None}
    with caplog.at_level(logging.INFO):
        for name, token in cases.items():
            caplog.clear()
            r = await teams_keys.post(activity, headers=bearer(token) if token else {})
            assert r.status == 401, (name, r.status, r.body)
            lines = [rec for rec in caplog.records if rec.name.startswith("cadence")]
            assert len(lines) == 1 and not any(rec.exc_info for rec in caplog.records), (name, caplog.text)
    assert teams_keys.connector.calls == []
    assert await people(teams_keys) == 0


async def test_a_valid_token_is_accepted(teams_keys, keys):
    asha = teams_keys.user("asha")
    activity = teams_keys.activity(asha, teams_keys.personal(asha), text="cadence whoami")
    r = await teams_keys.post(activity, headers=bearer(keys.token(APP_ID, teams_keys.connector.service_url)))
    # The turn ran (the sender is a Cadence person now). Its reply needs an Azure AD token for the outbound
    # call, which no stand-in here issues; the inbound check is what this test is about.
    assert r.status == 200
    async with teams_keys.core.session_factory() as s:
        assert await s.scalar(select(func.count()).select_from(Identity).where(Identity.user_id == "aad-asha")) == 1


async def test_a_key_not_endorsed_for_the_channel_is_refused(teams_keys, keys):
    keys.endorsements = ["webchat"]
    asha = teams_keys.user("asha")
    activity = teams_keys.activity(asha, teams_keys.personal(asha), text="help")
    r = await teams_keys.post(activity, headers=bearer(keys.token(APP_ID, teams_keys.connector.service_url)))
    assert r.status == 401 and teams_keys.connector.calls == []


async def test_when_the_keys_cannot_be_fetched_no_token_is_accepted_and_the_log_says_so_once(teams_keys, keys, caplog):
    keys.available = False
    asha = teams_keys.user("asha")
    activity = teams_keys.activity(asha, teams_keys.personal(asha), text="help")
    token = keys.token(APP_ID, teams_keys.connector.service_url)
    with caplog.at_level(logging.WARNING, logger="cadence.teams"):
        started = time.monotonic()
        for _ in range(3):
            r = await teams_keys.post(activity, headers=bearer(token))
            assert r.status == 401
        assert time.monotonic() - started < teams_auth_module.FETCH_TIMEOUT_SECONDS + 2
    why = [rec for rec in caplog.records if "cannot fetch the Bot Framework signing keys" in rec.getMessage()]
    assert len(why) == 1 and "no token is accepted" in why[0].getMessage()
    assert teams_keys.connector.calls == [] and await people(teams_keys) == 0


async def test_an_unreachable_key_endpoint_is_a_bounded_wait(db_url, clock, probe_registry, monkeypatch):
    """A key server that never answers: the first request waits at most the fetch timeout, then 401."""
    monkeypatch.setattr(teams_auth_module, "FETCH_TIMEOUT_SECONDS", 0.5)

    async def hang(_request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.Response()

    app = web.Application()
    app.router.add_get("/meta", hang)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        async with TeamsHarness.running(
            db_url,
            clock,
            registry=probe_registry,
            app_id=APP_ID,
            app_password="x",
            metadata_url=f"http://127.0.0.1:{port}/meta",
        ) as harness:
            asha = harness.user("asha")
            keys = BotKeysStandIn()
            started = time.monotonic()
            r = await harness.post(
                harness.activity(asha, harness.personal(asha), text="help"),
                headers=bearer(keys.token(APP_ID, harness.connector.service_url)),
            )
            assert r.status == 401 and time.monotonic() - started < 3
    finally:
        await runner.cleanup()


# -- Teams off without credentials; local testing mode only calls loopback --------------------------------


async def test_without_an_app_id_teams_is_off(core, caplog):
    with caplog.at_level(logging.INFO, logger="cadence.teams"):
        app = build_web_app(core, Settings(database_url="sqlite:///unused.db"))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        async with aiohttp.ClientSession() as http:
            activity = {"type": "message", "text": "help", "serviceUrl": "http://169.254.169.254/", "from": {"id": "x"}}
            async with http.post(f"http://127.0.0.1:{port}/api/messages", json=activity) as resp:
                assert resp.status == 404
    finally:
        await runner.cleanup()
    said = [rec.getMessage() for rec in caplog.records if rec.name == "cadence.teams"]
    assert len(said) == 1 and "off" in said[0] and "TEAMS_INSECURE_LOCAL" in said[0]


@pytest.mark.parametrize(
    "service_url", ["http://169.254.169.254/latest/", "https://attacker.example/", "file:///etc/passwd", ""]
)
async def test_local_testing_mode_refuses_a_service_url_that_is_not_loopback(teams, service_url):
    asha = teams.user("asha")
    r = await teams.post(teams.activity(asha, teams.personal(asha), text="help", serviceUrl=service_url))
    assert r.status == 403 and teams.connector.calls == []
    assert await people(teams) == 0


BAD_ACTIVITIES = {
    "bad timestamp": {"timestamp": "yesterday-ish"},
    "timestamp a number": {"timestamp": 12},
    "from a string": {"from": "29:asha"},
    "entities not a list": {"entities": {"type": "mention"}},
    "entities of strings": {"entities": ["mention"]},
    "conversation a list": {"conversation": ["a"]},
    "text a number": {"text": 42},
    "channelData a string": {"channelData": "tenant"},
    "tenant a string": {"channelData": {"tenant": "t"}},
    "membersAdded not a list": {"type": "conversationUpdate", "membersAdded": "all"},
    "no type": {"type": None},
}


@pytest.mark.parametrize("name", sorted(BAD_ACTIVITIES))
async def test_a_malformed_activity_is_a_400(teams, name, caplog):
    asha = teams.user("asha")
    activity = teams.activity(asha, teams.personal(asha), text="help")
    activity.update(BAD_ACTIVITIES[name])
    with caplog.at_level(logging.INFO):
        r = await teams.post(activity)
    assert r.status == 400, (name, r.status, r.body)
    assert not any(rec.exc_info for rec in caplog.records) and "Traceback" not in caplog.text
    assert teams.connector.calls == [] and await people(teams) == 0


async def test_a_body_that_is_not_json_is_a_400(teams):
    async with aiohttp.ClientSession() as http:
        for raw in (b"\xff\xfe garbage", b"null", b"[1, 2]", b'{"type": '):
            async with http.post(teams.url, data=raw, headers={"Content-Type": "application/json"}) as resp:
                assert resp.status == 400, raw
                assert "error" in json.loads(await resp.text())
