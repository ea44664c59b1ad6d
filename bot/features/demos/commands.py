"""`/demo …`: schedule (with a confirmation), list, move, cancel, agenda, outcome, history, settings; the
buttons, forms, timers, hooks and App Home section behind them (`register`). Handlers parse, call the
service (rules) or queries (look-ups), and answer with neutral cards."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.demos import cards, queries, service, timers
from bot.features.demos import report as demo_report
from bot.features.demos import settings as demo_settings
from bot.features.demos.cards import DEMOS
from bot.features.events import commands as events
from bot.features.events import service as event_rules
from bot.features.events.cards import duration_label, fmt_in, rhythm, schedule_text
from bot.features.events.drafts import new_draft_key
from bot.features.events.queries import upcoming_occurrence
from bot.features.milestones.queries import ref as milestone_ref
from bot.kernel import hours
from bot.kernel.context import Ctx
from bot.kernel.errors import UserError
from bot.kernel.messages import Card, Field, Form, Input, Reply
from bot.kernel.registry import Registry
from bot.kernel.text import MAX_TEXT, MAX_TITLE, InputTooLong, clean, plural, truncate, when
from bot.shared.numbers import NumberError, parse_number
from bot.shared.recurrence import describe, occurrences, with_weekday
from bot.shared.when import (
    Understood,
    WhenRefused,
    fmt_local,
    parse_when,
    read_when_title,
    split_milestone,
    split_when_title,
    zone_of,
)
from storage.models import Engagement, Person
from storage.models.demos import Demo, DemoOccurrence
from storage.models.milestones import Milestone

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

MANAGERS = ("client_sponsor", "client_pm", "vendor_pm", "vendor_lead")
EXAMPLES = (
    "Examples: `/demo schedule next thu 3pm | Sprint 4 demo`, "
    '`/demo schedule "Sprint 4 demo" tomorrow 10:00 Europe/Berlin`, '
    "`/demo schedule every other thursday at 15:00 | Sprint demo`."
)


# -- helpers --------------------------------------------------------------------------------------------
def _may_manage(ctx: Ctx, demo: Demo) -> None:
    if demo.created_by_id == ctx.person.id or ctx.roles.intersection(MANAGERS):
        return
    raise UserError(
        "Only whoever scheduled this demo, the client sponsor or PM, or the vendor PM or lead can "
        "change it. Nothing was changed."
    )


def _read_when(ctx: Ctx, text: str) -> Understood:
    try:
        return parse_when(text, now=ctx.now, speaker_tz=ctx.person.tz or "UTC")
    except WhenRefused as exc:
        raise UserError(f"I can't schedule that: {exc.message}\n{EXAMPLES}", field=exc.field) from exc


def _read_when_title(ctx: Ctx, text: str) -> tuple[Understood, str | None]:
    try:
        return read_when_title(text, now=ctx.now, speaker_tz=ctx.person.tz or "UTC")
    except WhenRefused as exc:
        raise UserError(f"I can't schedule that: {exc.message}\n{EXAMPLES}", field=exc.field) from exc


def _title(text: str | None, engagement: Engagement) -> str:
    title = clean(text, limit=MAX_TITLE, what="The title", multiline=False)
    return title or service.settings(engagement)["default_title"]


def understood_fields(ctx: Ctx, engagement: Engagement, u: Understood) -> list[Field]:
    """How the time was read: in the demo's zone, the speaker's, and the engagement's."""
    start = u.start
    fields = [Field("When", fmt_in(start, u.zone, offset=True), short=False)]
    fields.append(Field("Your time", fmt_in(start, ctx.person.tz or "UTC", offset=True), short=False))
    fields.append(Field("Engagement time", fmt_in(start, engagement.home_tz or "UTC", offset=True), short=False))
    if u.rrule:
        nxt = list(occurrences(u.rrule, start, u.zone, limit=4))[1:]
        following = ", ".join(f"{o:%a} {o.day} {o:%b} {o:%H:%M}" for o in nxt)
        fields.append(
            Field(
                "Repeats",
                f"{describe(u.rrule)}, at {start.astimezone(zone_of(u.zone)):%H:%M} {u.zone} "
                f"(kept across daylight-saving changes); then {following}",
                short=False,
            )
        )
    if u.note:
        fields.append(Field("Note", u.note, short=False))
    return fields


