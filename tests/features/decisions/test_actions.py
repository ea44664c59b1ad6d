"""Action items on the console core: saved at once with how the date was read; the owner a seated member;
past and impossible dates refused; the owner's reminder at 10:00 their time on the due day (their last work
day before it when the due day is not one), across zones and a DST change; the overdue flag in the channel
once, the morning after in the home zone; done by the owner, the creator or an admin, which drops the
timers; lists."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.features.decisions.cards import DONE
from bot.features.decisions.timers import OVERDUE, REMIND
from tests.features.decisions.support import action_items, audit_steps, card_text, dms_to, posts, said, timers
from tests.features.standups.support import goto
from tests.helpers import click, make_engagement, run

MEMBERS = {
    "alice": ("Europe/London", ["client_sponsor"]),
    "carol": ("America/New_York", ["client_pm"]),
    "asha": ("Asia/Kathmandu", ["client_member"]),
    "newf": ("America/St_Johns", ["client_member"]),
    "victor": ("Asia/Kolkata", ["vendor_pm"]),
    "dev": ("Asia/Kathmandu", ["developer"]),
    "kiri": ("Pacific/Auckland", ["qa"]),
}


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def test_saved_reminded_flagged_once_and_done(core, clock):
    people = await make_engagement(core, members=MEMBERS)
    victor, carol, dev = people["victor"], people["carol"], people["dev"]
    # Mon 4 Jan 13:30 in Kolkata: "fri" is Fri 8 Jan.
    r = await run(core, victor, "/action @carol send the sandbox keys by fri")
    text = said(r)
    assert "Saved ACME-A-1 for" in text and "“send the sandbox keys”" in text, text
    assert "“fri” read as Fri 8 Jan 2027 in your zone, Asia/Kolkata" in text
    await core.drain()
    card = posts(core, "Action ACME-A-1")[-1].card
    assert "Due: Fri 8 Jan 2027" in card_text(card) and [b.label for b in card.buttons] == ["Done"]
    [item] = await action_items(core)
    assert item.state == "open" and item.due_date.isoformat() == "2027-01-08"
    # 10:00 in New York on Fri 8 Jan; the flag 10:00 London on Sat 9 Jan.
    assert [t.due_at for t in await timers(core, REMIND)] == [at(2027, 1, 8, 15, 0)]
    assert [t.due_at for t in await timers(core, OVERDUE)] == [at(2027, 1, 9, 10, 0)]

    await goto(core, at(2027, 1, 8, 14, 59))
    assert not dms_to(core, "carol", "ACME-A-1")
    await goto(core, at(2027, 1, 8, 15, 0))
    [reminder] = dms_to(core, "carol", "Action ACME-A-1 is due Fri 8 Jan 2027")
    assert [b.label for b in reminder.card.buttons] == ["Done"]
    await goto(core, at(2027, 1, 9, 10, 0))
    assert len(posts(core, "ACME-A-1 is overdue")) == 1
    await goto(core, at(2027, 1, 12, 10, 0))
    assert len(posts(core, "ACME-A-1 is overdue")) == 1  # once

    # Someone neither owner, creator nor admin is refused; the owner marks it done.
    r = await click(core, dev, DONE, card.buttons[0].value)
    assert r.refused and "Only ACME-A-1's owner" in said(r)
    r = await click(core, carol, DONE, card.buttons[0].value)
    assert "Marked ACME-A-1 done (it was due Fri 8 Jan 2027)." in said(r), said(r)
    r = await run(core, victor, "/action done ACME-A-1")
    assert r.refused and "already marked done" in said(r)
    assert [a for a, _ in await audit_steps(core, "action_item")] == ["created", "done"]


async def test_done_drops_the_timers_and_lists(core):
    people = await make_engagement(core, members=MEMBERS)
    victor, carol, alice = people["victor"], people["carol"], people["alice"]
    await run(core, victor, "/action @carol approve the wireframes by jan 20")
    await run(core, carol, "/action @victor share the test plan by 2027-01-15")
    r = await run(core, carol, "/action list mine")
    assert "ACME-A-1" in said(r) and "ACME-A-2" not in said(r)
    r = await run(core, alice, "/action list")
    assert said(r).index("ACME-A-2") < said(r).index("ACME-A-1")  # earliest due first
    # The creator (not the owner) may mark done; an admin of the other company may not close Victor's item alone.
    r = await run(core, victor, "/action done A-1")
    assert "Marked ACME-A-1 done." in said(r)
    r = await run(core, alice, "/action done 2")
    assert "an admin of the owner's side" in said(r)
    r = await run(core, victor, "/action done 2")
    assert "Marked ACME-A-2 done." in said(r)
    assert await timers(core, "action.") == []
    r = await run(core, alice, "/action list")
    assert "None open." in said(r)


async def test_reminder_mornings_across_zones_weekends_and_dst(core, clock):
    people = await make_engagement(core, members=MEMBERS)
    victor = people["victor"]
    clock.set(at(2027, 3, 8, 12, 0))  # Mon 8 Mar
    for owner, phrase in (
        ("asha", "2027-03-10"),  # Kathmandu +5:45: 10:00 → 04:15 UTC
        ("newf", "2027-03-10"),  # St John's -3:30: 10:00 → 13:30 UTC
        ("kiri", "2027-03-10"),  # Auckland +13 (daylight time): 10:00 → 21:00 UTC the day before
        ("carol", "2027-03-15"),  # New York after the change to daylight time on Sun 14 Mar: 14:00 UTC
        ("alice", "2027-03-13"),  # a Saturday in London: her last work day, Fri 12 Mar
    ):
        r = await run(core, victor, f"/action @{owner} check the build by {phrase}")
        assert "Saved" in said(r), said(r)
    due = [t.due_at for t in sorted(await timers(core, REMIND), key=lambda t: t.payload["action_id"])]
    assert due == [
        at(2027, 3, 10, 4, 15),
        at(2027, 3, 10, 13, 30),
        at(2027, 3, 9, 21, 0),
        at(2027, 3, 15, 14, 0),
        at(2027, 3, 12, 10, 0),
    ]
    # A new zone moves the owner's reminder to their new morning.
    await run(core, people["carol"], "/cadence tz Asia/Kolkata")
    [carols] = [t for t in await timers(core, REMIND) if t.key.startswith(f"{REMIND}:4:")]
    assert carols.due_at == at(2027, 3, 15, 4, 30)


async def test_bad_input_saves_nothing(core):
    people = await make_engagement(core, members=MEMBERS)
    victor = people["victor"]
    await run(core, victor, "/cadence whoami")
    for text, expected in (
        ("/action @carol send keys by 2027-01-01", "which is past"),
        ("/action @carol send keys by feb 30", "feb 30"),
        ("/action @carol send keys by next blursday", "blursday"),
        ("/action @carol send keys", "Usage"),
        ("/action @nobody send keys by fri", "I don't know anyone called “nobody”"),
        ("/action @carol by fri", "Name the owner, the action and the date"),
        ("/action done ACME-A-9", "There is no action item ACME-A-9"),
    ):
        r = await run(core, victor, text)
        assert r.refused and expected in said(r), (text, said(r))
    assert await action_items(core) == []
    for value in ("", "x", "77"):
        r = await click(core, victor, DONE, value)
        assert r.refused and "no longer exists" in said(r)


async def test_a_restart_across_the_due_morning_reminds_and_flags_once(any_db_url, clock, make_core):
    first = await make_core(any_db_url)
    people = await make_engagement(first, members=MEMBERS)
    await run(first, people["victor"], "/action @carol send the sandbox keys by fri")
    await first.drain()
    await first.engine.dispose()  # the process dies before Friday

    clock.set(at(2027, 1, 11, 6, 0))  # down past the reminder and the overdue flag
    second = await make_core(any_db_url)
    third = await make_core(any_db_url)
    await asyncio.gather(second.drain(), third.drain())
    await second.drain()
    reminders = dms_to(second, "carol", "ACME-A-1") + dms_to(third, "carol", "ACME-A-1")
    flags = posts(second, "ACME-A-1 is overdue") + posts(third, "ACME-A-1 is overdue")
    assert len(reminders) == 1 and len(flags) == 1
    fired = await timers(second, "action.", "done")
    assert len(fired) == 2 and all(t.lateness_seconds > 0 for t in fired)
