"""Working hours through the real Teams front end: `/cadence hours` typed in a 1:1 chat and in the channel,
`/cadence overlap` in each reader's own time (Adaptive Card date functions), and a demo outside the vendor's
hours warned about on its confirmation card, then saved at the suggested time."""

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
    for name, who, role in (("asha", asha, "client_sponsor"), ("carl", carl, "client_pm"), ("dev", dev, "vendor_lead")):
        await teams.say(who, "cadence whoami", where=general)
        r = await teams.say(
            asha, f"cadence role <at>{name.capitalize()}</at> {role}", where=general, entities=[mention(name)]
        )
        assert r.status == 200
    await teams.drain()
    return asha, carl, dev, general


async def test_hours_and_overlap_on_teams(teams):
    asha, carl, dev, general = await _engagement(teams)
    r = await teams.say(dev, "cadence hours 9:30 - 18:30", where=teams.personal(dev))
    assert "Your working hours are now 09:30–18:30 on mon, tue, wed, thu, fri, in Asia/Kathmandu" in r.text
    r = await teams.say(dev, "cadence hours 22:00-06:00", where=teams.personal(dev))
    assert "overnight window (22:00–06:00) isn't supported" in r.text
    r = await teams.say(dev, "cadence hours", where=general)
    assert "09:30–18:30" in r.text

    # London 09:00–18:00 UTC, Kathmandu 03:45–12:45 UTC: with New York (14:00–23:00 UTC) nobody overlaps.
    r = await teams.say(carl, "cadence overlap", where=general)
    assert "(your date, America/New_York)" in r.text and "No overlap" in r.text
    assert "{{TIME(" in r.text or "{{DATE(" in r.text  # each reader's own time
    assert "Dev (Asia/Kathmandu, 09:30–18:30)" in r.text
    # Without New York's PM the two sides meet: Asha and Dev share 09:00–12:45 UTC.
    r = await teams.say(asha, "cadence role <at>Carl</at> -client_pm", where=general, entities=[mention("carl")])
    assert r.status == 200
    r = await teams.say(asha, "cadence overlap", where=general)
    assert "Both sides are at work" in r.text and "(3 h 45 min)" in r.text


async def test_demo_outside_hours_on_teams(teams):
    _, carl, _, general = await _engagement(teams)
    r = await teams.say(carl, "demo schedule tomorrow 15:00 | Sprint 4 demo", where=general)
    # 15:00 New York is 01:45 in Kathmandu and 20:00 in London.
    assert "Dev — Wed 01:45 Asia/Kathmandu: before their working hours (09:00–18:00)" in r.text
    assert "Asha — Tue 20:00 Europe/London: after their working hours (09:00–18:00)" in r.text
    confirm_call = r.replies[-1]
    use = "Use Tue 5 Jan 12:00 America/New_York"  # 17:00 UTC: only Dev outside, the nearest such hour
    assert use in r.text
    done = await teams.click(carl, confirm_call, use)
    assert done.status == 200 and "Scheduled ACME-DEMO-1" in done.text
    await teams.drain()
    posted = [c for c in teams.connector.sent(general.id) if "Demo scheduled: Sprint 4 demo" in c.text_dump()]
    assert len(posted) == 1 and "Tue 5 Jan 2027 12:00 America/New_York" in posted[0].text_dump()