async def _schedule_reply(
    ctx: Ctx,
    engagement: Engagement,
    when_text: str,
    title_text: str | None,
    duration: int | None = None,
    *,
    find_title: bool = False,
    milestone: Milestone | None = None,
) -> Reply:
    """The confirmation. `find_title`: the title may be inside `when_text` ("Sprint 4 demo next thu 3pm");
    `milestone`: the one the demo shows (its phrase already taken out of the text)."""
    if find_title:
        u, found = _read_when_title(ctx, when_text)
        title_text = title_text or found
    else:
        u, found = _read_when(ctx, when_text), None
    title = _title(title_text, engagement)
    duration = duration or service.settings(engagement)["duration_minutes"]
    draft = service.Draft(
        op="new",
        start=u.start.isoformat(),
        tz=u.zone,
        rrule=u.rrule,
        title=title,
        duration=duration,
        key=new_draft_key(),
        eng=engagement.id,
        milestone=milestone.id if milestone else None,
    )
    label = service.milestone_label(engagement, milestone)
    fields = [
        Field("Title", title, short=False),
        *([Field("Milestone", label, short=False)] if label else []),
        *understood_fields(ctx, engagement, u),
        Field("Duration", duration_label(duration)),
    ]
    text = (
        f"Here is how I read “{clean(u.text, limit=200, multiline=False)}”"
        f"{' (in your zone, ' + (ctx.person.tz or 'UTC') + ')' if not u.explicit_zone else ''}"
        f"{', with “' + title + '” as the title' if found else ''}. "
        f"Confirm to save it and announce it with a calendar invite in {engagement.key}'s channel."
    )
    check = await hours.check_slot(ctx.session, engagement, u.start, duration, now=ctx.now)
    title_line = f"Schedule this demo? ({fmt_local(u.start)} {u.zone})"
    return Reply(private=[events.confirmation_card(DEMOS, title_line, text, fields, draft, check)])


def new_form(engagement: Engagement, *, when_text: str = "", title: str = "", milestone: str = "") -> Form:
    s = service.settings(engagement)
    return Form(
        form_id="demo.new",
        title="Schedule a demo",
        submit_label="Check",
        text="Times are read in your zone unless you name one. I'll show how I understood it before saving.",
        inputs=[
            Input("title", "Title", initial=title or s["default_title"], max_length=MAX_TITLE),
            Input(
                "when",
                "When",
                initial=when_text or None,
                max_length=200,
                placeholder="next thu 3pm · tomorrow 10:00 Europe/Berlin · every other thursday at 15:00",
                hint="One time, or a weekly series (`every 2 weeks on thursday 15:00`).",
            ),
            Input("duration", "Duration (minutes)", kind="number", initial=str(s["duration_minutes"]), required=False),
            Input(
                "milestone",
                "Milestone",
                initial=milestone or None,
                required=False,
                max_length=40,
                placeholder=f"{engagement.key}-M-1",
                hint="The milestone this demo shows (optional): reasons for not accepting it become its "
                "rectification items.",
            ),
        ],
    )


# -- commands -------------------------------------------------------------------------------------------
async def schedule(ctx: Ctx) -> Reply:
    engagement = events.member(ctx)
    if not ctx.args.strip():
        return Reply(form=new_form(engagement))
    args, token = split_milestone(ctx.args)
    milestone = await service.find_milestone(ctx.session, engagement, token)
    when_text, _ = split_when_title(args)
    if not when_text:
        raise UserError(f"Tell me when the demo is. {EXAMPLES}")
    return await _schedule_reply(ctx, engagement, args, None, find_title=True, milestone=milestone)


async def new(ctx: Ctx) -> Reply:
    engagement = events.member(ctx)
    args, token = split_milestone(ctx.args)
    milestone = await service.find_milestone(ctx.session, engagement, token)
    when_text, title = split_when_title(args) if args.strip() else ("", None)
    ref = milestone_ref(engagement, milestone) if milestone else ""
    return Reply(form=new_form(engagement, when_text=when_text, title=title or "", milestone=ref))


