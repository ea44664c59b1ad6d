"""@mentions to a real `python app.py serve`, SIGKILLed the instant the last HTTP 200 arrived: after a restart
every mention Slack got a 200 for is applied exactly once (Slack does not redeliver an acknowledged event,
so one lost here is gone). And a signed request replayed to another replica is not applied again."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import func, select

from storage.db import create_engine
from storage.models.defects import Defect
from storage.models.slack_inbox import SlackInboxItem
from tests.conftest import require_pg
from tests.reliability.cluster import (
    SIGNING_SECRET,
    ClusterSlackApi,
    Replica,
    drop_pg_database,
    fresh_pg_database,
    sqlite_database,
    wait_healthy,
)
from tests.reliability.test_slack_inbox_restart import signed_command
from tests.standins.slack_api import WORKSPACE_ID

BURST = 20


def signed(body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=body),
        "Content-Type": "application/json",
    }


def mention(n: int) -> str:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": WORKSPACE_ID,
            "api_app_id": "A0CADENCE",
            "type": "event_callback",
            "event_id": f"EvKILL{n:04d}",
            "event_time": int(time.time()),
            "event": {
                "type": "app_mention",
                "channel": "C0HOME",
                "user": "UALICE",
                "text": f"<@UBOT0001> defect s3 Mention {n}",
                "ts": f"{time.time():.6f}",
            },
        }
    )


async def _count(engine, model) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(model))


async def _database(kind: str, tmp_path) -> str:
    if kind == "postgres":
        require_pg()
        return await fresh_pg_database("cadence_events")
    return await sqlite_database(tmp_path / "cadence.db")


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_sigkill_after_the_200_of_mentions_loses_none(tmp_path, kind):
    url = await _database(kind, tmp_path)
    api = await ClusterSlackApi().start()
    api.users["UALICE"] = {"name": "alice", "tz": "UTC"}
    engine = create_engine(url)
    first = Replica(0, url, api.base_url, tmp_path)
    second = None
    try:
        first.start()
        await wait_healthy([first])
        async with aiohttp.ClientSession() as http:
            body, headers = signed_command(api, "/cadence", "setup ACME Acme portal", 0)
            async with http.post(first.url + "/slack/events", data=body, headers=headers) as resp:
                assert resp.status == 200

            async def send(n: int) -> int:
                body = mention(n)
                async with http.post(first.url + "/slack/events", data=body, headers=signed(body)) as resp:
                    return resp.status

            statuses = await asyncio.gather(*(send(n) for n in range(1, BURST + 1)))
            first.kill()  # the instant the last 200 arrived
        assert statuses == [200] * BURST
        await first.wait_exit()
        left = await _count(engine, SlackInboxItem)
        done = await _count(engine, Defect)
        assert left > 0, "nothing was left in the inbox: the restart path was not exercised"
        assert left + done == BURST, f"{BURST} mentions got a 200, but {done} are filed and {left} in the inbox"

        second = Replica(1, url, api.base_url, tmp_path).start()
        await wait_healthy([second])
        deadline = time.monotonic() + 60
        while await _count(engine, SlackInboxItem):
            assert time.monotonic() < deadline, "the inbox was not emptied after the restart"
            await asyncio.sleep(0.1)
        async with engine.connect() as conn:
            titles = sorted(await conn.scalars(select(Defect.title)))
        assert titles == sorted(f"Mention {n}" for n in range(1, BURST + 1)), "lost or doubled"
    finally:
        first.close()
        if second is not None:
            second.close()
        await api.stop()
        await engine.dispose()
        if kind == "postgres":
            await drop_pg_database(url)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_a_signed_request_replayed_to_another_replica_is_not_applied(tmp_path, kind):
    url = await _database(kind, tmp_path)
    api = await ClusterSlackApi().start()
    api.users["UALICE"] = {"name": "alice", "tz": "UTC"}
    engine = create_engine(url)
    replicas = [Replica(i, url, api.base_url, tmp_path) for i in range(2)]
    try:
        for r in replicas:
            r.start()
        await wait_healthy(replicas)
        async with aiohttp.ClientSession() as http:
            body, headers = signed_command(api, "/cadence", "setup ACME Acme portal", 0)
            async with http.post(replicas[0].url + "/slack/events", data=body, headers=headers) as resp:
                assert resp.status == 200
            body, headers = signed_command(api, "/defect", "s1 Checkout is down", 1)
            for r in (*replicas, *replicas):
                async with http.post(r.url + "/slack/events", data=body, headers=headers) as resp:
                    assert resp.status == 200
        deadline = time.monotonic() + 20
        while await _count(engine, Defect) < 1:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # anything applied twice would be there by now
        assert await _count(engine, Defect) == 1
        for r in replicas:
            assert "Traceback" not in r.log()
    finally:
        for r in replicas:
            r.close()
        await api.stop()
        await engine.dispose()
        if kind == "postgres":
            await drop_pg_database(url)
