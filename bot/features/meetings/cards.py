"""How meetings read: times in several zones, the confirmation's fields, the announcement, reminders, the agenda,
the after-meeting request and the App Home card. No database here."""

from __future__ import annotations

from datetime import datetime

from bot.features.events.cards import announcement as event_announcement
from bot.features.events.cards import duration_label, fmt_in, lead_label, rhythm, zone_lines
from bot.features.meetings.queries import meeting_ref
from bot.features.meetings.settings import KINDS
from bot.kernel.messages import Button, Card, Field
from bot.kernel.text import when
from bot.shared.recurrence import describe, occurrences
from bot.shared.when import zone_of
from storage.models import Engagement
from storage.models.meetings import Meeting, MeetingOccurrence

KIND_LABELS = {"sync": "Sync", "review": "Monthly review", "kickoff": "Kick-off", "other": "Other"}
# The decisions feature owns this action and its form; the meetings feature only offers the button.
MINUTES_ACTION = "decision.minutes"


def repeats_text(rrule: str, start: datetime, zone: str) -> str:
    return f"{describe(rrule)} at {start.astimezone(zone_of(zone)):%H:%M} {zone} (kept across daylight-saving changes)"


def confirm_fields(
    *,
    engagement: Engagement,
    kind: str,
    title: str,
    start: datetime,
    zone: str,
    rrule: str | None,
    duration: int,
    zones: list[str],
    notes: list[str],
) -> list[Field]:
    """Every field of the confirmation card ("here is how I read it"): what, when in the meeting's zone and in
    each reader's own time, every member's zone, the rhythm and what was assumed (`notes`). The caller
    (commands._confirmation) appends the out-of-hours warning."""
    fields = [
        Field("Meeting", f"{title} ({KIND_LABELS[kind]})", short=False),
        Field("When", fmt_in(start, zone, offset=True), short=False),
        Field("Your time", when(start), short=False),
        Field("Time zones", zone_lines(start, zones, home=engagement.home_tz or "UTC"), short=False),
        Field("Duration", duration_label(duration)),
    ]
    if rrule:
        following = ", ".join(
            f"{o:%a} {o.day} {o:%b} {o:%H:%M}" for o in list(occurrences(rrule, start, zone, limit=4))[1:]
        )
        fields.append(Field("Repeats", f"{repeats_text(rrule, start, zone)}; then {following}", short=False))
    if notes:
        fields.append(Field("Note", "\n".join(notes), short=False))
    return fields


def announcement(
    *,
    engagement: Engagement,
    meeting: Meeting,
    occ: MeetingOccurrence,
    zones: list[str],
    title: str,
    text: str,
    tone: str = "info",
    one_occurrence: bool = False,
) -> Card:
    """`one_occurrence`: only `occ` moved; the series keeps its rhythm."""
    repeats = None
    if meeting.rrule:
        repeats = repeats_text(meeting.rrule, meeting.start_at if one_occurrence else occ.starts_at, meeting.tz)
        repeats = f"Unchanged: {repeats}." if one_occurrence else repeats
    return event_announcement(
        meeting,
        occ,
        head=[
            Field(
                "Meeting", f"{meeting_ref(engagement, meeting)} · {meeting.title} ({KIND_LABELS[meeting.kind]})", False
            )
        ],
        repeats=repeats,
        zones=zones,
        home=engagement.home_tz or "UTC",
        title=title,
        text=text,
        tone=tone,
        footer="Add the attached invite to your calendar. `/meeting agenda add <text>` puts a point on the agenda.",
    )


def agenda_ref(occ: MeetingOccurrence) -> str:
    return f"meeting:occ:{occ.id}:agenda"


def reminder_card(
    engagement: Engagement,
    meeting: Meeting,
    occ: MeetingOccurrence,
    minutes: int,
    *,
    zones: list[str],
    late_minutes: int = 0,
) -> Card:
    return Card(
        title=f"{KIND_LABELS[meeting.kind]} {lead_label(minutes)}: {meeting.title}",
        text=f"{meeting_ref(engagement, meeting)} · {meeting.title} starts {when(occ.starts_at)}.",
        fields=[Field("Time zones", zone_lines(occ.starts_at, zones, home=engagement.home_tz or "UTC"), False)],
        footer=f"This reminder is {late_minutes} min late (Cadence was unavailable)." if late_minutes else "",
    )