async def on_redemo(ctx: Ctx, value: str) -> Reply:
    """ "Schedule the re-demo" under a "not accepted" outcome: the demo form, pre-filled with the same
    milestone."""
    engagement = events.member(ctx)
    try:
        demo = await ctx.session.get(Demo, int(value))
    except ValueError:
        demo = None
    if demo is None or demo.engagement_id != engagement.id:
        raise UserError("I can't find that demo here any more. Nothing was changed.")
    milestone = await service.milestone_of(ctx.session, engagement, demo.milestone_id)
    base = demo.title.removeprefix("Re-demo: ")
    title = truncate(f"Re-demo: {base}", MAX_TITLE)
    ref = milestone_ref(engagement, milestone) if milestone else ""
    return Reply(form=new_form(engagement, title=title, milestone=ref))


async def on_new_form(ctx: Ctx, values: dict[str, str], state: dict) -> Reply:
    engagement = events.member(ctx)
    errors: dict[str, str] = {}
    duration = None
    raw_duration = (values.get("duration") or "").strip()
    if raw_duration:
        try:
            duration = int(
                parse_number(
                    raw_duration, what="The length", minimum=Decimal(5), maximum=Decimal(service.MAX_DURATION), places=0
                )
            )
        except NumberError:
            errors["duration"] = f"Give the length in minutes, 5 to {service.MAX_DURATION}."
    when_text = clean(values.get("when"), limit=200, what="The time", multiline=False)
    if not when_text:
        errors["when"] = "Tell me when, e.g. `next thu 3pm`."
    try:
        title = _title(values.get("title"), engagement)
    except InputTooLong as exc:
        errors["title"] = str(exc)
        title = ""
    milestone = None
    try:
        milestone = await service.find_milestone(
            ctx.session, engagement, clean(values.get("milestone"), limit=40, what="The milestone", multiline=False)
        )
    except (UserError, InputTooLong) as exc:
        errors["milestone"] = exc.message if isinstance(exc, UserError) else str(exc)
    if errors:
        return Reply(errors=errors)
    try:
        return await _schedule_reply(ctx, engagement, when_text, title, duration, milestone=milestone)
    except UserError as exc:
        return Reply(errors={"when": exc.message})


async def on_confirm(ctx: Ctx, value: str) -> Reply:
    engagement, draft = events.confirmed(ctx, service.Draft, value)
    if draft.op == "new":
        demo, occ, created = await service.create(
            ctx.session, ctx.core, engagement=engagement, person=ctx.person, draft=draft, now=ctx.now
        )
        return events.scheduled(DEMOS, engagement, demo, occ, created, "reminders will follow.")
    existing = await event_rules.live_series(ctx.session, DEMOS, engagement, draft.demo)
    _may_manage(ctx, existing)
    demo, occ = await service.move(
        ctx.session, ctx.core, engagement=engagement, person=ctx.person, draft=draft, now=ctx.now
    )
    return events.moved(DEMOS, engagement, demo, occ, schedule_text(demo, occ.starts_at))


def _demo_line(engagement: Engagement, demo: Demo, occ: DemoOccurrence | None) -> str:
    ref = f"{cards.demo_ref(engagement, demo)} · {demo.title}"
    if occ is None:
        return f"{ref} — nothing upcoming"
    return f"{ref} — {when(occ.starts_at)} ({fmt_in(occ.starts_at, demo.tz)})" + rhythm(demo, occ)


async def list_(ctx: Ctx) -> Reply:
    engagement = ctx.require_engagement()
    rows = await queries.upcoming_by_demo(ctx.session, engagement, ctx.now)
    if not rows:
        return Reply.say(f"No demos planned for {engagement.key}. {EXAMPLES}", title="Demos")
    text = "\n".join(_demo_line(engagement, d, o) for d, o in rows)
    return Reply(
        private=[
            Card(
                title=f"Demos — {engagement.key}",
                text=text,
                footer="`/demo move <id> <when>` · `/demo cancel <id> [all]` · `/demo agenda <id> <text>`",
            )
        ]
    )


