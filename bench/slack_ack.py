"""Slack ack latency and throughput over real HTTP with signed requests: slash commands and button clicks
at 1, 10 and 50 concurrent clients, p50/p95/p99 and requests per second — Cadence (`python app.py serve`,
which also does the real work of each request) side by side with a bare slack-bolt AsyncApp that only acks
(bench/bare_slack_app.py), in the same run, against the same Slack stand-in. For Cadence also: how many
requests were answered (response_url or chat.update, after the work), the answered rate from the first
request to the last answer, and how long after the last ack the last answer came.

    python bench/slack_ack.py --db sqlite|postgres [--scale 10] [--requests 400]
                              [--kinds command,click] [--clients 1,10,50] [--profile FILE]
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from _common import ROOT, Database, emit, parser, run, seed_defects, seed_engagements, seed_people
from _load import closed_loop, report
from _serve import command_body, signed, stop_and_report_errors

from tests.reliability.cluster import SIGNING_SECRET, ClusterSlackApi, Replica, free_port, wait_healthy
from tests.standins.slack_api import WORKSPACE_ID


def click_body(user: str, channel: str, n: int, response_url: str) -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": WORKSPACE_ID},
        "api_app_id": "A0CADENCE",
        "token": "legacy",
        "team": {"id": WORKSPACE_ID, "domain": "bench"},
        "trigger_id": f"trig.click.{n}",
        "container": {
            "type": "message",
            "message_ts": "1800000001.000100",
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "channel": {"id": channel, "name": "bench"},
        "response_url": response_url,
        "message": {"type": "message", "ts": "1800000001.000100", "text": "", "blocks": []},
        "actions": [
            {
                "type": "button",
                "action_id": "defect.ack~0",
                "block_id": "b",
                "value": "1",
                "text": {"type": "plain_text", "text": "Acknowledge"},
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


class BareApp:
    def __init__(self, api_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "bare_slack_app.py"), str(self.port), api_url, SIGNING_SECRET],
            cwd=ROOT,
        )
        self.index = "bare"

    def close(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def main() -> None:
    p = parser(__doc__)
    p.add_argument("--requests", type=int, default=400, help="requests per kind and concurrency level")
    p.add_argument("--kinds", default="command,click", help="which kinds to run (comma-separated)")
    p.add_argument("--clients", default="1,10,50", help="concurrency levels (comma-separated)")
    p.add_argument(
        "--profile",
        metavar="FILE",
        help="sample the serve process with py-spy during each Cadence run (collapsed stacks, FILE.<run>)",
    )
    args = p.parse_args()
    total = max(args.requests // args.scale, 20)
    emit("db", args.db)
    emit("requests_per_run", total)
    emit("event_loop", "uvloop" if importlib.util.find_spec("uvloop") else "asyncio")  # both apps, as app.py
    async with Database(args.db, args.keep) as db:
        engine = db.engine()
        targets = await seed_engagements(engine, 1)
        people = await seed_people(engine, targets, 60, roles=["vendor_pm", "developer"])
        await seed_defects(engine, targets, 20, people)
        channel = targets[0][1]
        api = await ClusterSlackApi().start()
        rep = Replica(0, db.url, api.base_url, Path(tempfile.mkdtemp(prefix="cadence-bench-")))
        bare = BareApp(api.base_url)
        try:
            rep.start()
            await wait_healthy([rep], timeout=120)
            await _wait_up(bare.url)
            users = [f"UM{pid:07d}" for pid in people]

            def command(i: int) -> tuple[bytes, dict[str, str]]:
                body = command_body(
                    "whoami",
                    command="/cadence",
                    user=users[i % len(users)],
                    channel=channel,
                    n=i,
                    response_url=api.response_url(f"{users[i % len(users)]}.c{i}"),
                )
                return body.encode(), signed(body)

            def click(i: int) -> tuple[bytes, dict[str, str]]:
                user = users[i % len(users)]
                body = click_body(user, channel, i, api.response_url(f"{user}.k{i}"))
                return body.encode(), signed(body)

            def answers() -> list:
                return [call for call in api.calls if call.method in ("respond", "chat.update")]

            # Warm both up (bolt's auth.test, first-sight users, connection pools).
            for target in (rep.url, bare.url):
                await closed_loop(target + "/slack/events", command, concurrency=5, total=60)
            await asyncio.sleep(2)
            kinds = args.kinds.split(",")
            for kind, make in (("command", command), ("click", click)):
                if kind not in kinds:
                    continue
                for c in (int(n) for n in args.clients.split(",")):
                    rps = {}
                    for name, url in (("bare", bare.url), ("cadence", rep.url)):
                        before, started = len(answers()), time.monotonic()
                        spy = (
                            _profile(rep, f"{args.profile}.{kind}_c{c}") if args.profile and name == "cadence" else None
                        )
                        r = await closed_loop(url + "/slack/events", make, concurrency=c, total=total)
                        if spy is not None:  # the acks only, not the work that follows them
                            spy.send_signal(signal.SIGINT)
                            spy.wait(30)
                        report(f"{kind}_c{c}_{name}", r)
                        rps[name] = r["rps"]
                        if name == "cadence":
                            # Every request is answered (response_url or chat.update) once its work is done;
                            # the next run starts only when all are, so runs do not overlap.
                            done = await _answered(answers, before, total)
                            emit(f"{kind}_c{c}_cadence_answered", len(done))
                            if done:
                                last = max(call.at for call in done)
                                emit(f"{kind}_c{c}_cadence_answered_rps", len(done) / (last - started), "req/s")
                                emit(
                                    f"{kind}_c{c}_cadence_last_answer_after_last_ack",
                                    max(0.0, last - started - total / r["rps"]) * 1000,
                                    "ms",
                                )
                            await asyncio.sleep(0.5)
                    emit(f"{kind}_c{c}_throughput_ratio", rps["cadence"] / rps["bare"])
            emit("slack_responds", len(api.calls_to("respond")))
        finally:
            await stop_and_report_errors(rep, show=3)
            rep.close()
            bare.close()
            await api.stop()


def _profile(rep: Replica, path: str) -> subprocess.Popen:
    """py-spy sampling the serve process into `path` (collapsed stacks) until it gets SIGINT."""
    spy = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "py-spy"),
            "record",
            "--format",
            "raw",
            "--rate",
            "500",
            "-o",
            path,
            "--pid",
            str(rep.proc.pid),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)  # attaching takes a moment
    return spy


async def _answered(answers, before: int, total: int, timeout: float = 60) -> list:
    """The answers to one run, once all `total` arrived (or what came within `timeout`)."""
    deadline = time.monotonic() + timeout
    while len(answers()) - before < total and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return answers()[before:]


async def _wait_up(url: str, timeout: float = 60) -> None:
    import aiohttp

    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(url + "/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not come up")
            await asyncio.sleep(0.1)


if __name__ == "__main__":
    run(main)
