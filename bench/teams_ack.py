"""Teams activity latency and throughput over real HTTP: message activities (`cadence whoami` in a 1:1
chat, `defect list` in a bound channel) at 1, 10 and 50 concurrent clients, p50/p95/p99 and requests per
second — Cadence (`python app.py serve`, Teams unauthenticated as for local testing) side by side with a
bare botbuilder bot that only replies (bench/bare_teams_bot.py), same run, same connector stand-in.
A Teams turn replies inside the request (to the serviceUrl), on both, so this latency includes that reply.

Two floors: `bare` is stock botbuilder (the target: Cadence at least half its throughput);
`bare_tuned` is the same bot with the transport fixes Cadence makes to botbuilder (msrest's retry-policy
cost, replies over a pooled session), so `…_vs_tuned_ratio` shows Cadence's own overhead alone.

    python bench/teams_ack.py --db sqlite|postgres [--scale 10] [--requests 300] [--no-tuned]
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import signal
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

from _common import ROOT, Database, emit, parser, run
from _load import closed_loop, report
from _serve import stop_and_report_errors
from slack_ack import _wait_up

from tests.reliability.cluster import ClusterSlackApi, Replica, free_port, wait_healthy
from tests.standins.bot_connector import BotConnectorStandIn

TENANT, BOT_ID = "tenant-bench", "28:cadence-bot"


def activity(service_url: str, user: int, text: str, *, channel: bool) -> dict:
    conv = (
        {"id": "19:bench@thread.tacv2", "conversationType": "channel", "tenantId": TENANT, "isGroup": True}
        if channel
        else {"id": f"a:dm-u{user}", "conversationType": "personal", "tenantId": TENANT}
    )
    data = {"tenant": {"id": TENANT}}
    if channel:
        data.update(team={"id": "19:team@thread.tacv2", "name": "Bench"}, channel={"id": conv["id"], "name": "bench"})
        text = f"<at>Cadence</at> {text}"
    return {
        "type": "message",
        "id": f"act-{uuid.uuid4().hex}",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "from": {"id": f"29:u{user}", "name": f"User {user}", "aadObjectId": f"aad-u{user}"},
        "recipient": {"id": BOT_ID, "name": "Cadence"},
        "conversation": conv,
        "channelData": data,
        "text": text,
        "textFormat": "plain",
        "locale": "en-US",
        "localTimezone": "Europe/Berlin",
        "entities": [{"type": "mention", "text": "<at>Cadence</at>", "mentioned": {"id": BOT_ID, "name": "Cadence"}}]
        if channel
        else [],
    }


async def main() -> None:
    p = parser(__doc__)
    p.add_argument("--requests", type=int, default=300)
    p.add_argument("--no-tuned", action="store_true", help="skip the tuned bare bot (a shorter run)")
    args = p.parse_args()
    total = max(args.requests // args.scale, 20)
    emit("db", args.db)
    emit("requests_per_run", total)
    emit("event_loop", "uvloop" if importlib.util.find_spec("uvloop") else "asyncio")  # both bots, as app.py
    async with Database(args.db, args.keep) as db:
        connector = await BotConnectorStandIn().start()
        api = await ClusterSlackApi().start()
        rep = Replica(
            0,
            db.url,
            api.base_url,
            Path(tempfile.mkdtemp(prefix="cadence-bench-")),
            SLACK_BOT_TOKEN="",
            SLACK_SIGNING_SECRET="",
            TEAMS_INSECURE_LOCAL="1",  # unauthenticated, as the bare bot; the connector stand-in is on loopback
        )
        floors = {"bare": []} if args.no_tuned else {"bare": [], "bare_tuned": ["--tuned"]}
        bare_procs, bare_urls = [], {}
        for name, extra in floors.items():
            port = free_port()
            bare_procs.append(
                subprocess.Popen(
                    [sys.executable, str(ROOT / "bench" / "bare_teams_bot.py"), str(port), *extra], cwd=ROOT
                )
            )
            bare_urls[name] = f"http://127.0.0.1:{port}"
        headers = {"Content-Type": "application/json"}
        try:
            rep.start()
            await wait_healthy([rep], timeout=120)
            for url in bare_urls.values():
                await _wait_up(url)
            # An engagement bound to the bench channel, set up the way a user would.
            for url in (rep.url,):
                await closed_loop(
                    url + "/api/messages",
                    lambda i: (
                        json.dumps(
                            activity(connector.service_url, 0, "cadence setup BENCH Bench project", channel=True)
                        ).encode(),
                        headers,
                    ),
                    concurrency=1,
                    total=1,
                )

            def dm(i: int):
                return json.dumps(
                    activity(connector.service_url, i % 50, "cadence whoami", channel=False)
                ).encode(), headers

            def channel(i: int):
                return json.dumps(activity(connector.service_url, 0, "defect list", channel=True)).encode(), headers

            targets = {**bare_urls, "cadence": rep.url}
            for target in targets.values():
                await closed_loop(target + "/api/messages", dm, concurrency=5, total=60)
            for kind, make in (("dm_whoami", dm), ("channel_defect_list", channel)):
                for c in (1, 10, 50):
                    rps = {}
                    for name, url in targets.items():
                        r = await closed_loop(url + "/api/messages", make, concurrency=c, total=total)
                        report(f"{kind}_c{c}_{name}", r)
                        rps[name] = r["rps"]
                        await asyncio.sleep(0.5)
                    emit(f"{kind}_c{c}_throughput_ratio", rps["cadence"] / rps["bare"])
                    if "bare_tuned" in rps:
                        emit(f"{kind}_c{c}_vs_tuned_ratio", rps["cadence"] / rps["bare_tuned"])
            emit("connector_calls", len(connector.calls))
        finally:
            await stop_and_report_errors(rep, show=3)
            rep.close()
            for proc in bare_procs:
                proc.send_signal(signal.SIGTERM)
                proc.wait(10)
            await connector.stop()
            await api.stop()


if __name__ == "__main__":
    run(main)
