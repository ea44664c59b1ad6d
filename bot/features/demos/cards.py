"""How demos read: times in several zones, ids, and the cards the feature posts (announcements, reminders,
the outcome request and result, the acceptance record, the App Home card). No database here."""

from __future__ import annotations

from bot.features.events.cards import announcement as event_announcement
from bot.features.events.cards import lead_label, zone_lines
from bot.features.events.kinds import EventKind
from bot.kernel.messages import Button, Card, Field
from bot.kernel.text import when
from bot.shared.recurrence import describe
from bot.shared.when import zone_of
from storage.models import Engagement, Person
from storage.models.demos import Demo, DemoOccurrence, DemoOutcome

OUTCOME_LABELS = {
    "accepted": "Accepted",
    "accepted_with_remarks": "Accepted with remarks",
    "not_accepted": "Not accepted",
}
NEEDS_REMARKS = {"accepted_with_remarks": "Remarks", "not_accepted": "Reasons"}


DEMOS: EventKind[Demo, DemoOccurrence] = EventKind(
    Demo,
    DemoOccurrence,
    name="demo",
    plural="demos",
    ref_word="DEMO",
    invite_note="Reminders, agenda and the outcome are in the engagement's home channel.",
)


def demo_ref(engagement: Engagement, demo: Demo) -> str:
    return DEMOS.ref(engagement, demo)


def outcome_buttons(occ: DemoOccurrence) -> list[Button]:
    return [
        Button("Accepted", "demo.outcome", f"{occ.id}:accepted", "primary"),
        Button("Accepted with remarks", "demo.outcome", f"{occ.id}:accepted_with_remarks"),
        Button("Not accepted", "demo.outcome", f"{occ.id}:not_accepted", "danger"),
    ]


def announcement(
    *,
    engagement: Engagement,
    demo: Demo,
    occ: DemoOccurrence,
    zones: list[str],
    title: str,
    text: str,
    tone: str = "info",
    one_occurrence: bool = False,
    milestone: str | None = None,
) -> Card:
    """`one_occurrence`: only `occ` moved; the series keeps its day and time (shown from the series' start).
    `milestone`: the milestone the demo shows ("ACME-M-1 · Go-live")."""
    head = [
        Field("Demo", f"{demo_ref(engagement, demo)} · {demo.title}", short=False),
        *([Field("Milestone", milestone, short=False)] if milestone else []),
    ]
    repeats = None
    if demo.rrule:
        local = (demo.start_at if one_occurrence else occ.starts_at).astimezone(zone_of(demo.tz))
        repeats = f"{describe(demo.rrule)} at {local:%H:%M} {demo.tz}"
        if one_occurrence:
            repeats = f"Unchanged: {repeats}. Only this occurrence moves."
    return event_announcement(
        demo,
        occ,
        head=head,
        repeats=repeats,
        zones=zones,
        home=engagement.home_tz,
        title=title,
        text=text,
        tone=tone,
        footer="Add the attached invite to your calendar. `/demo list` shows what is planned.",
    )


def reminder_card(
    engagement: Engagement,
    demo: Demo,
    occ: DemoOccurrence,
    minutes: int,
    *,
    offsets: list[int],
    zones: list[str],
    agenda: list[str],
    late_minutes: int = 0,
) -> Card:
    """The reminder `minutes` before `occ`: `offsets` the engagement's reminder offsets (the last one says
    when nobody sent an agenda item), `zones` from queries.member_zones, `agenda` from queries.agenda_lines."""
    offsets = offsets or [minutes]
    is_last = minutes <= min(offsets)
    fields = [
        Field("Demo", f"{demo_ref(engagement, demo)} · {demo.title}", short=False),
        Field("Starts (your time)", when(occ.starts_at), short=False),
        Field("Time zones", zone_lines(occ.starts_at, zones, home=engagement.home_tz), short=False),
    ]
    if agenda:
        fields.append(Field("Agenda", "\n".join(agenda), short=False))
    elif is_last:
        fields.append(Field("Agenda", "Nobody has sent an agenda item.", short=False))
    return Card(
        title=f"Demo {lead_label(minutes)}: {demo.title}",
        text=f"{demo.title} starts {when(occ.starts_at)}.",
        fields=fields,
        footer=f"This reminder is {late_minutes} min late (Cadence was unavailable)." if late_minutes else "",
    )


