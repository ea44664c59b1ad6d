"""The RAID log on the core: adding items (owner, review date read in the speaker's zone, default amber), the
list's order, updates with their history and audit, who may update, red items said in the channel, and the
owner's review reminder at their own morning across zones and a DST change. Clock: Mon 4 Jan 2027 08:00 UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.features.raid.support import audits, dms_to, history, items, posts, said, timers
from tests.helpers import actor, advance, make_engagement, run, sent


@pytest.fixture
async def people(core):
    return await make_engagement(core)


async def test_add_reads_the_review_date_in_the_speakers_zone_and_defaults_to_amber(core, people):
    r = await run(core, people["dev"], "/raid add dependency Sandbox keys from Acme owner @carol review jan 8")
    text = said(r)
    assert "Added ACME-R-1 dependency “Sandbox keys from Acme”, owner Carol, amber" in text
    assert "“jan 8” read as Fri 8 Jan 2027 in your zone, Asia/Kathmandu" in text
    [item] = await items(core)
    assert (item.kind, item.status, item.state, item.review_on.isoformat()) == (
        "dependency",
        "amber",
        "open",
        "2027-01-08",
    )
    assert await audits(core) == [("add", None, "amber")]
    assert not posts(core, "ACME-R-1")  # amber: no noise in the channel


async def test_bad_input_is_refused_and_changes_nothing(core, people):
    dev = people["dev"]
    cases = {
        "/raid add risk Keys late owner @carol review 2027-01-01": "which is past",
        "/raid add risk Keys late owner @carol review 25:30": "25:30",
        "/raid add risk Keys late owner @carol review feb 30": "“feb 30” is not a date",
        "/raid add risk Keys late": "needs an owner",
        "/raid add worry Keys late owner @carol": "Which kind",
        "/raid add risk owner @carol": "Say what the risk is",
        "/raid add risk Keys late owner @nobody": "I don't know anyone called",
        "/raid add risk Keys late owner @carol purple": "I don't understand “purple”",
        "/raid add risk Keys late owner @carol red green": "one status",
    }
    for text, why in cases.items():
        assert why in said(await run(core, dev, text)), text
    assert await items(core) == []
    # Someone known on the platform but seated on neither side cannot own an item.
    await run(core, actor("zed"), "/cadence whoami")
    assert "not seated in ACME" in said(await run(core, dev, "/raid add risk Keys late owner @zed"))
    assert await items(core) == []


async def test_list_shows_reds_first_then_items_past_review(core, people):
    dev, carol = people["dev"], people["carol"]
    await run(core, dev, "/raid add risk Green one owner @carol green")
    await run(core, dev, "/raid add issue Late review owner @carol review jan 5")
    await run(core, dev, "/raid add assumption Red one owner @victor red")
    await advance(core, days=3)  # Thu 7 Jan: the review of ACME-R-2 is past
    lines = said(await run(core, carol, "/raid list")).splitlines()
    order = [next(w for w in ln.split() if w.startswith("ACME-R-")) for ln in lines if "ACME-R-" in ln]
    assert order == ["ACME-R-3", "ACME-R-2", "ACME-R-1"]
    assert "(past)" in next(ln for ln in lines if "ACME-R-2" in ln)
    reds = said(await run(core, carol, "/raid list red"))
    assert "ACME-R-3" in reds and "ACME-R-1" not in reds
    mine = said(await run(core, people["victor"], "/raid list mine"))
    assert "ACME-R-3" in mine and "ACME-R-2" not in mine


async def test_a_new_red_and_a_change_to_red_are_posted_in_the_channel(core, people):
    dev = people["dev"]
    r = await run(core, dev, "/raid add risk Go-live slips owner @victor red")
    assert "Posted in the home channel" in said(r)
    await core.drain()
    assert posts(core, "ACME-R-1 risk raised")
    await run(core, dev, "/raid add issue Flaky CI owner @dev")
    r = await run(core, dev, "/raid update ACME-R-2 red note builds fail twice a day")
    assert "amber → red" in said(r)
    await core.drain()
    assert posts(core, "ACME-R-2 issue turned red")
    before = len(posts(core))
    await run(core, dev, "/raid update ACME-R-2 amber")
    await core.drain()
    assert len(posts(core)) == before  # back to amber: nothing posted


async def test_updates_are_kept_as_history_and_audited_and_only_the_right_people_may_update(core, people):
    dev, quinn, lena, carol = people["dev"], people["quinn"], people["lena"], people["carol"]
    await run(core, dev, "/raid add risk Keys late owner @carol review jan 8")
    refused = said(await run(core, quinn, "/raid update ACME-R-1 red"))
    assert "Only the owner of ACME-R-1, whoever raised it, or an admin" in refused
    # The owner, the one who raised it, and an admin of the owner's side may.
    assert "amber → red" in said(await run(core, carol, "/raid update R-1 red"))
    r = await run(core, dev, "/raid update 1 review jan 12 owner @quinn note handed to QA")
    assert "review Tue 12 Jan 2027 (“jan 12” read as Tue 12 Jan 2027 in your zone, Asia/Kathmandu)" in said(r)
    assert "owner Quinn" in said(r)
    assert "green" in said(await run(core, lena, "/raid update ACME-R-1 green"))
    assert "already reads like that" in said(await run(core, lena, "/raid update ACME-R-1 green"))
    # Quinn (vendor) owns it now: the client's sponsor cannot close the vendor's item alone; the vendor PM can.
    refused = said(await run(core, people["alice"], "/raid update ACME-R-1 closed note done"))
    assert "an admin of the owner's side" in refused and "Nothing was changed" in refused
    assert "closed" in said(await run(core, lena, "/raid update ACME-R-1 closed note done"))
    assert "is closed" in said(await run(core, carol, "/raid update ACME-R-1 red"))
    changes = [c.changes for c in await history(core)]
    assert changes[0] == {"status": ["amber", "red"]}
    assert changes[1]["review_on"] == ["2027-01-08", "2027-01-12"] and "owner" in changes[1]
    assert changes[-1] == {"state": ["open", "closed"]}
    assert [a[0] for a in await audits(core)] == ["add", "update", "update", "update", "close"]
    shown = said(await run(core, carol, "/raid show ACME-R-1"))
    assert "amber → red" in shown and "note “handed to QA”" in shown and "Closed" in shown
    # Never deleted: a closed item is still listed with `all`.
    assert "ACME-R-1" in said(await run(core, carol, "/raid list all"))
    assert "ACME-R-1" not in said(await run(core, carol, "/raid list"))


async def test_ids_of_another_engagement_or_a_rectification_item_are_not_raid_items(core, people):
    dev = people["dev"]
    await run(core, dev, "/raid add risk Keys late owner @carol")
    assert "not an item of ACME" in said(await run(core, dev, "/raid update BETA-R-1 red"))
    assert "is not a RAID item id" in said(await run(core, dev, "/raid update ACME-M-1-R1 red"))
    assert "There is no RAID item ACME-R-9" in said(await run(core, dev, "/raid show ACME-R-9"))


@pytest.mark.parametrize(
    ("owner", "review", "due_utc"),
    [
        ("dev", "jan 8", datetime(2027, 1, 8, 4, 15, tzinfo=UTC)),  # 10:00 Asia/Kathmandu (+5:45)
        ("quinn", "jan 8", datetime(2027, 1, 8, 13, 30, tzinfo=UTC)),  # 10:00 America/St_Johns (-3:30)
        ("victor", "jan 8", datetime(2027, 1, 8, 4, 30, tzinfo=UTC)),  # 10:00 Asia/Kolkata
        # 10:00 New York on the Monday after the spring-forward Sunday (14 Mar 2027): EDT, -4.
        ("carol", "mar 15", datetime(2027, 3, 15, 14, 0, tzinfo=UTC)),
    ],
)
async def test_the_owner_is_reminded_at_their_own_morning_on_the_review_date(core, people, owner, review, due_utc):
    await run(core, people["alice"], f"/raid add risk Keys late owner @{owner} review {review}")
    [timer] = await timers(core)
    assert timer.due_at.astimezone(UTC) == due_utc
    core.clock.set(due_utc - timedelta(minutes=1))
    await core.drain()
    assert not dms_to(core, owner, "Review today")
    core.clock.set(due_utc)
    await core.drain()
    assert dms_to(core, owner, "Review today: ACME-R-1 risk")


async def test_a_new_review_date_replaces_the_reminder_and_closing_drops_it(core, people):
    carol = people["carol"]
    await run(core, people["dev"], "/raid add risk Keys late owner @carol review jan 8")
    await run(core, carol, "/raid update ACME-R-1 review jan 11")
    [timer] = await timers(core)
    assert timer.due_at.astimezone(UTC) == datetime(2027, 1, 11, 15, 0, tzinfo=UTC)  # 10:00 New York (EST)
    await advance(core, days=5)  # past the first date: nothing fires for it
    assert not dms_to(core, "carol", "Review today")
    await run(core, carol, "/raid update ACME-R-1 owner @victor")
    [timer] = await timers(core)
    assert timer.due_at.astimezone(UTC) == datetime(2027, 1, 11, 4, 30, tzinfo=UTC)  # Victor's morning in Kolkata
    await run(core, people["victor"], "/raid update ACME-R-1 closed")  # its owner now
    assert await timers(core) == []
    await advance(core, days=3)
    assert not [d for d in sent(core) if "Review today" in d.text]


async def test_an_owner_who_changes_zone_is_reminded_at_their_new_morning(core, people):
    await run(core, people["dev"], "/raid add risk Keys late owner @carol review jan 8")
    await run(core, people["dev"], "/raid add risk Old one owner @carol review today")
    core.clock.set(datetime(2027, 1, 5, 12, tzinfo=UTC))
    await core.drain()  # the 4 Jan reminder has fired
    await run(core, people["carol"], "/cadence tz Pacific/Auckland")
    [timer] = await timers(core)  # the 4 Jan one, past in Auckland, is not planned again
    assert timer.due_at.astimezone(UTC) == datetime(2027, 1, 7, 21, 0, tzinfo=UTC)  # 10:00 NZDT on 8 Jan


async def test_a_review_date_of_today_after_the_owners_morning_is_reminded_at_once(core, people):
    # Mon 4 Jan 08:00 UTC is 13:30 in Kolkata: Victor's morning has passed.
    await run(core, people["alice"], "/raid add risk Keys late owner @victor review today")
    [timer] = await timers(core)
    assert timer.due_at.astimezone(UTC) == datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
    await core.drain()
    assert dms_to(core, "victor", "Review today: ACME-R-1 risk")
