"""The RAID log through the real Teams front end (Bot Framework activities, connector stand-in): an item added
in the channel with an @mention as its owner and a red status (posted in the channel, the owner mentioned),
listed, updated by its owner with a new review date, and the owner's reminder in their personal chat at their own
morning on the review date."""

from __future__ import annotations

from datetime import UTC, datetime


def _mention(name: str) -> list[dict]:
    return [
        {
            "type": "mention",
            "text": f"<at>{name.capitalize()}</at>",
            "mentioned": {"id": f"29:{name}", "name": name.capitalize()},
        }
    ]


async def test_raid_log_on_teams(teams):
    asha, victor, dev = (
        teams.user("asha", tz="Europe/London"),
        teams.user("victor", tz="Asia/Kolkata"),
        teams.user("dev", tz="Asia/Kathmandu"),
    )
    general = teams.channel("general")
    await teams.say(asha, "cadence setup ACME Acme web shop as client_sponsor", where=general)
    await teams.added(victor)  # victor installed the bot personally: proactive DMs can reach him
    for user in (victor, dev):
        await teams.say(user, "cadence whoami", where=general)
    for user, role, seater in ((victor, "vendor_pm", asha), (dev, "developer", victor)):
        await teams.say(seater, f"cadence role <at>{user.name}</at> {role}", where=general, entities=_mention(user.key))
    await teams.drain()

    r = await teams.say(
        dev,
        "raid add risk Payment provider may slip owner <at>Victor</at> review jan 8 red",
        where=general,
        entities=_mention("victor"),
    )
    assert "Added ACME-R-1 risk" in r.text and "Posted in the home channel" in r.text, r.text
    await teams.drain()
    red = [t for t in teams.connector.texts(general.id) if "ACME-R-1 risk raised" in t]
    assert red and "Victor" in red[-1]

    r = await teams.say(asha, "raid list", where=general)
    assert "ACME-R-1" in r.text and "Payment provider may slip" in r.text, r.text
    r = await teams.say(victor, "raid update ACME-R-1 review jan 11 note provider confirmed a date", where=general)
    assert "review Mon 11 Jan 2027" in r.text, r.text
    r = await teams.say(dev, "raid update ACME-R-1 closed owner", where=general)
    assert "Owner who?" in r.text, r.text

    # Mon 11 Jan 10:00 in Kolkata (04:30 UTC): the reminder in Victor's personal chat.
    teams.core.clock.set(datetime(2027, 1, 11, 4, 30, tzinfo=UTC))
    await teams.drain()
    assert any("Review today: ACME-R-1 risk" in t for t in teams.connector.texts(teams.personal(victor).id))
