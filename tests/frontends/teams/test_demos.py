"""Demos through the real Teams front end: schedule with a confirmation card, the announcement with
the invite, reminders with every member's zone, the agenda request in a 1:1 chat, and the outcome
buttons (only the client side; a second click is told it is recorded)."""

from __future__ import annotations


def mention(name: str) -> dict:
    return {
        "type": "mention",
        "text": f"<at>{name.capitalize()}</at>",
        "mentioned": {"id": f"29:{name}", "name": name.capitalize()},
    }


async def _engagement(teams):
    asha = teams.user("asha", tz="Europe/London")
    carl = teams.user("carl", tz="America/New_York")
    dev = teams.user("dev", tz="Asia/Kathmandu")
    general = teams.channel("general")
    await teams.say(asha, "cadence setup ACME Acme web shop", where=general)
    # Dev leads the vendor team: the client side may seat the vendor's first admin, not a plain developer.
    for name, who, role in (("asha", asha, "client_sponsor"), ("carl", carl, "client_pm"), ("dev", dev, "vendor_lead")):
        await teams.say(who, "cadence whoami", where=general)
        r = await teams.say(
            asha, f"cadence role <at>{name.capitalize()}</at> {role}", where=general, entities=[mention(name)]
        )
        assert r.status == 200
    await teams.drain()
    return asha, carl, dev, general


async def test_demo_schedule_remind_and_outcome_on_teams(teams):
    asha, carl, dev, general = await _engagement(teams)
    r = await teams.say(carl, "demo schedule tomorrow 15:00 | Sprint 4 demo", where=general)
    assert "Tue 5 Jan 2027 15:00 America/New_York" in r.text and "Tue 5 Jan 2027 20:00 Europe/London" in r.text
    confirm_call = r.replies[-1]
    done = await teams.click(carl, confirm_call, "Confirm")
    assert done.status == 200 and "Scheduled ACME-DEMO-1" in done.text
    await teams.drain()
    posted = [c for c in teams.connector.sent(general.id) if "Demo scheduled: Sprint 4 demo" in c.text_dump()]
    assert len(posted) == 1
    text = posted[0].text_dump()
    assert "acme-demo-1.ics" in text  # Teams cannot take the file: the card says so
    assert "Asia/Kathmandu" in text and "Europe/London (engagement)" in text

    # Refusals come back with the reason.
    r = await teams.say(carl, "demo schedule yesterday 3pm", where=general)
    assert "in the past" in r.text

    await teams.advance(hours=12)  # 24 h before: reminder in the channel, agenda request to Dev
    assert [c for c in teams.connector.sent(general.id) if "Demo tomorrow: Sprint 4 demo" in c.text_dump()]
    dm = [c for c in teams.connector.sent() if "What will you show" in c.text_dump()]
    assert dm
    r = await teams.say(dev, "demo agenda 1 The new checkout", where=teams.personal(dev))
    assert "The new checkout" in r.text
    await teams.advance(hours=23)
    hour = [c for c in teams.connector.sent(general.id) if "Demo in 1 hour" in c.text_dump()]
    assert hour and "The new checkout" in hour[0].text_dump()

    await teams.advance(hours=2)
    ask = [c for c in teams.connector.sent(general.id) if "How did the demo go?" in c.text_dump()][-1]
    r = await teams.click(dev, ask, "Accepted")
    assert "Only the client side" in r.text
    r = await teams.click(asha, ask, "Accepted")
    assert r.status == 200 and "Recorded" in r.text
    r = await teams.click(carl, ask, "Accepted")
    assert "already recorded" in r.text
    await teams.drain()
    r = await teams.say(carl, "demo history", where=general)
    assert "Accepted by Asha" in r.text
