"""Agenda: how long building one meeting's agenda takes on a busy engagement — every registered section read
live at the agenda's time (change requests, defects at risk or breached, standup blockers, action items,
disputed decisions, milestones, RAID reds) — and the monthly review's, which adds the previous month's report
figures. The engagement carries 1,000 open defects (half past their warning threshold or breached), 500 open
action items (half overdue), 500 RAID items (a third red) and 200 members' agenda points.

    python bench/agenda.py --db sqlite|postgres [--scale 10] [--rounds 20]
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from _common import Database, emit, median, parser, percentile, run, seed_defects, seed_engagements, seed_people
from sqlalchemy import insert

from bot.bootstrap import default_registry
from bot.features.meetings import service
from storage.db import session_factory
from storage.models import Engagement
from storage.models.decisions import ActionItem
from storage.models.meetings import Meeting, MeetingAgendaItem, MeetingOccurrence
from storage.models.raid import RaidItem


async def seed_cadence(engine, eid: int, people: list[int], n_actions: int, n_raid: int, n_points: int, now: datetime):
    """The meeting (a sync and a monthly review), action items, RAID items and members' points."""
    today = now.date()
    async with engine.begin() as conn:
        meetings = []
        for number, kind in ((1, "sync"), (2, "review")):
            meetings.append(
                {
                    "engagement_id": eid,
                    "number": number,
                    "kind": kind,
                    "title": kind,
                    "tz": "Europe/London",
                    "start_at": now + timedelta(hours=1),
                    "duration_minutes": 60,
                    "status": "scheduled",
                    "uid": f"bench-{eid}-{number}@cadence",
                    "sequence": 0,
                    "exdates": [],
                    "created_at": now,
                    "updated_at": now,
                }
            )
        await conn.execute(insert(Meeting), meetings)
        await conn.execute(
            insert(MeetingOccurrence),
            [
                {
                    "meeting_id": mid,
                    "engagement_id": eid,
                    "original_start": now + timedelta(hours=1),
                    "starts_at": now + timedelta(hours=1),
                    "ends_at": now + timedelta(hours=2),
                    "status": "scheduled",
                    "version": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for mid in (1, 2)
            ],
        )
        await conn.execute(
            insert(ActionItem),
            [
                {
                    "engagement_id": eid,
                    "number": i + 1,
                    "text": f"Action {i}",
                    "owner_id": people[i % len(people)],
                    "created_by_id": people[0],
                    "created_at": now,
                    "due_date": today + timedelta(days=(i % 20) - 10),
                    "state": "open",
                }
                for i in range(n_actions)
            ],
        )
        await conn.execute(
            insert(RaidItem),
            [
                {
                    "engagement_id": eid,
                    "number": i + 1,
                    "kind": ("risk", "assumption", "issue", "dependency")[i % 4],
                    "text": f"RAID item {i}",
                    "status": ("red", "amber", "green")[i % 3],
                    "state": "open",
                    "owner_id": people[i % len(people)],
                    "created_by_id": people[0],
                    "review_on": today + timedelta(days=(i % 30) - 15),
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(n_raid)
            ],
        )
        await conn.execute(
            insert(MeetingAgendaItem),
            [
                {
                    "occurrence_id": 1 + i % 2,
                    "engagement_id": eid,
                    "person_id": people[i % len(people)],
                    "text": f"Point {i}",
                    "created_at": now,
                }
                for i in range(n_points)
            ],
        )


async def main() -> None:
    p = parser(__doc__)
    p.add_argument("--rounds", type=int, default=20)
    args = p.parse_args()
    defects, actions, raid, points = (n // args.scale for n in (1000, 500, 500, 200))
    emit("db", args.db)
    for name, value in (("open_defects", defects), ("action_items", actions), ("raid_items", raid), ("points", points)):
        emit(name, value)
    async with Database(args.db, args.keep) as db:
        engine = db.engine()
        # Defects were filed two days ago with response deadlines 4–52 h after: half are past their warning.
        filed = datetime.now(UTC) - timedelta(days=2)
        [(eid, _)] = await seed_engagements(engine, 1, now=filed)
        people = await seed_people(engine, [(eid, "C0")], 40, roles=["vendor_pm"])
        await seed_defects(engine, [(eid, "C0")], defects, people)
        now = datetime.now(UTC)
        await seed_cadence(engine, eid, people, actions, raid, points, now)
        registry = default_registry()
        factory = session_factory(engine)
        for kind, occ_id in (("sync", 1), ("review", 2)):
            times, lines = [], 0
            for _ in range(args.rounds):
                async with factory() as session:
                    eng = await session.get(Engagement, eid)
                    occ = await session.get(MeetingOccurrence, occ_id)
                    meeting = await session.get(Meeting, occ.meeting_id)
                    t0 = time.perf_counter()
                    card = await service.build_agenda(session, registry, eng, meeting, occ, now)
                    times.append(time.perf_counter() - t0)
                    lines = sum(len(s.text.splitlines()) for s in card.sections)
            emit(f"{kind}_agenda_lines", lines)
            emit(f"{kind}_agenda_build_median", median(times) * 1000, "ms")
            emit(f"{kind}_agenda_build_p95", percentile(times, 95) * 1000, "ms")


if __name__ == "__main__":
    run(main)
