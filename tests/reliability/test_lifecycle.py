"""Process lifecycle for real (`python app.py serve` subprocesses): SIGTERM is graceful (exit 0, what is in
hand is finished and recorded, nothing new is taken, the rest is done after restart, once); a process
SIGKILLed right after Slack got its ack has the change in the database; secrets never reach the log."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import aiohttp
import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import func, select

from storage.db import create_engine
from storage.models import Engagement, OutboxMessage, Timer
from tests.reliability.cluster import (
    SIGNING_SECRET,
    ClusterSlackApi,
    Replica,
    seed_engagements,
    seed_notices,
    sqlite_database,
    wait_healthy,
)
from tests.standins.slack_api import WORKSPACE_ID


async def _status_counts(engine, model) -> dict:
    async with engine.connect() as conn:
        return dict((await conn.execute(select(model.status, func.count()).group_by(model.status))).all())


@pytest.mark.slow
async def test_sigterm_finishes_in_flight_work_exits_0_and_restart_does_the_rest_once(tmp_path):
    url = await sqlite_database(tmp_path / "cadence.db")
    api = await ClusterSlackApi().start()
    api.delay = 0.05
    engine = create_engine(url)
    rep = Replica(0, url, api.base_url, tmp_path)
    second = None
    try:
        targets = await seed_engagements(engine, 20)
        n = 200
        await seed_notices(engine, targets, n, datetime.now(UTC) - timedelta(seconds=1))
        rep.start()
        await wait_healthy([rep])
        await api.wait_received(10, timeout=60)
        rep.signal(signal.SIGTERM)
        started = time.monotonic()
        assert await rep.wait_exit(timeout=40) == 0, rep.log()[-2000:]
        took = time.monotonic() - started
        outbox = await _status_counts(engine, OutboxMessage)
        assert "sending" not in outbox, f"in-flight messages left unrecorded: {outbox}"
        assert outbox.get("sent", 0) == len(api.received()), "every message Slack accepted is recorded as sent"
        left = outbox.get("pending", 0) + (await _status_counts(engine, Timer)).get("pending", 0)
        assert left > 0, f"it did not stop taking work (took {took:.1f} s)"
        # A new process does the rest, exactly once.
        second = Replica(1, url, api.base_url, tmp_path).start()
        await wait_healthy([second])
        await api.wait_received(n, timeout=120)
        await asyncio.sleep(0.3)
        counts = api.counts()
        assert sorted(counts) == list(range(n)) and set(counts.values()) == {1}
        second.signal(signal.SIGTERM)
        assert await second.wait_exit(timeout=40) == 0
    finally:
        rep.close()
        if second is not None:
            second.close()
        await api.stop()
        await engine.dispose()


def signed_command(
    text: str, command: str = "/cadence", user: str = "UALICE", channel: str = "C0HOME"
) -> tuple[bytes, dict]:
    body = urlencode(
        {
            "token": "legacy",
            "team_id": WORKSPACE_ID,
            "team_domain": "t",
            "channel_id": channel,
            "channel_name": "acme",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0CADENCE",
            "response_url": "http://127.0.0.1:9/respond/x",
            "trigger_id": "trig.1",
        }
    )
    ts = str(int(time.time()))
    sig = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=body)
    return body.encode(), {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sig,
        "Content-Type": "application/x-www-form-urlencoded",
    }


@pytest.mark.slow
async def test_sigkill_right_after_the_slack_ack_keeps_the_change(tmp_path):
    url = await sqlite_database(tmp_path / "cadence.db")
    api = await ClusterSlackApi().start()
    api.users["UALICE"] = {"name": "alice", "tz": "UTC"}
    engine = create_engine(url)
    rep = Replica(0, url, api.base_url, tmp_path)
    try:
        rep.start()
        await wait_healthy([rep])
        body, headers = signed_command("setup ACME Acme portal")
        async with (
            aiohttp.ClientSession() as http,
            http.post(rep.url + "/slack/events", data=body, headers=headers) as resp,
        ):
            assert resp.status == 200
            rep.kill()  # the instant Slack has its ack
        await rep.wait_exit()
        async with engine.connect() as conn:
            found = await conn.scalar(select(func.count()).select_from(Engagement).where(Engagement.key == "ACME"))
        assert found == 1, "Slack got an ack for a change that is not in the database"
    finally:
        rep.close()
        await api.stop()
        await engine.dispose()


async def test_secrets_never_reach_the_log(tmp_path):
    """Serve with tokens set, do real work at DEBUG logging, and grep the output for every secret."""
    url = await sqlite_database(tmp_path / "cadence.db")
    api = await ClusterSlackApi().start()
    api.users["UALICE"] = {"name": "alice", "tz": "UTC"}
    api.fail_next(1, status=500, retry_after=None)  # a failure gets logged: it must not carry the token either
    secrets = {
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "MICROSOFT_APP_PASSWORD": "ms-app-password-s3cr3t",
        "SLACK_CLIENT_SECRET": "slack-client-secret-s3cr3t",
    }
    rep = Replica(
        0,
        url,
        api.base_url,
        tmp_path,
        LOG_LEVEL="DEBUG",
        MICROSOFT_APP_ID="00000000-aaaa-bbbb-cccc-000000000000",
        MICROSOFT_APP_PASSWORD=secrets["MICROSOFT_APP_PASSWORD"],
    )
    secrets["SLACK_BOT_TOKEN"] = rep.token
    try:
        rep.start()
        await wait_healthy([rep])
        body, headers = signed_command("setup ACME Acme portal")
        async with aiohttp.ClientSession() as http:
            async with http.post(rep.url + "/slack/events", data=body, headers=headers) as resp:
                assert resp.status == 200
            bad = dict(headers, **{"X-Slack-Signature": "v0=" + "0" * 64})
            async with http.post(rep.url + "/slack/events", data=body, headers=bad) as resp:
                assert resp.status == 401
            async with http.post(
                rep.url + "/api/messages",
                data=json.dumps({"type": "message"}),
                headers={"Content-Type": "application/json", "Authorization": "Bearer forged"},
            ) as resp:
                assert resp.status == 401
        deadline = time.monotonic() + 20
        while not api.calls_to("chat.postMessage", ok_only=True) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        rep.signal(signal.SIGTERM)
        await rep.wait_exit(timeout=40)
        log = rep.log()
        assert "DEBUG" in log and len(log) > 1000, "the log did not capture enough to prove anything"
        for name, secret in secrets.items():
            assert secret not in log, f"{name} appears in the log"
            assert secret[-12:] not in log, f"part of {name} appears in the log"
    finally:
        rep.close()
        await api.stop()


@pytest.mark.slow
async def test_teams_malformed_jwt_is_refused_with_401(tmp_path):
    url = await sqlite_database(tmp_path / "cadence.db")
    api = await ClusterSlackApi().start()
    rep = Replica(
        0,
        url,
        api.base_url,
        tmp_path,
        MICROSOFT_APP_ID="00000000-aaaa-bbbb-cccc-000000000000",
        MICROSOFT_APP_PASSWORD="pw",
    )
    try:
        rep.start()
        await wait_healthy([rep])
        activity = {
            "type": "message",
            "text": "cadence setup ACME",
            "serviceUrl": "http://127.0.0.1:9/",
            "channelId": "msteams",
            "from": {"id": "29:x"},
            "conversation": {"id": "19:c"},
            "recipient": {"id": "28:bot"},
        }
        async with aiohttp.ClientSession() as http:
            for auth in ("", "Bearer forged", "Basic abc"):
                async with http.post(
                    rep.url + "/api/messages", json=activity, headers={"Authorization": auth} if auth else {}
                ) as resp:
                    assert resp.status == 401, (auth, resp.status)
        engine = create_engine(url)
        async with engine.connect() as conn:
            assert await conn.scalar(select(func.count()).select_from(Engagement)) == 0
        await engine.dispose()
    finally:
        rep.close()
        await api.stop()
