"""Meetings through the real Teams front end: schedule with the confirmation card, Confirm twice (one meeting),
the announcement naming the invite, a change request waiting for approval, a defect and a member's point before
the agenda's time, the agenda posted in
the channel at its time once, and the organizer asked in a 1:1 chat what was decided."""

from __future__ import annotations

from tests.frontends.teams.test_demos import _engagement


async def test_meeting_schedule_agenda_and_minutes_on_teams(teams):
    asha, carl, dev, general = await _engagement(teams)
    # Dev (Kathmandu, +5:45) plans the weekly sync at 15:00 his time: Tue 5 Jan 2027 09:15 UTC.
    r = await teams.say(dev, "meeting schedule every tuesday 15:00 | Weekly sync", where=general)
    assert "Tue 5 Jan 2027 15:00 Asia/Kathmandu" in r.text and "Tue 5 Jan 2027 09:15 Europe/London" in r.text
    confirm_call = r.replies[-1]
    done = await teams.click(dev, confirm_call, "Confirm")
    assert done.status == 200 and "Scheduled ACME-MTG-1" in done.text
    again = await teams.click(dev, confirm_call, "Confirm")
    assert again.status == 200
    await teams.drain()
    posted = [c for c in teams.connector.sent(general.id) if "Meeting scheduled: Weekly sync" in c.text_dump()]
    assert len(posted) == 1
    assert "acme-mtg-1.ics" in posted[0].text_dump() and "Asia/Kathmandu" in posted[0].text_dump()

    # Refusals come back with the reason; nothing is saved.
    r = await teams.say(carl, "meeting schedule every month on the 15th 10:00 | Sync", where=general)
    assert "weekday of the month" in r.text

    # Before the agenda's time: a change request waits for approval, a defect is filed, Carl adds a point.
    r = await teams.say(carl, "cr new Partner API", where=general)
    form = [c for c in r.replies if "Business reason" in c.text_dump()][-1]
    fields = {"title": "Partner API", "description": "d", "business_reason": "b", "priority": "high"}
    assert (await teams.click(carl, form, "Submit", inputs=fields)).status == 200
    r = await teams.say(dev, "cr assess ACME-CR-1", where=general)
    form = [c for c in r.replies if "Effort (hours)" in c.text_dump()][-1]
    estimate = {"effort_hours": "40", "cost": "6000", "schedule_impact_days": "5", "risk": "medium"}
    assert "sent for approval" in (await teams.click(dev, form, "Save estimate", inputs=estimate)).text
    await teams.say(carl, "defect s2 Search ignores filters", where=general)
    r = await teams.say(carl, "meeting agenda add Sign-off of the UAT plan", where=general)
    assert "Added to ACME-MTG-1" in r.text
    await teams.advance(hours=24)  # Tue 08:00 UTC: not yet
    assert not [c for c in teams.connector.sent(general.id) if "Agenda: Weekly sync" in c.text_dump()]
    await teams.advance(minutes=15)  # an hour before the start
    await teams.drain()
    agendas = [c for c in teams.connector.sent(general.id) if "Agenda: Weekly sync" in c.text_dump()]
    assert len(agendas) == 1
    assert "Sign-off of the UAT plan" in agendas[0].text_dump() and "added by Carl" in agendas[0].text_dump()

    await teams.advance(hours=2, minutes=1)  # the end (10:15 UTC)
    await teams.drain()
    asked = [c for c in teams.connector.sent() if "What was decided at Weekly sync?" in c.text_dump()]
    assert len(asked) == 1 and "Record decisions and action items" in asked[0].text_dump()
    r = await teams.say(asha, "meeting list", where=general)
    assert "ACME-MTG-1 · Weekly sync" in r.text