def outcome_request(engagement: Engagement, demo: Demo, occ: DemoOccurrence, milestone: str | None = None) -> Card:
    shows = f" (milestone {milestone})" if milestone else ""
    return Card(
        title=f"How did the demo go? {demo.title}",
        text=(
            f"{demo_ref(engagement, demo)}{shows} ({when(occ.starts_at)}) has ended. Client side, please record "
            "the outcome: accepted, accepted with remarks, or not accepted (with reasons). It becomes part of "
            "the acceptance record (`/demo history`)."
        ),
        buttons=outcome_buttons(occ),
    )


def outcome_reminder(engagement: Engagement, demo: Demo, occ: DemoOccurrence, milestone: str | None = None) -> Card:
    shows = f" (milestone {milestone})" if milestone else ""
    return Card(
        title=f"Outcome not recorded: {demo.title}",
        text=(
            f"{demo_ref(engagement, demo)}{shows} took place {when(occ.starts_at)} and its outcome is still not "
            "recorded. Please record it: accepted, accepted with remarks, or not accepted (with reasons)."
        ),
        buttons=outcome_buttons(occ),
        tone="warning",
    )


def result_card(
    engagement: Engagement,
    demo: Demo,
    occ: DemoOccurrence,
    outcome: DemoOutcome,
    who: Person,
    *,
    milestone: str | None = None,
    items: list[str] | None = None,
) -> Card:
    """`items`: the rectification items a "not accepted" demo of `milestone` opened; then a button schedules
    the re-demo."""
    tone = {"accepted": "good", "accepted_with_remarks": "warning", "not_accepted": "danger"}[outcome.outcome]
    text = (
        f"{demo_ref(engagement, demo)} ({when(occ.starts_at)}): "
        f"{OUTCOME_LABELS[outcome.outcome]}, recorded by {who.display_name} {when(outcome.recorded_at)}."
    )
    if outcome.remarks:
        text += f"\n{NEEDS_REMARKS.get(outcome.outcome, 'Remarks')}: {outcome.remarks}"
    fields = [Field("Milestone", milestone, short=False)] if milestone else []
    buttons = []
    if items:
        fields.append(Field("Rectification items", ", ".join(items), short=False))
        buttons.append(Button("Schedule the re-demo", "demo.redemo", str(demo.id), "primary"))
    return Card(
        title=f"Demo outcome: {demo.title}",
        text=text,
        fields=fields,
        buttons=buttons,
        tone=tone,
        footer="Part of the acceptance record: `/demo history`.",
    )


def history_card(
    engagement: Engagement,
    rows: list[tuple[DemoOccurrence, Demo, DemoOutcome | None, Person | None]],
    flag: str | None,
) -> Card:
    """The acceptance record: `rows` from queries.outcome_history, `flag` the stale-demo flag."""
    lines = []
    for occ, demo, outcome, who in rows:
        # In the reader's own zone (a `when` token), not the engagement's.
        head = f"{demo_ref(engagement, demo)} · {demo.title} · {when(occ.starts_at)}"
        if outcome is None:
            lines.append(f"{head} — no outcome recorded yet")
        else:
            assert who is not None  # an outcome always has who recorded it (a foreign key)
            line = f"{head} — {OUTCOME_LABELS[outcome.outcome]} by {who.display_name}, {when(outcome.recorded_at)}"
            if outcome.remarks:
                line += f": {outcome.remarks}"
            lines.append(line)
    text = "\n".join(lines) if lines else "No demo has taken place yet."
    return Card(
        title=f"Acceptance record — {engagement.key}", text=text, footer=flag or "", tone="warning" if flag else "info"
    )


def home_card(
    engagement: Engagement,
    upcoming: list[tuple[DemoOccurrence, Demo, bool]],
    waiting: list[tuple[DemoOccurrence, Demo]],
) -> Card:
    """A person's demos in one engagement (App Home): `upcoming` with whether to ask for their agenda item,
    `waiting` the demos whose outcome the client side has not recorded (queries.home_demos)."""
    lines, buttons = [], []
    for occ, demo, ask_agenda in upcoming:
        lines.append(f"{demo_ref(engagement, demo)} · {demo.title} — {when(occ.starts_at)}")
        if ask_agenda:
            buttons.append(Button(f"What I'll show ({demo_ref(engagement, demo)})", "demo.agenda_open", str(occ.id)))
    card = Card(
        title=f"Demos · {engagement.key}",
        text="\n".join(lines) or "No demo in the next two weeks.",
        buttons=buttons[:5],
    )
    for occ, demo in waiting[:3]:
        card.sections.append(
            Card(
                title=f"Outcome needed: {demo_ref(engagement, demo)} · {demo.title}",
                text=f"Took place {when(occ.starts_at)}.",
                buttons=outcome_buttons(occ),
                tone="warning",
            )
        )
    return card