async def cancel(ctx: Ctx) -> Reply:
    engagement = events.member(ctx)
    parts = ctx.args.split()
    if not parts or len(parts) > 2 or (len(parts) == 2 and parts[1].lower() not in ("all", "series")):
        raise UserError("Usage: `/demo cancel <id>` (the next occurrence) or `/demo cancel <id> all` (the series).")
    demo = await queries.get_demo(ctx.session, engagement, parts[0])
    _may_manage(ctx, demo)
    summary, _ = await service.cancel(
        ctx.session, ctx.core, engagement=engagement, person=ctx.person, demo=demo, whole=len(parts) == 2, now=ctx.now
    )
    return Reply.say(summary + " The home channel has been told, with a calendar cancellation.", tone="good")


async def move(ctx: Ctx) -> Reply:
    engagement = events.member(ctx)
    ref, _, rest = ctx.args.strip().partition(" ")
    whole = False
    head, _, tail = rest.strip().partition(" ")
    if head.lower() in ("all", "series"):
        whole, rest = True, tail
    if not ref or not rest.strip():
        raise UserError(
            "Usage: `/demo move <id> <when>` (the next occurrence), `/demo move <id> all <when>` "
            "(the series from then on), or `/demo move <id> every thursday 16:00` (a new rhythm)."
        )
    demo = await queries.get_demo(ctx.session, engagement, ref)
    _may_manage(ctx, demo)
    if demo.status != "scheduled":
        raise UserError(f"{cards.demo_ref(engagement, demo)} is {demo.status}; nothing to move.")
    u = _read_when(ctx, rest)
    occ_id = None
    rule = None
    if u.rrule or whole:
        if not demo.rrule and u.rrule is None:
            whole = False
        rule = u.rrule or (
            with_weekday(demo.rrule, u.start.astimezone(zone_of(u.zone)).weekday()) if demo.rrule else None
        )
    if not (u.rrule or whole):
        occ = await upcoming_occurrence(ctx.session, DEMOS, demo, ctx.now)
        if occ is None:
            raise UserError(f"{cards.demo_ref(engagement, demo)} has no upcoming occurrence to move.")
        occ_id = occ.id
    draft = service.Draft(
        op="move",
        start=u.start.isoformat(),
        tz=u.zone,
        rrule=rule,
        demo=demo.id,
        occ=occ_id,
        seq=demo.sequence,
        eng=engagement.id,
    )
    fields = [
        Field("Demo", f"{cards.demo_ref(engagement, demo)} · {demo.title}", short=False),
        *understood_fields(
            ctx,
            engagement,
            Understood(text=u.text, start=u.start, zone=u.zone, explicit_zone=u.explicit_zone, rrule=rule, note=u.note),
        ),
    ]
    what = "the whole series from then on" if occ_id is None else "the next occurrence"
    check = await hours.check_slot(ctx.session, engagement, u.start, demo.duration_minutes, now=ctx.now)
    return Reply(
        private=[
            events.confirmation_card(
                DEMOS,
                f"Move {cards.demo_ref(engagement, demo)}?",
                f"This moves {what}. Confirm to save it and send the updated invite.",
                fields,
                draft,
                check,
            )
        ]
    )


async def _save_agenda(ctx: Ctx, occ: DemoOccurrence, text: str) -> Reply:
    engagement, demo, text, refreshed = await service.save_agenda(
        ctx.session, ctx.core, person=ctx.person, occ=occ, text=text, now=ctx.now
    )
    if refreshed:
        return Reply.say(
            f"Thanks — “{text}” is added to the reminder already posted for "
            f"{cards.demo_ref(engagement, demo)} ({when(occ.starts_at)}).",
            tone="good",
        )
    return Reply.say(
        f"Thanks — “{text}” goes into the reminder before {cards.demo_ref(engagement, demo)} ({when(occ.starts_at)}).",
        tone="good",
    )


