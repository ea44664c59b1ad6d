"""Issue 20, item 13: the health report agrees with itself. Its period never starts before the engagement
existed, every section that needs attention has its line in the summary (an open blocker, an overdrawn
contingency), and today's standups are not counted missed before their digest
(tests/features/reports/test_report.py)."""

from __future__ import annotations

from sqlalchemy import select

from bot.features.reports import figures
from bot.features.standups.report import StandupFigures
from bot.kernel.clock import utc
from storage.models import Engagement
from tests.features.change_requests.support import pending_cr
from tests.helpers import agree, click, make_engagement


async def gather(core, period: str = "week") -> figures.Figures:
    async with core.session_factory() as s:
        eng = await s.scalar(select(Engagement).where(Engagement.key == "ACME"))
        return await figures.gather(s, core.registry.report_sections, eng, core.clock.now(), period)


async def test_the_period_starts_when_the_engagement_was_set_up(core, clock):
    await make_engagement(core)
    clock.advance(days=2)
    for name in ("week", "month"):
        f = await gather(core, name)
        async with core.session_factory() as s:
            eng = await s.scalar(select(Engagement).where(Engagement.key == "ACME"))
            assert f.period.start == utc(eng.created_at)
        assert str(f.period.first_day) == "2027-01-04"


async def test_an_overdrawn_contingency_is_flagged_and_nothing_is_not_said(core):
    people = await make_engagement(core)
    # 15 % contingency: 1,500 (the budget is a contract term: the vendor agrees to it)
    await agree(core, people["alice"], "/cadence settings budget 10000", people["victor"])
    cr = await pending_cr(core, people)  # costs 6,000
    await click(core, people["alice"], "cr.approve", str(cr.id))
    await click(core, people["victor"], "cr.approve", str(cr.id))
    f = await gather(core)
    assert any("contingency is overdrawn by 4,500.00" in x for x in f.flags), f.flags
    card = figures_card(f)
    assert "Nothing needs attention" not in card.text


def figures_card(f: figures.Figures):
    from bot.features.reports.cards import report_card

    return report_card(f)


async def test_an_open_blocker_is_in_the_summary_not_only_in_its_section(core):
    await make_engagement(core)
    f = await gather(core)
    assert not f.flags
    f.values["standups"] = StandupFigures(
        people=[], expected=1, answered=1, blockers_raised=1, blockers_closed=0, blockers_open=1
    )
    f.flags = figures.flags_of(f)
    card = figures_card(f)
    assert card.sections[0].title == "⚠️ Needs attention"
    assert "1 standup blocker is still open." in card.sections[0].text
    assert "Nothing needs attention" not in card.text and "1 thing needs attention" in card.text
