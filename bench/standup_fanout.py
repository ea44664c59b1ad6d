"""Standup fan-out: 10,000 members spread over every IANA zone (with a UTC offset in use), the time to
compute a day's schedule (every member's next prompt, DST-correct, plus the digests), then a minute in
which 2,000 prompts fall due, delivered by one `python app.py serve` through a Slack stand-in that
enforces a per-workspace rate (HTTP 429 + Retry-After beyond it): all delivered, none twice, and the total
time compared with what the rate allows.

    python bench/standup_fanout.py --db sqlite|postgres [--scale 10] [--rate 20]
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter, deque
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import Database, emit, parser, run, seed_engagements, seed_people, zones_in_use
from _serve import stop_and_report_errors
from aiohttp import web

from tests.reliability.cluster import ClusterSlackApi, Replica, wait_healthy


class RateLimitedSlack(ClusterSlackApi):
    """chat.postMessage limited to `rate` per second per workspace; beyond it 429 with Retry-After: 1."""

    def __init__(self, rate: float) -> None:
        super().__init__()
        self.rate = rate
        self.window: deque[float] = deque()
        self.limited = 0

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["method"] == "chat.postMessage":
            now = time.monotonic()
            while self.window and now - self.window[0] >= 1.0:
                self.window.popleft()
            if len(self.window) >= self.rate:
                self.limited += 1
                return web.json_response(
                    {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
                )
            self.window.append(now)
        return await super()._handle(request)


async def main() -> None:
    p = parser(__doc__)
    p.add_argument("--rate", type=float, default=20.0, help="chat.postMessage per second the stand-in allows")
    args = p.parse_args()
    members = 10_000 // args.scale
    due = max(2_000 // args.scale, 1)
    window = 60.0 / args.scale
    emit("db", args.db)
    emit("members", members)
    emit("zones", len(set(zones_in_use()[:members])))
    emit("prompts_due_in_window", due)
    emit("window_seconds", window, "s")
    emit("rate_limit", args.rate, "msg/s")
    async with Database(args.db, args.keep) as db:
        engine = db.engine()
        targets = await seed_engagements(engine, max(members // 100, 1))
        await seed_people(engine, targets, members, roles=["developer"])
        from bot.bootstrap import create_core
        from bot.features.standups.schedule import PromptRule  # noqa: F401
        from bot.features.standups.service import plan_engagement
        from storage.models import Engagement, Timer

        core = await create_core(db.url, migrate=False)
        # 1. The pure arithmetic: every member's prompt instant for one day, in their own zone.
        from zoneinfo import ZoneInfo

        from bot.features.standups.schedule import local_instant

        day = datetime.now(UTC).date() + timedelta(days=1)
        zones = [ZoneInfo(z) for z in zones_in_use()]
        from datetime import time as dtime

        t = time.perf_counter()
        instants = [local_instant(day, dtime(9, 30), zones[i % len(zones)]) for i in range(members)]
        emit("schedule_arithmetic_seconds", time.perf_counter() - t, "s")
        emit("distinct_prompt_instants", len(set(instants)))
        # 2. The feature's real planning: next prompt timer per member + digests, in the database.
        now = datetime.now(UTC)
        t = time.perf_counter()
        from sqlalchemy import select

        async with core.session_factory() as s:
            ids = list((await s.scalars(select(Engagement.id))).all())
        for eid in ids:
            async with core.session_factory() as s, s.begin():
                await plan_engagement(s, core, await s.get(Engagement, eid), now)
        emit("schedule_planning_seconds", time.perf_counter() - t, "s")
        async with core.session_factory() as s:
            planned = await s.scalar(
                select(__import__("sqlalchemy").func.count()).select_from(Timer).where(Timer.kind == "standup.prompt")
            )
        emit("prompt_timers_planned", planned)
        # 3. Bring `due` prompts into one window starting shortly, spread evenly.
        from sqlalchemy import update

        start = datetime.now(UTC) + timedelta(seconds=20)
        async with core.session_factory() as s, s.begin():
            chosen = list(
                (
                    await s.scalars(
                        select(Timer.id).where(Timer.kind == "standup.prompt").order_by(Timer.id).limit(due)
                    )
                ).all()
            )
            for i, tid in enumerate(chosen):
                await s.execute(
                    update(Timer)
                    .where(Timer.id == tid)
                    .values(due_at=start + timedelta(seconds=window * i / max(due, 1)))
                )
        await core.engine.dispose()
        api = RateLimitedSlack(args.rate)
        await api.start()
        rep = Replica(
            0, db.url, api.base_url, Path(tempfile.mkdtemp(prefix="cadence-bench-")), CADENCE_SWEEP_SECONDS="1"
        )
        try:
            rep.start()
            await wait_healthy([rep], timeout=120)
            wait = (start - datetime.now(UTC)).total_seconds()
            if wait < 0:
                emit("warning", f"replica became healthy {-wait:.1f} s after the window opened")
            deadline = time.monotonic() + 3600
            while True:
                ok = [
                    c
                    for c in api.calls_to("chat.postMessage", ok_only=True)
                    if c.body.get("channel", "").startswith("D")
                ]
                if len(ok) >= due or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
            offset = time.time() - time.monotonic()
            last = max(c.at for c in ok) + offset
            total = last - start.timestamp()
            per_user = Counter(c.body.get("channel") for c in ok)
            emit("delivered", len(per_user))
            emit("duplicates", sum(v - 1 for v in per_user.values()))
            emit("answered_429", api.limited)
            emit("total_seconds_from_window_start", total, "s")
            floor = max(window, due / args.rate)
            emit("rate_allows_seconds", floor, "s")
            emit("total_over_floor", total / floor)
        finally:
            await stop_and_report_errors(rep)
            rep.close()
            await api.stop()


if __name__ == "__main__":
    run(main)