async def agenda(ctx: Ctx) -> Reply:
    engagement = ctx.require_engagement()
    ref, _, text = ctx.args.strip().partition(" ")
    if not ref or not text.strip():
        raise UserError("Usage: `/demo agenda <id> <what you will show>`.")
    demo = await queries.get_demo(ctx.session, engagement, ref)
    occ = await upcoming_occurrence(ctx.session, DEMOS, demo, ctx.now)
    if occ is None:
        raise UserError(f"{cards.demo_ref(engagement, demo)} has no upcoming occurrence.")
    return await _save_agenda(ctx, occ, text)


async def on_agenda_open(ctx: Ctx, value: str) -> Reply:
    try:
        occ = await ctx.session.get(DemoOccurrence, int(value))
    except ValueError:
        occ = None
    if occ is None:
        raise UserError("I can't find that demo any more.")
    engagement, demo = await service.agenda_target(ctx.session, ctx.person, occ, ctx.now)
    existing = await queries.own_agenda_item(ctx.session, occ, ctx.person)
    return Reply(
        form=Form(
            form_id="demo.agenda",
            title="What will you show?",
            text=f"{cards.demo_ref(engagement, demo)} · {demo.title}",
            inputs=[
                Input(
                    "text",
                    "What you will show",
                    kind="multiline",
                    max_length=MAX_TEXT,
                    initial=existing.text if existing else None,
                )
            ],
            submit_label="Save",
            state={"occ": occ.id},
        )
    )


async def on_agenda_form(ctx: Ctx, values: dict[str, str], state: dict) -> Reply:
    try:
        occ = await ctx.session.get(DemoOccurrence, int(str(state.get("occ"))))
    except (TypeError, ValueError):
        occ = None
    if occ is None:
        raise UserError("I can't find that demo any more.")
    return await _save_agenda(ctx, occ, values.get("text") or "")


async def outcome_cmd(ctx: Ctx) -> Reply:
    """/demo outcome <id> accepted | remarks <text> | rejected <reasons>: the most recent occurrence that took
    place."""
    engagement = ctx.require_engagement()
    parts = ctx.args.strip().split(" ", 2)
    kinds = {
        "accepted": "accepted",
        "accept": "accepted",
        "remarks": "accepted_with_remarks",
        "accepted_with_remarks": "accepted_with_remarks",
        "not_accepted": "not_accepted",
        "rejected": "not_accepted",
        "reject": "not_accepted",
        "not": "not_accepted",
    }
    if len(parts) < 2 or parts[1].lower() not in kinds:
        raise UserError(
            "Usage: `/demo outcome <id> accepted`, `/demo outcome <id> remarks <text>` or "
            "`/demo outcome <id> rejected <reasons>`."
        )
    demo = await queries.get_demo(ctx.session, engagement, parts[0])
    occ = await queries.last_taken_place(ctx.session, demo, ctx.now)
    if occ is None:
        raise UserError(f"{cards.demo_ref(engagement, demo)} has not taken place yet.")
    kind = kinds[parts[1].lower()]
    remarks = parts[2] if len(parts) > 2 else None
    if kind in cards.NEEDS_REMARKS and not (remarks or "").strip():
        raise UserError(f"{cards.NEEDS_REMARKS[kind]} are required for “{cards.OUTCOME_LABELS[kind]}”.")
    return await _record_outcome(ctx, occ.id, kind, remarks)


async def _record_outcome(ctx: Ctx, occ_id: object, outcome: str, remarks: str | None) -> Reply:
    engagement, demo = await service.record_outcome(
        ctx.session, ctx.core, person=ctx.person, occ_id=occ_id, outcome=outcome, remarks=remarks, now=ctx.now
    )
    return Reply.say(
        f"Recorded: {cards.OUTCOME_LABELS[outcome]} for {cards.demo_ref(engagement, demo)}. Thank you.", tone="good"
    )


