"""Reminders at each approver's local 10:00 on their work days, escalation after 3 work days (once),
delegates reminded while an approver is away, nothing left running after a decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.features.change_requests.support import card_text, dms_to, pending_cr, posts, steps, timers, updates
from tests.helpers import DEFAULT_MEMBERS, click, make_engagement, run

UTC = UTC


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def goto(core, when: datetime) -> None:
    """Walk the clock to `when` hour by hour, doing what falls due on the way (as a running bot would)."""
    while core.clock.now() < when:
        core.clock.set(min(core.clock.now() + timedelta(hours=1), when))
        await core.drain()


def reminders(core, name: str) -> list:
    return dms_to(core, name, "Reminder: ACME-CR-1")


async def test_daily_reminders_and_one_escalation(core):
    people = await make_engagement(core)
    cr = await pending_cr(core, people)  # Monday 08:00 UTC; approvers alice (London) and victor (Kolkata)
    due = {t.key.split(":")[2]: t.due_at for t in await timers(core, f"cr.remind:{cr.id}:")}
    assert sorted(due.values()) == [at(2027, 1, 5, 4, 30), at(2027, 1, 5, 10, 0)]  # 10:00 IST, 10:00 London
    [esc] = await timers(core, f"cr.escalate:{cr.id}:")
    assert esc.due_at == at(2027, 1, 7, 8, 0)  # three work days later, Thursday

    await goto(core, at(2027, 1, 5, 4, 30))
    assert len(reminders(core, "victor")) == 1 and not reminders(core, "alice")
    await goto(core, at(2027, 1, 5, 10, 0))
    assert len(reminders(core, "alice")) == 1 and len(reminders(core, "victor")) == 1
    reminder = reminders(core, "alice")[0].card
    assert [b.action_id for b in reminder.buttons] == ["cr.approve", "cr.reject", "cr.question"]
    assert not dms_to(core, "carol", "Reminder")  # the requester is not an approver

    # Victor decides on Tuesday: his reminders stop; Alice's go on.
    await click(core, people["victor"], "cr.approve", str(cr.id))
    await goto(core, at(2027, 1, 6, 12, 0))
    assert len(reminders(core, "victor")) == 1 and len(reminders(core, "alice")) == 2

    # Thursday 08:00 London: escalation to someone new, the admins who are not the approver still waiting
    # (Alice has had her reminders), and in the channel.
    await goto(core, at(2027, 1, 7, 8, 0))
    for name in ("victor", "carol", "lena"):
        assert len(dms_to(core, name, "Escalation: ACME-CR-1")) == 1, name
    assert not dms_to(core, "alice", "Escalation: ACME-CR-1")
    [post] = posts(core, "Escalation: ACME-CR-1")
    assert "waited 3 work days" in post.text and "Alice" in post.text
    # Once: the following days bring reminders, not escalations; the weekend is skipped.
    await goto(core, at(2027, 1, 11, 12, 0))  # Monday
    assert len(posts(core, "Escalation: ACME-CR-1")) == 1
    assert len(dms_to(core, "victor", "Escalation")) == 1
    days = sorted(d.card.title for d in reminders(core, "alice"))
    assert len(days) == 5  # Tue, Wed, Thu, Fri, Mon
    assert [e.action for e in await steps(core, cr.id)].count("escalate") == 1

    # A decision stops everything.
    await click(core, people["alice"], "cr.approve", str(cr.id))
    assert await timers(core, f"cr.remind:{cr.id}:") == [] and await timers(core, f"cr.escalate:{cr.id}:") == []
    await goto(core, at(2027, 1, 20, 12, 0))
    assert len(reminders(core, "alice")) == 5


async def test_work_days_away_and_delegate(core):
    members = {**DEFAULT_MEMBERS, "bob": ("Europe/London", ["client_member"])}
    people = await make_engagement(core, members=members)
    await run(core, people["victor"], "/cadence workdays sun-thu")
    await run(core, people["alice"], "/cadence delegate @bob")
    await run(core, people["alice"], "/cadence ooo jan 5 to jan 6")
    await pending_cr(core, people)
    # Alice is here today (away from tomorrow): she is asked, Bob is not.
    assert dms_to(core, "alice", "Your decision is needed") and not dms_to(core, "bob", "ACME-CR-1")
    await goto(core, at(2027, 1, 6, 12, 0))  # Tue, Wed: Alice away
    assert not reminders(core, "alice") and len(dms_to(core, "bob", "Reminder: ACME-CR-1")) == 2
    await goto(core, at(2027, 1, 7, 12, 0))
    assert len(reminders(core, "alice")) == 1
    # Victor works Sunday to Thursday: no reminder on Friday or Saturday, one on Sunday.
    victor_days = [d.card for d in reminders(core, "victor")]
    assert len(victor_days) == 3  # Tue, Wed, Thu
    await goto(core, at(2027, 1, 9, 23, 0))
    assert len(reminders(core, "victor")) == 3
    await goto(core, at(2027, 1, 10, 5, 0))  # Sunday 10:30 in Kolkata
    assert len(reminders(core, "victor")) == 4


async def test_zone_change_replans_reminders_and_card_shows_absence(core):
    people = await make_engagement(core)
    cr = await pending_cr(core, people)
    await run(core, people["alice"], "/cadence tz Asia/Tokyo")
    due = sorted(t.due_at for t in await timers(core, f"cr.remind:{cr.id}:"))
    assert due == [at(2027, 1, 5, 1, 0), at(2027, 1, 5, 4, 30)]  # Alice: Tuesday 10:00 in Tokyo; Victor as before
    await run(core, people["alice"], "/cadence ooo today")
    await core.drain()
    assert "Alice (out of office)" in card_text(updates(core, "ACME-CR-1")[-1].card)
