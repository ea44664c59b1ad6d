"""Memory: peak RSS of one `python app.py serve` process holding an engagement load of 10,000 members
(every IANA zone), 100,000 pending timers and 1,000 open defects, while it fires 1,000 due timers and
answers slash commands (/defect list, /cadence members, /defect report) over signed HTTP.

    python bench/memory.py --db sqlite|postgres [--scale 10]
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from _common import (
    Database,
    emit,
    parser,
    run,
    seed_defects,
    seed_engagements,
    seed_future_timers,
    seed_notices,
    seed_people,
)
from _serve import command_body, rss_mb, signed, stop_and_report_errors

from tests.reliability.cluster import ClusterSlackApi, Replica, wait_healthy


async def main() -> None:
    args = parser(__doc__).parse_args()
    members, timers, defects = 10_000 // args.scale, 100_000 // args.scale, 1_000 // args.scale
    due = max(1000 // args.scale, 1)
    engagements = max(100 // args.scale, 1)
    emit("db", args.db)
    emit("members", members)
    emit("pending_timers", timers)
    emit("open_defects", defects)
    async with Database(args.db, args.keep) as db:
        engine = db.engine()
        targets = await seed_engagements(engine, engagements)
        t = time.monotonic()
        people = await seed_people(engine, targets, members)
        await seed_future_timers(engine, targets, timers - due)
        await seed_defects(engine, targets, defects, people)
        emit("seed_seconds", time.monotonic() - t, "s")
        api = await ClusterSlackApi().start()
        rep = Replica(
            0, db.url, api.base_url, Path(tempfile.mkdtemp(prefix="cadence-bench-")), CADENCE_SWEEP_SECONDS="1"
        )
        try:
            rep.start()
            await wait_healthy([rep], timeout=120)
            emit("rss_after_start", rss_mb(rep.proc.pid)[0], "MB")
            await seed_notices(engine, targets, due, datetime.now(UTC) + timedelta(seconds=1))
            async with aiohttp.ClientSession() as http:
                for i, (_eid, channel) in enumerate(targets[:50] * 2):
                    user = f"UM{people[i % len(people)]:07d}"
                    for command, text in (("/defect", "list"), ("/cadence", "members"), ("/defect", "report")):
                        body = command_body(
                            text,
                            command=command,
                            user=user,
                            channel=channel,
                            n=i,
                            response_url=api.response_url(f"{user}.{i}"),
                        )
                        async with http.post(rep.url + "/slack/events", data=body.encode(), headers=signed(body)) as r:
                            assert r.status == 200, r.status
            await api.wait_received(due, timeout=1200)
            await asyncio.sleep(2)
            cur, peak = rss_mb(rep.proc.pid)
            emit("rss_end", cur, "MB")
            emit("rss_peak", peak, "MB")
            emit("rss_target", "under 200 MB: " + ("met" if peak < 200 else "MISSED"))
            emit("slack_responds", len(api.calls_to("respond")))
        finally:
            errors = await stop_and_report_errors(rep, show=5)
            if errors:
                print(f"  full log: {rep.log_path}")
            rep.close()
            await api.stop()


if __name__ == "__main__":
    run(main)