# An agenda is read in a few minutes before a call: each job's section shows its first lines (each job puts the
# most pressing first: overdue before due, breached before at risk) and says how many more there are, instead of a
# message of hundreds of lines (bench/agenda.py: 712 on a busy engagement) that no one reads and Slack cuts.
SECTION_LINES = 12
POINTS = 25


def _capped(lines: list[str], limit: int) -> list[str]:
    if len(lines) <= limit:
        return lines
    return [*lines[:limit], f"… and {len(lines) - limit} more"]


def agenda_card(
    engagement: Engagement,
    meeting: Meeting,
    occ: MeetingOccurrence,
    *,
    sections: list[tuple[str, list[str]]],
    items: list[tuple[str, str]],
    figures: list[Card],
    month: str | None = None,
    late_minutes: int = 0,
) -> Card:
    """The agenda as it stands: each feature's non-empty section (`sections`: (title, lines)), what members added
    (`items`: (text, who)), and for a monthly review the month's figures (`figures`, the report sections' cards
    for `month`)."""
    parts = [
        Card(title=title, text="\n".join(f"• {line}" for line in _capped(lines, SECTION_LINES)))
        for title, lines in sections
        if lines
    ]
    if items:
        points = _capped([f"{text} — added by {who}" for text, who in items], POINTS)
        parts.append(Card(title="Added by members", text="\n".join(f"• {line}" for line in points)))
    empty = not parts
    if figures:
        # One heading, no text of its own: Slack takes 50 blocks a message, and the report's sections need them.
        parts.append(Card(title=f"The month's figures ({month}, from the health report)", sections=figures))
    head = f"{meeting_ref(engagement, meeting)} · {meeting.title} starts {when(occ.starts_at)}."
    if empty:
        head += " Nothing is on the agenda: no open items need this meeting, and nobody added a point."
    footer = "Add a point: `/meeting agenda add <text>`."
    if late_minutes:
        footer = f"This agenda is {late_minutes} min late (Cadence was unavailable). " + footer
    return Card(title=f"Agenda: {meeting.title}", text=head, sections=parts, footer=footer)


def minutes_request(engagement: Engagement, meeting: Meeting, occ: MeetingOccurrence) -> Card:
    """To the organizer when an occurrence ends: what was decided (the decisions feature records it)."""
    return Card(
        title=f"What was decided at {meeting.title}?",
        text=(
            f"{meeting_ref(engagement, meeting)} ({when(occ.starts_at)}) has ended. Written notes should follow every "
            "spoken decision: record the decisions and action items while they are fresh."
        ),
        buttons=[Button("Record decisions and action items", MINUTES_ACTION, str(occ.id), "primary")],
    )


def meeting_line(engagement: Engagement, meeting: Meeting, occ: MeetingOccurrence) -> str:
    return f"{meeting_ref(engagement, meeting)} · {meeting.title} — next {when(occ.starts_at)}" + rhythm(meeting, occ)


def so_far(agenda: Card, meeting: Meeting, lead_minutes: int) -> Card:
    """The agenda as it would be posted now (`/meeting agenda`), saying that the real one is built again at its
    time."""
    agenda.title = f"Agenda so far: {meeting.title}"
    agenda.footer = (
        f"As things stand now; the agenda posted {duration_label(lead_minutes)} before the meeting is built again "
        "from what is open then. Add a point: `/meeting agenda add <text>`."
    )
    return agenda


def home_card(engagement: Engagement, rows: list[tuple[Meeting, MeetingOccurrence]]) -> Card:
    return Card(
        title=f"Meetings · {engagement.key}",
        text="\n".join(meeting_line(engagement, m, o) for m, o in rows[:8]),
    )


def default_title(kind: str) -> str:
    return KINDS[kind]
