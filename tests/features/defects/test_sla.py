"""SLA clocks and timers on the controlled clock: pause/resume, severity changes, reopen, warnings and
breaches exactly once and never after a stop, a restart while a timer is due, concurrent acknowledges."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.bootstrap import default_registry
from bot.features.defects.sla import DEFAULT_POLICY
from storage.models import AuditEntry, Timer
from storage.models.defects import Defect
from tests.features.defects.support import all_text, defect, engagement, notices
from tests.helpers import advance, agree, click, reply_text, run, sent

UTC = UTC
H = timedelta(hours=1)


async def audit_actions(core, action: str) -> int:
    async with core.session_factory() as s:
        return await s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))


def test_engagement_defaults_are_the_built_in_policy():
    assert default_registry().settings["defect"] == DEFAULT_POLICY


async def test_warning_and_breach_exactly_once_each(core, clock):
    people = await engagement(core)
    await run(core, people["carol"], "/defect s1 Payments fail")
    await core.drain()
    n = len(sent(core))
    await advance(core, minutes=44)
    assert notices(core, n, "%") == []
    await advance(core, minutes=1)  # 45 min = 75 % of 1 h
    warns = notices(core, n, "% of the response time used")
    # vendor lead (no assignee yet) and vendor PM by DM, and the escalation channel.
    assert sorted(w.channel_id for w in warns) == ["dm:lena", "dm:victor", "escalations"]
    await advance(core, minutes=14)
    assert notices(core, n, "response target breached") == []
    await advance(core, minutes=1)
    breaches = notices(core, n, "response target breached")
    assert sorted(b.channel_id for b in breaches) == ["dm:lena", "dm:victor", "escalations"]
    for _ in range(6):
        await advance(core, hours=1)
    assert len(notices(core, n, "% of the response time used")) == 3
    assert len(notices(core, n, "response target breached")) == 3
    assert await audit_actions(core, "response_warning") == 1
    assert await audit_actions(core, "response_breach") == 1
    d = await defect(core)
    assert d.response_breached_at == d.filed_at + H
    # The breach mark stays visible after the acknowledgement.
    await click(core, people["dev"], "defect.ack", str(d.id))
    await core.drain()
    card = [o for o in sent(core) if o.op == "update" and o.card.title.startswith("ACME-D-1")][-1].card
    assert "response target breached" in card.text and card.tone == "danger"


async def test_nothing_fires_after_resolve(core, clock):
    people = await engagement(core)
    await run(core, people["carol"], "/defect s1 Payments fail")
    d = await defect(core)
    await advance(core, minutes=10)
    await click(core, people["dev"], "defect.ack", str(d.id))
    await advance(core, hours=17)
    await run(core, people["dev"], "/defect resolve 1 rolled back")
    n = len(sent(core))
    for _ in range(40):
        await advance(core, hours=1)
    assert notices(core, n, "%") == [] and notices(core, n, "breached") == []
    async with core.session_factory() as s:
        pending = await s.scalar(
            select(func.count()).select_from(Timer).where(Timer.kind == "defect.sla", Timer.status == "pending")
        )
    assert pending == 0


async def test_pause_moves_the_resolution_timers(core, clock):
    people = await engagement(core)
    t0 = clock.now()
    await run(core, people["carol"], "/defect s2 Reports are wrong")  # 48 h resolution, 24×7
    d = await defect(core)
    await advance(core, hours=1)
    await click(core, people["dev"], "defect.ack", str(d.id))
    await advance(core, hours=29)
    await run(core, people["dev"], "/defect wait 1 Need the client's sample file")
    n = len(sent(core))
    d = await defect(core)
    assert d.resolution_due_at is None and d.pauses[-1].reason == "Need the client's sample file"
    for _ in range(10):  # paused over the original 75 % point (t0 + 36 h)
        await advance(core, hours=1)
    assert notices(core, n, "%") == []
    await run(core, people["dev"], "/defect start 1")  # resume at t0 + 40 h
    d = await defect(core)
    assert d.resolution_due_at == t0 + 58 * H  # 48 h of running time + 10 h paused
    clock.set(t0 + 46 * H - timedelta(minutes=1))
    await core.drain()
    assert notices(core, n, "% of the resolution time used") == []
    await advance(core, minutes=1)
    assert len(notices(core, n, "% of the resolution time used")) == 3
    clock.set(t0 + 58 * H)
    await core.drain()
    assert len(notices(core, n, "resolution target breached")) == 3
    d = await defect(core)
    assert d.resolution_breached_at == t0 + 58 * H


async def test_severity_up_then_down(core, clock):
    people = await engagement(core)
    clock.set(datetime(2027, 1, 4, 10, tzinfo=UTC))  # Monday, business hours (UTC support desk)
    await run(core, people["carol"], "/defect s3 Filter ignores dates")
    d = await defect(core)
    assert d.response_due_at == datetime(2027, 1, 4, 18, tzinfo=UTC)
    await advance(core, minutes=30)
    n = len(sent(core))
    r = await run(core, people["victor"], "/defect severity 1 s1 whole team blocked")
    assert "now S1" in reply_text(r)
    d = await defect(core)
    # Recomputed from the original filing time: 10:00 + 1 h; resolution 10:00 + 24 h.
    assert d.response_due_at == datetime(2027, 1, 4, 11, tzinfo=UTC)
    assert d.resolution_due_at == datetime(2027, 1, 5, 10, tzinfo=UTC)
    await core.drain()
    assert sorted(o.channel_id for o in sent(core)[n:] if "S1 filed" in o.card.title) == ["dm:lena", "dm:victor"]
    await advance(core, minutes=15)  # 10:45 = 75 % of 1 h
    assert len(notices(core, n, "% of the response time used")) == 3
    await advance(core, minutes=15)  # 11:00
    assert len(notices(core, n, "response target breached")) == 3
    # Down to S4: 2 business days (18 h) from 10:00 Monday = Wednesday 10:00; the breach mark stays.
    await advance(core, minutes=30)
    r = await run(core, people["carol"], "/defect severity 1 s4 workaround found")
    assert "now S4" in reply_text(r)
    d = await defect(core)
    assert d.response_due_at == datetime(2027, 1, 6, 10, tzinfo=UTC)
    assert d.response_breached_at == datetime(2027, 1, 4, 11, tzinfo=UTC)
    # 15 business days (135 h) from Monday 10:00 = Monday 2027-01-25 10:00.
    assert d.resolution_due_at == datetime(2027, 1, 25, 10, tzinfo=UTC)
    # A notified breach stays on the record: no new warning or breach for that clock.
    n2 = len(sent(core))
    clock.set(datetime(2027, 1, 6, 12, tzinfo=UTC))
    await core.drain()
    assert notices(core, n2, "response") == []
    async with core.session_factory() as s:
        change = await s.scalar(
            select(AuditEntry).where(AuditEntry.action == "severity_changed").order_by(AuditEntry.id)
        )
    assert change.data["from"] == "s3" and change.data["to"] == "s1" and change.comment == "whole team blocked"


async def test_severity_change_keeps_accrued_pause(core, clock):
    people = await engagement(core)
    t0 = clock.now()
    await run(core, people["carol"], "/defect s2 Import drops rows")
    d = await defect(core)
    await click(core, people["dev"], "defect.ack", str(d.id))
    await advance(core, hours=1)
    await run(core, people["dev"], "/defect wait 1 which file?")
    await advance(core, hours=2)
    await run(core, people["dev"], "/defect start 1")
    await advance(core, hours=1)
    await run(core, people["victor"], "/defect severity 1 s1 more customers hit")
    d = await defect(core)
    assert d.resolution_due_at == t0 + 24 * H + 2 * H
    await run(core, people["victor"], "/defect severity 1 s2 back to normal")
    d = await defect(core)
    assert d.resolution_due_at == t0 + 48 * H + 2 * H


async def test_reopen_restarts_the_resolution_clock(core, clock):
    people = await engagement(core)
    t0 = clock.now()
    await run(core, people["carol"], "/defect s2 Emails not sent")
    d = await defect(core)
    await click(core, people["dev"], "defect.ack", str(d.id))
    await advance(core, hours=10)
    await run(core, people["dev"], "/defect resolve 1 queue restarted")
    n = len(sent(core))
    clock.set(t0 + 50 * H)  # past the original deadline: the clock is stopped, nothing fires
    await core.drain()
    assert notices(core, n, "%") == [] and notices(core, n, "breached") == []
    r = await run(core, people["carol"], "/defect reopen 1 still no emails")
    assert "Reopened" in reply_text(r)
    d = await defect(core)
    # 10 h had run; 38 h remain from the reopen; the resolved interval does not count.
    assert d.resolution_due_at == t0 + 88 * H
    clock.set(t0 + 76 * H)  # 36 h of running time = 75 %
    await core.drain()
    assert len(notices(core, n, "% of the resolution time used")) == 3
    clock.set(t0 + 88 * H)
    await core.drain()
    assert len(notices(core, n, "resolution target breached")) == 3


async def test_restart_while_a_timer_is_due_fires_late_once(any_db_url, clock, make_core):
    first = await make_core(any_db_url)
    people = await engagement(first)
    t0 = clock.now()
    await run(first, people["carol"], "/defect s1 Site down")
    await first.drain()
    await first.engine.dispose()  # the process goes away…
    clock.set(t0 + 3 * H)  # …and comes back three hours later
    second = await make_core(any_db_url)
    await second.drain()
    breaches = [o for o in sent(second) if "response target breached" in o.card.title]
    assert len(breaches) == 3
    assert "2 h 00 min late" in breaches[0].text
    # The 75 % warning is not sent after the deadline: the breach notice says more.
    assert [o for o in sent(second) if "% of the response time used" in o.card.title] == []
    async with second.session_factory() as s:
        entry = await s.scalar(select(AuditEntry).where(AuditEntry.action == "response_breach"))
        timer = await s.scalar(select(Timer).where(Timer.key.like("defect:%:response:breach:%")))
    assert entry.data["lateness_seconds"] == 7200
    assert timer.status == "done" and timer.lateness_seconds == 7200
    third = await make_core(any_db_url)
    await third.drain()
    assert [o for o in sent(third) if "breached" in o.card.title] == []
    await second.engine.dispose()
    await third.engine.dispose()


async def test_concurrent_acknowledges_on_postgres(pg_core, clock):
    core = pg_core
    people = await engagement(core)
    for i in range(3):
        await run(core, people["carol"], f"/defect s2 Race {i}")
    for number in (1, 2, 3):
        d = await defect(core, number)
        replies = await asyncio.gather(
            click(core, people["dev"], "defect.ack", str(d.id)), click(core, people["lena"], "defect.ack", str(d.id))
        )
        texts = sorted(reply_text(r) for r in replies)
        assert sum("Acknowledged ACME-D" in t for t in texts) == 1, texts
        assert sum("already been acknowledged" in t for t in texts) == 1, texts
    assert await audit_actions(core, "ack") == 3


async def test_business_hours_timers_across_easter_and_dst_to_the_minute(core, clock):
    """Berlin desk with German holidays. S3 filed Thu 25 Mar 2027 17:00 CET: 1 business hour that day,
    then Good Friday, the weekend (clocks go forward), Easter Monday. 75 % of 8 h = 6 h → Tue 14:00 CEST
    (12:00 UTC); the deadline is Tue 16:00 CEST (14:00 UTC)."""
    people = await engagement(core, support_tz="Europe/Berlin", country="DE")
    clock.set(datetime(2027, 3, 25, 16, tzinfo=UTC))
    await core.drain()
    await run(core, people["carol"], "/defect s3 Invoices show the wrong VAT")
    d = await defect(core)
    assert d.response_due_at == datetime(2027, 3, 30, 14, tzinfo=UTC)
    n = len(sent(core))
    clock.set(datetime(2027, 3, 30, 11, 59, tzinfo=UTC))
    await core.drain()
    assert notices(core, n, "%") == []
    await advance(core, minutes=1)
    assert len(notices(core, n, "% of the response time used")) == 3
    await advance(core, minutes=119)
    assert notices(core, n, "breached") == []
    await advance(core, minutes=1)
    assert len(notices(core, n, "response target breached")) == 3


async def test_a_timer_does_not_wait_for_a_defect_being_changed_on_postgres(pg_core, clock):
    """A due timer whose defect row is locked by someone's change tries again seconds later (no
    lock-order deadlock between the timer batch and a person's transaction), then fires once."""
    core = pg_core
    people = await engagement(core)
    await run(core, people["carol"], "/defect s1 Site down")
    await core.drain()
    n = len(sent(core))
    d = await defect(core)
    clock.advance(minutes=45)
    async with core.session_factory() as s, s.begin():
        await s.execute(select(Defect).where(Defect.id == d.id).with_for_update())
        await core.drain()  # the warning timer is due, its defect is locked: not sent, moved on
    assert notices(core, n, "%") == []
    await advance(core, seconds=5)
    assert len(notices(core, n, "% of the response time used")) == 3
    assert await audit_actions(core, "response_warning") == 1


async def test_concurrent_filings_get_distinct_numbers_on_postgres(pg_core, clock):
    core = pg_core
    people = await engagement(core)
    replies = await asyncio.gather(
        *(
            run(core, people[who], f"/defect s3 Parallel {i}")
            for i, who in enumerate(("carol", "alice", "dev", "victor"))
        )
    )
    assert all("Filed ACME-D-" in reply_text(r) for r in replies), [reply_text(r) for r in replies]
    numbers = sorted(reply_text(r).split("ACME-D-")[1].split(" ")[0] for r in replies)
    assert numbers == ["1", "2", "3", "4"]


async def test_the_history_names_the_warning_threshold_the_defect_was_filed_under(core, clock):
    people = await engagement(core)
    await agree(core, people["victor"], "/defect policy warn 50", people["alice"])
    await run(core, people["carol"], "/defect s1 Payments fail")
    await core.drain()
    await advance(core, minutes=30)  # 50 % of 1 h
    assert await audit_actions(core, "response_warning") == 1
    shown = all_text(await run(core, people["carol"], "/defect show ACME-D-1"))
    assert "warning: response time 50 % used" in shown and "75 %" not in shown