async def on_outcome_click(ctx: Ctx, value: str) -> Reply:
    """Buttons under the outcome request: `<occurrence id>:<outcome>`."""
    occ_id, _, outcome = (value or "").partition(":")
    engagement, demo, occ = await service.outcome_target(ctx.session, occ_id)
    if outcome not in cards.OUTCOME_LABELS:
        raise UserError("That is not an outcome I know. Nothing was recorded.")
    await service.check_outcome(ctx.session, ctx.person, engagement, occ, ctx.now)
    if outcome in cards.NEEDS_REMARKS:
        label = cards.NEEDS_REMARKS[outcome]
        return Reply(
            form=Form(
                form_id="demo.outcome",
                title=f"{cards.OUTCOME_LABELS[outcome]}"[:24],
                text=f"{cards.demo_ref(engagement, demo)} · {demo.title}",
                inputs=[
                    Input(
                        "remarks",
                        label,
                        kind="multiline",
                        required=True,
                        max_length=MAX_TEXT,
                        placeholder="What the vendor should know"
                        if outcome != "not_accepted"
                        else "Why it is not accepted, and what acceptance needs",
                    )
                ],
                submit_label="Record",
                state={"occ": occ.id, "outcome": outcome},
            )
        )
    return await _record_outcome(ctx, occ.id, outcome, None)


async def on_outcome_form(ctx: Ctx, values: dict[str, str], state: dict) -> Reply:
    return await _record_outcome(ctx, state.get("occ"), str(state.get("outcome") or ""), values.get("remarks"))


async def history(ctx: Ctx) -> Reply:
    engagement = ctx.require_engagement()
    rows = await queries.outcome_history(ctx.session, engagement, ctx.now)
    flag = await queries.stale_demo_flag(ctx.session, engagement, ctx.now)
    return Reply(private=[cards.history_card(engagement, rows, flag)])


SETTINGS_ADMINS = ("client_sponsor", "client_pm", "vendor_pm")


def _before(minutes: int) -> str:
    days, rest = divmod(minutes, 1440)
    parts = ([plural(days, "day")] if days else []) + ([duration_label(rest)] if rest else [])
    return " ".join(parts) + " before"


def _settings_card(engagement: Engagement) -> Card:
    s = service.settings(engagement)
    return Card(
        title=f"{engagement.key} demo settings",
        fields=[
            Field("reminders", ", ".join(_before(m) for m in s["reminder_minutes"]) or "none"),
            Field("agenda", f"asked {s['agenda_hours_before']} h before"),
            Field("duration", duration_label(s["duration_minutes"])),
            Field("title", s["default_title"]),
            Field("stale", "on" if s["stale_check"] else "off"),
        ],
        footer="Change one: `/demo settings reminders 24h,1h` · `agenda 24` · `duration 45` · "
        "`title Sprint review` · `stale on|off`.",
    )


async def settings_cmd(ctx: Ctx) -> Reply:
    engagement = ctx.require_engagement()
    name, _, rest = ctx.args.strip().partition(" ")
    if not name:
        return Reply(private=[_settings_card(engagement)])
    ctx.require_role(*SETTINGS_ADMINS)
    name, rest = name.lower(), rest.strip()
    if name in ("reminders", "reminder"):
        values = events.reminder_minutes(rest, what="demo", usage="/demo settings reminders 24h,1h")
        changes: dict[str, Any] = {"reminder_minutes": values}
    elif name == "agenda":
        try:
            hours = int(rest)
        except ValueError:
            raise UserError("Usage: `/demo settings agenda 24` (hours before the demo).") from None
        if not 1 <= hours <= 168:
            raise UserError("Ask for the agenda 1 to 168 hours before the demo.")
        changes = {"agenda_hours_before": hours}
    elif name == "duration":
        minutes = events.length_minutes(rest or "x")
        if not 5 <= minutes <= service.MAX_DURATION:
            raise UserError(f"A demo lasts 5 to {service.MAX_DURATION} minutes.")
        changes = {"duration_minutes": minutes}
    elif name == "title":
        changes = {
            "default_title": clean(rest, limit=MAX_TITLE, what="The title", multiline=False)
            or demo_settings.DEFAULTS["default_title"]
        }
    elif name == "stale":
        if rest.lower() not in ("on", "off"):
            raise UserError("Usage: `/demo settings stale on|off`.")
        changes = {"stale_check": rest.lower() == "on"}
    else:
        raise UserError("Settings: `reminders`, `agenda`, `duration`, `title`, `stale`. `/demo settings` shows them.")
    card = await event_rules.change_settings(
        ctx.session,
        ctx.core,
        demo_settings.FEATURE,
        engagement=engagement,
        person=ctx.person,
        changes=changes,
        shown=_settings_card,
        now=ctx.now,
    )
    return Reply(private=[card])


