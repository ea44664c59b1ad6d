"""`/meeting …`: schedule (with a confirmation), new (the form), list, cancel, move, agenda; the buttons, form,
timers, hooks and App Home section behind them (`register`). Handlers parse, call the service (rules) or queries
(look-ups), and answer with neutral cards."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.events import commands as events
from bot.features.events import service as event_rules
from bot.features.events.cards import duration_label, fmt_in
from bot.features.events.drafts import new_draft_key
from bot.features.events.queries import member_zones, upcoming_occurrence
from bot.features.meetings import cards, forms, queries, service, timers
from bot.features.meetings import settings as meeting_settings
from bot.features.meetings.queries import MEETINGS
from bot.features.meetings.settings import DEFAULT_KIND, KINDS, MAX_DURATION, settings
from bot.kernel import hours
from bot.kernel.context import Ctx
from bot.kernel.errors import UserError
from bot.kernel.messages import Card, Field, Reply
from bot.kernel.registry import Registry
from bot.kernel.text import MAX_TITLE, InputTooLong, clean, plural, when
from bot.shared.numbers import NumberError, parse_number
from bot.shared.when import Understood, WhenRefused, fmt_local, parse_when, read_when_title, split_when_title
from storage.models import Engagement, Person
from storage.models.meetings import Meeting, MeetingOccurrence

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

EXAMPLES = (
    "Examples: `/meeting schedule every monday 11:00 | Weekly sync`, "
    "`/meeting schedule review first tuesday of the month 15:00`, "
    "`/meeting schedule kickoff next thu 3pm | Kick-off with Acme`."
)
# The kind may open the line: `sync`, `weekly sync`, `review`, `monthly review`, `kickoff`, `kick-off`, `other`.
_KIND_RE = re.compile(r"^\s*(?P<kind>weekly\s+sync|sync|monthly\s+review|review|kick-?off|other)\b[\s:,-]*", re.I)
_KIND_WORDS = {"weekly sync": "sync", "monthly review": "review", "kick-off": "kickoff"}
# A sync written as a weekday and a time, with no date ("monday 11:00", "on thu at 3pm Asia/Kolkata"): weekly.
_BARE_WEEKDAY_RE = re.compile(
    r"^\s*(?:on\s+)?(?:mon|tue|tues|wed|weds|thu|thur|thurs|fri|sat|sun)(?:day|nesday|rsday|urday|sday)?s?\b[^\d]*"
    r"\d{1,2}(?::\d{2})?\s*(?:am|pm)?(?:\s+[^\d]*)?$",
    re.I,
)


def split_kind(args: str) -> tuple[str, str]:
    """(kind, the rest) from `/meeting schedule` arguments; the default kind when none opens the line."""
    m = _KIND_RE.match(args)
    if not m:
        return DEFAULT_KIND, args.strip()
    word = " ".join(m.group("kind").lower().split())
    return _KIND_WORDS.get(word, word), args[m.end() :].strip()


def read_when(ctx: Ctx, kind: str, text: str, *, find_title: bool) -> tuple[Understood, str | None, list[str]]:
    """How `text` reads as a meeting time (and the title found in it, with `find_title`), with notes on what was
    assumed: a sync on a bare weekday is weekly."""
    tz = ctx.person.tz or "UTC"
    try:
        if find_title:
            u, title = read_when_title(text, now=ctx.now, speaker_tz=tz, monthly=True)
        else:
            u, title = parse_when(text, now=ctx.now, speaker_tz=tz, monthly=True), None
        notes = [u.note] if u.note else []
        spoken = u.text  # the words read as the time (without the title)
        if kind == "sync" and u.rrule is None and _BARE_WEEKDAY_RE.match(spoken):
            weekly = parse_when(f"every {spoken}", now=ctx.now, speaker_tz=tz, monthly=True)
            u = replace(weekly, text=u.text)
            notes.append(f"A sync on “{clean(spoken, limit=60, multiline=False)}” is read as every week.")
        return u, title, notes
    except WhenRefused as exc:
        raise UserError(f"I can't schedule that: {exc.message}\n{EXAMPLES}") from exc


def _title(text: str | None, kind: str) -> str:
    return clean(text, limit=MAX_TITLE, what="The title", multiline=False) or KINDS[kind]


async def _confirmation(
    ctx: Ctx,
    engagement: Engagement,
    *,
    heading: str,
    text: str,
    draft: service.Draft,
    u: Understood,
    notes: list[str],
) -> Reply:
    """The one confirmation card of `/meeting schedule`, `/meeting new` and `/meeting move`: its fields from
    cards.confirm_fields, and when the slot is outside someone's working hours, who and why with the suggested
    start as a second Confirm (bot/kernel/hours.py)."""
    duration = int(draft.duration or settings(engagement)["duration_minutes"])
    fields = cards.confirm_fields(
        engagement=engagement,
        kind=draft.kind,
        title=draft.title or KINDS[draft.kind],
        start=u.start,
        zone=u.zone,
        rrule=draft.rrule,
        duration=duration,
        zones=await member_zones(ctx.session, engagement),
        notes=notes,
    )
    check = await hours.check_slot(ctx.session, engagement, u.start, duration, now=ctx.now)
    return Reply(private=[events.confirmation_card(MEETINGS, heading, text, fields, draft, check)])


async def _schedule_reply(
    ctx: Ctx,
    engagement: Engagement,
    kind: str,
    when_text: str,
    title_text: str | None,
    duration: int | None = None,
    *,
    find_title: bool = False,
) -> Reply:
    u, found, notes = read_when(ctx, kind, when_text, find_title=find_title)
    title = _title(title_text or found, kind)
    draft = service.Draft(
        op="new",
        start=u.start.isoformat(),
        tz=u.zone,
        kind=kind,
        rrule=u.rrule,
        title=title,
        duration=duration or settings(engagement)["duration_minutes"],
        key=new_draft_key(),
        eng=engagement.id,
    )
    zone_words = "" if u.explicit_zone else f" (in your zone, {ctx.person.tz or 'UTC'})"
    text = (
        f"Here is how I read “{clean(u.text, limit=200, multiline=False)}”{zone_words}. Confirm to save it and "
        f"announce it with a calendar invite in {engagement.key}'s channel."
    )
    heading = f"Schedule this meeting? ({fmt_local(u.start)} {u.zone})"
    return await _confirmation(ctx, engagement, heading=heading, text=text, draft=draft, u=u, notes=notes)


# -- commands -------------------------------------------------------------------------------------------
async def schedule(ctx: Ctx) -> Reply:
    engagement = events.member(ctx)
    if not ctx.args.strip():
        return Reply(form=forms.new_form(duration=settings(engagement)["duration_minutes"]))
    kind, rest = split_kind(ctx.args)
    when_text, _ = split_when_title(rest)
    if not when_text:
        raise UserError(f"Tell me when the meeting is. {EXAMPLES}")
    return await _schedule_reply(ctx, engagement, kind, rest, None, find_title=True)


async def new(ctx: Ctx) -> Reply:
    engagement = events.member(ctx)
    kind, rest = split_kind(ctx.args)
    when_text, title = split_when_title(rest) if rest else ("", None)
    return Reply(
        form=forms.new_form(
            duration=settings(engagement)["duration_minutes"], kind=kind, when_text=when_text, title=title or ""
        )
    )


async def on_new_form(ctx: Ctx, values: dict[str, str], state: dict) -> Reply:
    engagement = events.member(ctx)
    errors: dict[str, str] = {}
    kind = (values.get("kind") or DEFAULT_KIND).strip().lower()
    if kind not in KINDS:
        errors["kind"] = "Pick one of the kinds offered."
    duration = None
    raw = (values.get("duration") or "").strip()
    if raw:
        try:
            duration = int(
                parse_number(raw, what="The length", minimum=Decimal(5), maximum=Decimal(MAX_DURATION), places=0)
            )
        except NumberError:
            errors["duration"] = f"Give the length in minutes, 5 to {MAX_DURATION}."
    try:
        when_text = clean(values.get("when"), limit=200, what="The time", multiline=False)
    except InputTooLong as exc:
        errors["when"], when_text = str(exc), ""
    if not when_text and "when" not in errors:
        errors["when"] = "Tell me when, e.g. `every monday 11:00`."
    try:
        title = clean(values.get("title"), limit=MAX_TITLE, what="The title", multiline=False)
    except InputTooLong as exc:
        errors["title"], title = str(exc), ""
    if errors:
        return Reply(errors=errors)
    try:
        return await _schedule_reply(ctx, engagement, kind, when_text, title or None, duration)
    except UserError as exc:
        return Reply(errors={"when": exc.message})


async def on_confirm(ctx: Ctx, value: str) -> Reply:
    engagement, draft = events.confirmed(ctx, service.Draft, value)
    if draft.op == "new":
        meeting, occ, created = await service.create(
            ctx.session, ctx.core, engagement=engagement, person=ctx.person, draft=draft, now=ctx.now
        )
        return events.scheduled(MEETINGS, engagement, meeting, occ, created, "reminders and the agenda will follow.")
    meeting, occ = await service.move(
        ctx.session, ctx.core, engagement=engagement, person=ctx.person, roles=ctx.roles, draft=draft, now=ctx.now
    )
    return events.moved(MEETINGS, engagement, meeting, occ, fmt_in(occ.starts_at, meeting.tz, offset=True))


async def list_(ctx: Ctx) -> Reply:
    engagement = ctx.require_engagement()
    rows = await queries.upcoming(ctx.session, engagement, ctx.now)
    if not rows:
        return Reply.say(f"No meetings planned for {engagement.key}. {EXAMPLES}", title="Meetings")
    return Reply(
        private=[
            Card(
                title=f"Meetings — {engagement.key}",
                text="\n".join(cards.meeting_line(engagement, m, o) for m, o in rows),
                footer="`/meeting move <id> <when>` · `/meeting cancel <id> [next]` · `/meeting agenda`",
            )
        ]
    )


async def cancel(ctx: Ctx) -> Reply:
    engagement = events.member(ctx)
    parts = ctx.args.split()
    if not parts or len(parts) > 2 or (len(parts) == 2 and parts[1].lower() != "next"):
        raise UserError(
            "Usage: `/meeting cancel <id>` (the meeting, or the whole series) or `/meeting cancel <id> next` "
            "(only the next occurrence)."
        )
    meeting = await queries.get_meeting(ctx.session, engagement, parts[0])
    summary = await service.cancel(
        ctx.session,
        ctx.core,
        engagement=engagement,
        person=ctx.person,
        roles=ctx.roles,
        meeting=meeting,
        next_only=len(parts) == 2,
        now=ctx.now,
    )
    return Reply.say(summary + " The home channel has been told, with a calendar cancellation.", tone="good")


async def move(ctx: Ctx) -> Reply:
    engagement = events.member(ctx)
    ref, _, rest = ctx.args.strip().partition(" ")
    if not ref or not rest.strip():
        raise UserError("Usage: `/meeting move <id> <when>` (moves the next occurrence, or the one-off).")
    meeting = await queries.get_meeting(ctx.session, engagement, ref)
    await service.check_may_manage(ctx.session, ctx.person, ctx.roles, meeting, "move")
    if meeting.status != "scheduled":
        raise UserError(f"{queries.meeting_ref(engagement, meeting)} is {meeting.status}; nothing to move.")
    occ = await upcoming_occurrence(ctx.session, MEETINGS, meeting, ctx.now)
    if occ is None:
        raise UserError(f"{queries.meeting_ref(engagement, meeting)} has no upcoming occurrence to move.")
    u, _, notes = read_when(ctx, "other", rest, find_title=False)
    if u.rrule:
        raise UserError(
            "`/meeting move` moves one occurrence to one time (e.g. `/meeting move "
            f"{queries.meeting_ref(engagement, meeting)} wed 11:00`). To change the rhythm, cancel the series and "
            "schedule a new one."
        )
    draft = service.Draft(
        op="move",
        start=u.start.isoformat(),
        tz=u.zone,
        kind=meeting.kind,
        title=meeting.title,
        duration=meeting.duration_minutes,
        meeting=meeting.id,
        occ=occ.id,
        seq=meeting.sequence,
        eng=engagement.id,
    )
    what = "the next occurrence (the series keeps its rhythm)" if meeting.rrule else "the meeting"
    return await _confirmation(
        ctx,
        engagement,
        heading=f"Move {queries.meeting_ref(engagement, meeting)}?",
        text=f"This moves {what} from {fmt_in(occ.starts_at, meeting.tz, offset=True)}. Its reminders and "
        "agenda follow. Confirm to save it and send the updated invite.",
        draft=draft,
        u=u,
        notes=notes,
    )


async def _agenda_target(ctx: Ctx, engagement: Engagement, ref: str | None) -> tuple[Meeting, MeetingOccurrence]:
    if ref:
        meeting = await queries.get_meeting(ctx.session, engagement, ref)
        occ = await upcoming_occurrence(ctx.session, MEETINGS, meeting, ctx.now)
        if occ is None or meeting.status != "scheduled":
            raise UserError(f"{queries.meeting_ref(engagement, meeting)} has no upcoming occurrence.")
        return meeting, occ
    found = await queries.next_occurrence_of_engagement(ctx.session, engagement, ctx.now)
    if found is None:
        raise UserError(f"{engagement.key} has no meeting coming up. {EXAMPLES}")
    return found


async def agenda(ctx: Ctx) -> Reply:
    """`/meeting agenda [<id>]` shows the points added so far; `/meeting agenda add [<id>] <text>` adds one (any
    member of either side) to the next meeting (or the one named)."""
    engagement = events.member(ctx)
    head, _, rest = ctx.args.strip().partition(" ")
    if head.lower() != "add":
        if rest.strip():
            raise UserError("Usage: `/meeting agenda [<id>]` or `/meeting agenda add [<id>] <text>`.")
        meeting, occ = await _agenda_target(ctx, engagement, head or None)
        card = await service.build_agenda(ctx.session, ctx.core.registry, engagement, meeting, occ, ctx.now)
        return Reply(private=[cards.so_far(card, meeting, settings(engagement)["agenda_lead_minutes"])])
    first, _, text = rest.strip().partition(" ")
    ref = first if queries.EXPLICIT_REF_RE.match(first) else None
    text = text if ref else rest
    if not text.strip():
        raise UserError("Usage: `/meeting agenda add <text>`, e.g. `/meeting agenda add Release date for v2`.")
    meeting, occ = await _agenda_target(ctx, engagement, ref)
    saved, updated = await service.add_agenda_item(
        ctx.session,
        ctx.core,
        engagement=engagement,
        person=ctx.person,
        meeting=meeting,
        occ=occ,
        text=text,
        now=ctx.now,
    )
    where = "the agenda already posted shows it now" if updated else "it will be on the agenda posted before it"
    return Reply.say(
        f"Added to {queries.meeting_ref(engagement, meeting)} · {meeting.title} ({when(occ.starts_at)}): “{saved}” — "
        f"{where}.",
        tone="good",
    )


SETTINGS_ADMINS = ("client_sponsor", "client_pm", "vendor_pm")


def _settings_card(engagement: Engagement) -> Card:
    s = settings(engagement)
    before = ", ".join(plural(m // 1440, "day") if m % 1440 == 0 else duration_label(m) for m in s["reminder_minutes"])
    return Card(
        title=f"{engagement.key} meeting settings",
        fields=[
            Field("reminders", f"{before} before" if before else "none"),
            Field("agenda", f"posted {duration_label(s['agenda_lead_minutes'])} before"),
            Field("duration", duration_label(s["duration_minutes"])),
        ],
        footer="Change one: `/meeting settings reminders 24h,15m` · `agenda 60` · `duration 45` (minutes).",
    )


async def settings_cmd(ctx: Ctx) -> Reply:
    engagement = events.member(ctx)
    name, _, rest = ctx.args.strip().partition(" ")
    if not name:
        return Reply(private=[_settings_card(engagement)])
    ctx.require_role(*SETTINGS_ADMINS)
    name, rest = name.lower(), rest.strip()
    changes: dict[str, Any]
    if name in ("reminders", "reminder"):
        values = events.reminder_minutes(rest, what="meeting", usage="/meeting settings reminders 24h,15m")
        changes = {"reminder_minutes": values}
    elif name == "agenda":
        minutes = events.length_minutes(rest or "x")
        if not 1 <= minutes <= events.MAX_LEAD:
            raise UserError("Post the agenda 1 minute to 14 days before the meeting (e.g. `agenda 60`).")
        changes = {"agenda_lead_minutes": minutes}
    elif name == "duration":
        minutes = events.length_minutes(rest or "x")
        if not 5 <= minutes <= MAX_DURATION:
            raise UserError(f"A meeting lasts 5 to {MAX_DURATION} minutes.")
        changes = {"duration_minutes": minutes}
    else:
        raise UserError("Settings: `reminders`, `agenda`, `duration`. `/meeting settings` shows them.")
    card = await event_rules.change_settings(
        ctx.session,
        ctx.core,
        meeting_settings.FEATURE,
        engagement=engagement,
        person=ctx.person,
        changes=changes,
        shown=_settings_card,
        now=ctx.now,
    )
    return Reply(private=[card])


async def home_section(session: AsyncSession, core: Cadence, person: Person) -> list[Card]:
    """A person's home (Slack App Home): their engagements' meetings in the next two weeks."""
    rows = await queries.home_meetings(session, person, core.clock.now())
    return [cards.home_card(engagement, upcoming) for engagement, upcoming in rows]


def register(registry: Registry) -> None:
    registry.add_group("meeting", summary="Project meetings: weekly syncs, monthly reviews, kick-offs, their agendas")
    registry.add_settings(meeting_settings.FEATURE, meeting_settings.DEFAULTS)
    add = registry.add_command
    add(
        "meeting",
        "schedule",
        schedule,
        usage="/meeting schedule [sync|review|kickoff|other] <when> | <title>",
        summary="plan a meeting, one-off or a series: `every monday 11:00 | Weekly sync`, `every other thursday "
        "15:00`, `review first tuesday of the month 15:00`, `kickoff next thu 3pm`. A sync on a bare weekday "
        "(`monday 11:00`) is weekly. I show how I read it and ask you to confirm.",
    )
    add("meeting", "new", new, usage="/meeting new", summary="the same in a form")
    add("meeting", "list", list_, usage="/meeting list", summary="upcoming meetings, each with its next time")
    add(
        "meeting",
        "cancel",
        cancel,
        usage="/meeting cancel <id> [next]",
        summary="cancel the meeting (the whole series), or with `next` only its next occurrence; organizer or admins",
    )
    add(
        "meeting",
        "move",
        move,
        usage="/meeting move <id> <when>",
        summary="move the next occurrence (or the one-off); reminders, agenda and invite follow; organizer or admins",
    )
    add(
        "meeting",
        "agenda",
        agenda,
        usage="/meeting agenda [add] [<id>] [<text>]",
        summary="what members put on the next meeting's agenda; `add <text>` puts a point on it (any member). "
        "The agenda is posted before the meeting with the open items of every job",
    )
    add(
        "meeting",
        "settings",
        settings_cmd,
        usage="/meeting settings [name value]",
        summary="reminder lead times, when the agenda is posted, the default duration",
    )
    registry.add_action("meeting.confirm", on_confirm)
    registry.add_action("meeting.discard", events.on_discard)
    registry.add_form(forms.NEW, on_new_form)
    registry.add_timer(service.REMIND, timers.remind)
    registry.add_timer(service.AGENDA, timers.agenda)
    registry.add_timer(service.ENDED, timers.ended)
    registry.add_home_section(home_section)
    registry.add_hook(
        "engagement_settings_changed",
        events.replan_on_settings_change(meeting_settings.FEATURE, service.replan_upcoming),
    )
