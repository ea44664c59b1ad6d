"""Timer lateness: 100,000 pending timers, 1,000 of them due in the same second; one `python app.py serve`
process delivers them to a Slack stand-in. Lateness = when the stand-in received the call − due time.

    python bench/timer_lateness.py --db sqlite|postgres [--scale 10] [--replicas 1] [--channels N]
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import Database, emit, median, parser, percentile, run, seed_engagements, seed_future_timers, seed_notices
from _serve import stop_and_report_errors

from tests.reliability.cluster import ClusterSlackApi, Replica, wait_healthy


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def main() -> None:
    p = parser(__doc__)
    p.add_argument("--replicas", type=int, default=1)
    p.add_argument("--channels", type=int, default=0, help="home channels the due notices go to (default: one each)")
    args = p.parse_args()
    n_pending = 100_000 // args.scale
    n_due = max(1000 // args.scale, 1)
    emit("db", args.db)
    emit("pending_timers", n_pending)
    emit("due_in_same_second", n_due)
    emit("replicas", args.replicas)
    async with Database(args.db, args.keep) as db:
        engine = db.engine()
        channels = args.channels or n_due
        targets = await seed_engagements(engine, channels)
        t = time.monotonic()
        await seed_future_timers(engine, targets, n_pending - n_due)
        emit("seed_seconds", time.monotonic() - t, "s")
        api = await ClusterSlackApi().start()
        offset = time.time() - time.monotonic()
        workdir = Path(tempfile.mkdtemp(prefix="cadence-bench-"))
        reps = [Replica(i, db.url, api.base_url, workdir, CADENCE_SWEEP_SECONDS="1") for i in range(args.replicas)]
        try:
            for r in reps:
                r.start()
            await wait_healthy(reps, timeout=120)
            due = datetime.now(UTC) + timedelta(seconds=3)
            due_ts = due.timestamp()
            await seed_notices(engine, targets, n_due, due)
            cpu_before = sum(_cpu_seconds(r.proc.pid) for r in reps)
            took = await api.wait_received(n_due, timeout=1800)
            # CPU the serve process(es) spent on the burst: steadier than wall time on a shared machine.
            cpu = sum(_cpu_seconds(r.proc.pid) for r in reps) - cpu_before
            emit("serve_cpu_seconds", cpu, "s")
            emit("serve_cpu_per_message", cpu / n_due * 1000, "ms")
            lateness = sorted(
                c.at + offset - due_ts for c in api.calls if c.method == "chat.postMessage" and c.response.get("ok")
            )
            emit("lateness_first", lateness[0], "s")
            emit("lateness_median", median(lateness), "s")
            emit("lateness_p95", percentile(lateness, 95), "s")
            emit("lateness_p99", percentile(lateness, 99), "s")
            emit("lateness_max", lateness[-1], "s")
            emit("delivered", len(lateness))
            emit("duplicates", len(lateness) - len(api.counts()))
            from sqlalchemy import select

            from storage.models import Timer

            async with engine.connect() as conn:
                fired = [
                    x
                    for x in (await conn.scalars(select(Timer.lateness_seconds).where(Timer.status == "done"))).all()
                    if x is not None
                ]
            emit("fire_lateness_first", min(fired), "s")
            emit("fire_lateness_median", median(fired), "s")
            emit("fire_lateness_p99", percentile(fired, 99), "s")
            span = (lateness[-1] - lateness[0]) if len(lateness) > 1 else took
            emit("throughput", n_due / max(span, 1e-9), "msg/s")
        finally:
            for r in reps:
                await stop_and_report_errors(r)
                r.close()
            await api.stop()


if __name__ == "__main__":
    run(main)