async def _on_engagement_created(session: AsyncSession, core: Cadence, engagement: Engagement, **_: object) -> None:
    await service.ensure_stale_timer(session, core, engagement, core.clock.now())


async def home_section(session: AsyncSession, core: Cadence, person: Person) -> list[Card]:
    """A person's home (Slack App Home): their next demos, and what a demo is waiting from them — the vendor
    side's agenda item, the client side's outcome."""
    rows = await queries.home_demos(session, person, core.clock.now())
    return [cards.home_card(engagement, upcoming, waiting) for engagement, upcoming, waiting in rows]


def register(registry: Registry) -> None:
    registry.add_group("demo", summary="Sprint demos: scheduling, reminders, acceptance")
    registry.add_settings(demo_settings.FEATURE, demo_settings.DEFAULTS)
    add = registry.add_command
    add(
        "demo",
        "schedule",
        schedule,
        usage="/demo schedule <when> | <title>",
        summary='plan a demo: `next thu 3pm | Sprint 4 demo`, `"Sprint 4 demo" tomorrow 10:00 Europe/Berlin`, '
        "`every other thursday at 15:00`. Text left of `|` (or outside quotes) is the time, read in your "
        "zone unless you name one; I show how I read it and ask you to confirm.",
    )
    add("demo", "new", new, usage="/demo new", summary="the same in a form")
    add("demo", "list", list_, usage="/demo list", summary="upcoming demos with their ids")
    add(
        "demo",
        "move",
        move,
        usage="/demo move <id> [all] <when>",
        summary="move the next occurrence (or, with `all` or `every …`, the series); reminders and invite follow",
    )
    add(
        "demo",
        "cancel",
        cancel,
        usage="/demo cancel <id> [all]",
        summary="cancel the next occurrence, or the whole series with `all`",
    )
    add(
        "demo",
        "agenda",
        agenda,
        usage="/demo agenda <id> <text>",
        summary="vendor side: what you will show (goes into the 1-hour reminder)",
    )
    add(
        "demo",
        "outcome",
        outcome_cmd,
        usage="/demo outcome <id> accepted|remarks <text>|rejected <reasons>",
        summary="client side: record the outcome of the demo that just took place",
    )
    add("demo", "history", history, usage="/demo history", summary="the acceptance record: every demo and its outcome")
    add(
        "demo",
        "settings",
        settings_cmd,
        usage="/demo settings [name value]",
        summary="reminder offsets, agenda request, default duration and title, weekly check",
    )
    registry.add_action("demo.confirm", on_confirm)
    registry.add_action("demo.discard", events.on_discard)
    registry.add_action("demo.agenda_open", on_agenda_open)
    registry.add_action("demo.outcome", on_outcome_click)
    registry.add_action("demo.redemo", on_redemo)
    registry.add_form("demo.new", on_new_form)
    registry.add_form("demo.agenda", on_agenda_form)
    registry.add_form("demo.outcome", on_outcome_form)
    registry.add_timer(service.REMIND, timers.remind)
    registry.add_timer(service.AGENDA, timers.ask_agenda)
    registry.add_timer(service.ENDED, timers.ended)
    registry.add_timer(service.STALE, timers.stale_check)
    registry.add_timer(service.OUTCOME_REMIND, timers.outcome_remind)
    registry.add_home_section(home_section)
    registry.add_hook("engagement_created", _on_engagement_created)
    registry.add_hook(
        "engagement_settings_changed", events.replan_on_settings_change(demo_settings.FEATURE, service.replan_upcoming)
    )
    registry.add_report_section(
        "demos",
        order=50,
        figures=demo_report.report_figures,
        card=demo_report.report_card,
        flags=demo_report.report_flags,
        home=demo_report.report_home,
        export=demo_report.export_outcomes,
    )
