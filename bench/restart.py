"""Restart: time from process start (`python app.py serve`) to answering GET /healthz, with 100,000 pending
timers in the database (Slack on, pointed at a local stand-in). Also the bare import time of the app, the
floor any restart pays on this machine.

    python bench/restart.py --db sqlite|postgres [--scale 10] [--runs 3]
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, Database, emit, median, parser, run, seed_engagements, seed_future_timers

from tests.reliability.cluster import ClusterSlackApi, Replica, wait_healthy


async def main() -> None:
    p = parser(__doc__)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    n = 100_000 // args.scale
    emit("db", args.db)
    emit("pending_timers", n)
    t = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import app, handlers.slack.app, handlers.teams.frontend, bot.bootstrap; bot.bootstrap.default_registry()",
        ],
        cwd=ROOT,
        check=True,
    )
    emit("import_seconds", time.monotonic() - t, "s")
    async with Database(args.db, args.keep) as db:
        engine = db.engine()
        targets = await seed_engagements(engine, max(100 // args.scale, 1))
        await seed_future_timers(engine, targets, n)
        api = await ClusterSlackApi().start()
        workdir = Path(tempfile.mkdtemp(prefix="cadence-bench-"))
        times = []
        try:
            for i in range(args.runs):
                rep = Replica(i, db.url, api.base_url, workdir)
                rep.start()
                times.append(await wait_healthy([rep], timeout=120))
                await asyncio.sleep(1.0)  # let the first tick (next-due planning over all timers) run
                rep.signal(signal.SIGTERM)
                code = await rep.wait_exit(60)
                rep.close()
                if code != 0:
                    print(rep.log()[-2000:])
            emit("start_to_healthz_median", median(times), "s")
            emit("start_to_healthz_min", min(times), "s")
            emit("start_to_healthz_max", max(times), "s")
        finally:
            await api.stop()


if __name__ == "__main__":
    run(main)
