"""Meetings through the real Slack front end (signed requests; Web API → stand-in): schedule with the
confirmation, Confirm twice (one meeting), the announcement with local-time tokens and the .ics uploaded; a
change request waiting for approval and a defect opened before the agenda's time; a member's point; the agenda
posted in the channel at its time, once; the organizer's DM after the meeting with the decisions button."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from icalendar import Calendar

from tests.frontends.slack.harness import HOME
from tests.frontends.slack.test_change_requests import ESTIMATE, SCOPE, setup


def last_private_message(slack, who):
    call = slack.private_calls(who)[-1]
    return {"blocks": call.body.get("blocks"), "text": call.body.get("text", ""), "ts": call.body.get("ts", "")}


def dump(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def posts_with(slack, needle: str) -> list[dict]:
    return [m for m in slack.posts(HOME) if needle in dump(m)]


async def test_meeting_on_slack(slack):
    await setup(slack)
    # Victor (Kolkata) plans the weekly sync at 15:00 his time: Tue 5 Jan 2027 09:30 UTC.
    r = await slack.command("victor", "/meeting schedule every tuesday 15:00 | Weekly sync")
    assert r.status == 200
    confirm = slack.last_private("victor")
    assert "Tue 5 Jan 2027 15:00 Asia/Kolkata" in confirm and "Tue 5 Jan 2027 09:30 Europe/London" in confirm
    assert "every Tuesday at 15:00 Asia/Kolkata" in confirm
    message = last_private_message(slack, "victor")
    await slack.click("victor", message, "Confirm", ephemeral=True)
    await slack.click("victor", message, "Confirm", ephemeral=True)
    await slack.settle()
    announce = posts_with(slack, "Meeting scheduled: Weekly sync")
    assert len(announce) == 1
    assert "<!date^" in json.dumps(announce[0])  # each reader sees their own local time
    ics = slack.api.uploads[slack.api.last("upload").body["file_id"]]
    cal = Calendar.from_ical(ics)
    assert str(cal["method"]) == "REQUEST" and "RRULE" in ics.decode()
    assert next(iter(cal.walk("VEVENT"))).decoded("dtstart") == datetime(2027, 1, 5, 9, 30, tzinfo=UTC)

    # Live items before the agenda's time: a change request waiting for approval, a defect; a member's point.
    await slack.command("carol", "/cr new Single sign-on")
    await slack.submit("carol", slack.opened_view(), SCOPE)
    await slack.settle()
    card = next(m for m in slack.posts(HOME) if "ACME-CR-1" in json.dumps(m.get("blocks")))
    await slack.click("victor", card, "Assess impact")
    await slack.submit("victor", slack.opened_view(), ESTIMATE)
    await slack.command("carol", "/defect s2 Search ignores filters")
    await slack.command("dev", "/meeting agenda add Payment sandbox keys from Acme")
    assert "Added to ACME-MTG-1" in slack.last_private("dev")
    await slack.settle()
    assert posts_with(slack, "Agenda: Weekly sync") == []

    slack.core.clock.set(datetime(2027, 1, 5, 8, 30, tzinfo=UTC))  # an hour before
    await slack.settle()
    await slack.settle()
    [agenda] = posts_with(slack, "Agenda: Weekly sync")
    text = dump(agenda)
    assert "Added by members" in text and "Payment sandbox keys from Acme — added by dev" in text
    assert "Nothing is on the agenda" not in text

    # The end: Victor (the organizer) is asked what was decided, once, with the decisions feature's button.
    slack.core.clock.set(datetime(2027, 1, 5, 10, 31, tzinfo=UTC))
    await slack.settle()
    await slack.settle()
    asked = [c for c in slack.api.calls_to("chat.postMessage") if "What was decided at Weekly sync?" in dump(c.body)]
    assert len(asked) == 1
    body = dump(asked[0].body)
    assert '"action_id": "decision.minutes#0"' in body and "Record decisions and action items" in body

    await slack.command("carol", "/meeting list")
    listed = slack.last_private("carol")
    assert "ACME-MTG-1 · Weekly sync — next" in listed and "<!date^" in listed
