"""A burst of slash commands to a real `python app.py serve`: most are acknowledged from the inbox (Cadence is
busy), the process is SIGKILLed the instant the last ack arrived, and a new process runs what was left —
every acknowledged command is done exactly once, and its answer reaches the response_url."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlencode

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
from tests.standins.slack_api import WORKSPACE_ID

BURST = 40


def signed_command(api: ClusterSlackApi, command: str, text: str, n: int) -> tuple[bytes, dict]:
    body = urlencode(
        {
            "token": "legacy",
            "team_id": WORKSPACE_ID,
            "team_domain": "t",
            "channel_id": "C0HOME",
            "channel_name": "acme",
            "user_id": "UALICE",
            "user_name": "alice",
            "command": command,
            "text": text,
            "api_app_id": "A0CADENCE",
            "response_url": api.response_url(f"burst{n}"),
            "trigger_id": f"trig.{n}",
        }
    )
    ts = str(int(time.time()))
    sig = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=body)
    return body.encode(), {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sig,
        "Content-Type": "application/x-www-form-urlencoded",
    }


async def _scalar(engine, statement):
    async with engine.connect() as conn:
        return await conn.scalar(statement)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_sigkill_after_a_burst_of_acks_every_command_done_once_after_restart(tmp_path, kind):
    if kind == "postgres":
        require_pg()
        url = await fresh_pg_database("cadence_inbox")
    else:
        url = await sqlite_database(tmp_path / "cadence.db")
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
                body, hdrs = signed_command(api, "/defect", f"s3 Burst {n}", n)
                async with http.post(first.url + "/slack/events", data=body, headers=hdrs) as resp:
                    return resp.status

            statuses = await asyncio.gather(*(send(n) for n in range(1, BURST + 1)))
            first.kill()  # the instant the last ack arrived
        assert statuses == [200] * BURST
        await first.wait_exit()
        left = await _scalar(engine, select(func.count()).select_from(SlackInboxItem))
        done = await _scalar(engine, select(func.count()).select_from(Defect))
        assert left > 0, "nothing was left in the inbox: the restart path was not exercised"
        assert left + done == BURST, f"acked {BURST}, but {done} done and {left} in the inbox"

        second = Replica(1, url, api.base_url, tmp_path).start()
        await wait_healthy([second])
        deadline = time.monotonic() + 60
        while await _scalar(engine, select(func.count()).select_from(SlackInboxItem)):
            assert time.monotonic() < deadline, "the inbox was not emptied after the restart"
            await asyncio.sleep(0.1)
        async with engine.connect() as conn:
            titles = list(await conn.scalars(select(Defect.title)))
        assert sorted(titles) == sorted(f"Burst {n}" for n in range(1, BURST + 1)), "lost or doubled"
        deadline = time.monotonic() + 30
        while len({c.body["rid"] for c in api.calls_to("respond") if c.body["rid"].startswith("burst")}) < left:
            assert time.monotonic() < deadline, "the restarted process did not answer what it ran"
            await asyncio.sleep(0.1)
    finally:
        first.close()
        if second is not None:
            second.close()
        await api.stop()
        await engine.dispose()
        if kind == "postgres":
            await drop_pg_database(url)
