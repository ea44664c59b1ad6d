"""A seeded engagement for the report tests: one week of standups, defects, change requests and a
demo, driven through the features' own commands on the controlled clock.

Timeline (UTC = London, the home zone, in January 2027):
- Mon 4 Jan 08:00 engagement set up (alice, London); budget 100,000 → contingency 15 % = 15,000.
- Mon 10:00 carol files ACME-D-1 (S2); ACME-CR-1 filed, assessed at 6,000, approved by alice and
  victor; ACME-CR-2 filed, assessed at 2,500, left pending approval.
- Mon 11:00 dev acknowledges D-1 (1 h); 12:00 dev resolves it (2 h after filing).
- Mon 12:00 carol files ACME-D-2 (S1): response due 13:00 (missed), acknowledged 14:00 (2 h),
  resolution due Tue 12:00 (missed); it stays acknowledged.
- Mon 14:00 alice plans "Sprint demo" every other Thursday 15:00 London (Thu 7, 21 Jan …); carol
  records "accepted with remarks" on Thu 7 Jan 16:30.
- Standups: victor and lena answer every prompt; dev answers Tue–Thu; quinn never answers; lena's
  Tuesday answer raises a blocker, her Wednesday answer ("none") closes it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from storage.models import Engagement
from tests.features.change_requests.support import assess, file_cr
from tests.features.standups.support import prompts_to
from tests.helpers import agree, click, make_engagement, reply_text, run, say_dm

UTC = UTC
REPORT_AT = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)  # Monday 09:00 London


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# Which local dates each participant answers, and the answers (three questions).
DONE = ["Finished the work", "More of it", "none"]
PLAN: dict[str, dict[date, list[str]]] = {
    "victor": {date(2027, 1, d): DONE for d in (5, 6, 7, 8, 11)},
    "lena": {
        **{date(2027, 1, d): DONE for d in (6, 7, 8, 11)},
        date(2027, 1, 5): ["Code review", "Deploy", "Waiting for VPN access"],
    },
    "dev": {date(2027, 1, d): DONE for d in (5, 6, 7)},
    "quinn": {},
}


class Walker:
    """Moves the clock from due timer to due timer, answering standup prompts as PLAN says."""

    def __init__(self, core, people) -> None:
        self.core, self.people = core, people
        self.seen = dict.fromkeys(PLAN, 0)

    async def until(self, when: datetime) -> None:
        core = self.core
        while True:
            await core.drain()
            await self._answer()
            now = core.clock.now()
            if now >= when:
                return
            due = await core.timers.next_due()
            target = when if due is None or due <= now else min(due, when)
            core.clock.advance(target - now)

    async def _answer(self) -> None:
        from bot.kernel.people import zone

        for name, plan in PLAN.items():
            prompts = prompts_to(self.core, name)
            for _ in prompts[self.seen[name] :]:
                async with self.core.session_factory() as s:
                    from storage.models import Identity, Person

                    person = await s.scalar(select(Person).join(Identity).where(Identity.user_id == name))
                    day = self.core.clock.now().astimezone(zone(person)).date()
                for text in plan.get(day, []):
                    await say_dm(self.core, self.people[name], text)
            self.seen[name] = len(prompts)


async def seed(core, until: datetime = REPORT_AT):
    """The engagement above, with the clock moved to `until` (the weekly report fires on the way)."""
    people = await make_engagement(core)
    walker = Walker(core, people)
    r = await agree(core, people["alice"], "/cadence settings budget 100000", people["victor"])
    assert "100,000.00" in reply_text(r), reply_text(r)
    await walker.until(at(2027, 1, 4, 10, 0))
    r = await run(core, people["carol"], "/defect s2 Search returns nothing")
    assert "Filed ACME-D-1" in reply_text(r), reply_text(r)
    cr1 = await file_cr(core, people["carol"], title="Single sign-on")
    await assess(core, people["victor"], cr1, cost="6,000")
    for who in ("alice", "victor"):
        r = await click(core, people[who], "cr.approve", str(cr1.id))
        assert "approved" in reply_text(r).lower(), reply_text(r)
    cr2 = await file_cr(core, people["carol"], title="Export to PDF")
    await assess(core, people["victor"], cr2, cost="2,500")
    await walker.until(at(2027, 1, 4, 11, 0))
    r = await run(core, people["dev"], "/defect ack 1")
    assert "Acknowledged ACME-D-1" in reply_text(r), reply_text(r)
    await walker.until(at(2027, 1, 4, 12, 0))
    r = await run(core, people["dev"], "/defect resolve 1 fixed the index")
    assert "Resolved ACME-D-1" in reply_text(r), reply_text(r)
    r = await run(core, people["carol"], "/defect s1 Checkout is down")
    assert "Filed ACME-D-2" in reply_text(r), reply_text(r)
    await walker.until(at(2027, 1, 4, 14, 0))
    r = await run(core, people["dev"], "/defect ack 2")
    assert "Acknowledged ACME-D-2" in reply_text(r), reply_text(r)
    r = await run(core, people["alice"], "/demo schedule every other thursday at 15:00 | Sprint demo")
    confirm = next(b for b in r.private[0].buttons if b.action_id == "demo.confirm")
    r = await click(core, people["alice"], "demo.confirm", confirm.value)
    assert r.update is not None and "Scheduled" in r.update.title, reply_text(r)
    await walker.until(at(2027, 1, 7, 16, 30))
    r = await run(core, people["carol"], "/demo outcome 1 remarks Fix the totals rounding")
    assert "Recorded" in reply_text(r), reply_text(r)
    await walker.until(until)
    return people


async def engagement(core) -> Engagement:
    async with core.session_factory() as s:
        return await s.scalar(select(Engagement).where(Engagement.key == "ACME"))
