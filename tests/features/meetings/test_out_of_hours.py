"""A meeting outside an invitee's working hours warns before it is saved, like a demo (bot/kernel/hours.py: one
confirmation for both): who, their local time, why, and the suggested start as a second Confirm; a weekly sync
taken at the suggestion keeps its rhythm on the suggested weekday. Clock: Mon 4 Jan 2027 08:00 UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from storage.models.meetings import Meeting, MeetingOccurrence
from tests.features.demos.test_out_of_hours import NY_BERLIN, NY_KOLKATA, as_seen, buttons
from tests.helpers import click, make_engagement, reply_text, run


async def meetings(core) -> list[tuple[Meeting, MeetingOccurrence]]:
    async with core.session_factory() as s:
        rows = await s.execute(
            select(Meeting, MeetingOccurrence).join(MeetingOccurrence, MeetingOccurrence.meeting_id == Meeting.id)
        )
        return list(rows.tuples())


async def test_a_sync_at_night_in_berlin_warns_and_the_suggestion_keeps_the_weekly_rhythm(core):
    people = await make_engagement(core, members=NY_BERLIN)
    reply = await run(core, people["carol"], "/meeting schedule every thursday 15:00 | Weekly sync")
    card = reply.private[0]
    seen = as_seen(card, "America/New_York")
    assert card.tone == "warning"
    assert "Lena — Thu 21:00 Europe/Berlin: after their working hours (09:00–18:00)" in seen
    assert "Suggested: Thu 11:00 (your time): inside everyone's working hours." in seen
    assert list(buttons(card)) == ["Confirm", "Use Thu 7 Jan 11:00 America/New_York", "Cancel"]
    assert await meetings(core) == []  # nothing saved before a confirmation
    done = await click(core, people["carol"], "meeting.confirm", buttons(card)["Use Thu 7 Jan 11:00 America/New_York"])
    assert "Scheduled" in done.update.title, reply_text(done)
    [(meeting, occ)] = await meetings(core)
    assert occ.starts_at == datetime(2027, 1, 7, 16, tzinfo=UTC)
    assert meeting.rrule is not None and "BYDAY=TH" in meeting.rrule
    # The card's other button finds the saved meeting: one card, one meeting.
    again = await click(core, people["carol"], "meeting.confirm", buttons(card)["Confirm"])
    assert "Already scheduled" in again.update.title
    assert len(await meetings(core)) == 1


async def test_no_overlap_new_york_kolkata_offers_the_best_compromise_and_confirm_as_is_still_works(core):
    people = await make_engagement(core, members=NY_KOLKATA)
    reply = await run(core, people["carol"], "/meeting schedule kickoff next wed 10:00 | Kick-off")
    card = reply.private[0]
    seen = as_seen(card, "America/New_York")
    assert "Victor — Wed 20:30 Asia/Kolkata: after their working hours (09:00–18:00)" in seen
    assert "No time within a week either way suits more people." in seen  # none suits both: no overlap
    await click(core, people["carol"], "meeting.confirm", buttons(card)["Confirm"])
    [(meeting, occ)] = await meetings(core)
    assert meeting.kind == "kickoff" and occ.starts_at == datetime(2027, 1, 6, 15, tzinfo=UTC)


async def test_inside_everyones_hours_no_warning(core):
    people = await make_engagement(core, members=NY_BERLIN)
    reply = await run(core, people["carol"], "/meeting schedule next thu 10:00 | Planning")
    card = reply.private[0]
    assert card.tone == "info" and list(buttons(card)) == ["Confirm", "Cancel"]
    assert "Outside working hours" not in as_seen(card, "America/New_York")
