"""`/cadence …`: set up an engagement, bind channels, roles, your zone, work days, absences, settings.
Handlers parse and call the rules in service.py."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

import holidays
from sqlalchemy import select

from bot.features.change_requests.money import MAX_AMOUNT
from bot.features.engagement import service
from bot.kernel import audit, hours, sides
from bot.kernel.context import Ctx
from bot.kernel.directory import prefetch, seat_zone
from bot.kernel.engagements import by_key, validate_key
from bot.kernel.errors import UserError
from bot.kernel.messages import Card, Field, Reply
from bot.kernel.people import (
    DAY_NAMES,
    ROLES,
    UNKNOWN_ZONE,
    WORK_DAYS,
    ensure_membership,
    membership_of,
    memberships,
    role_label,
    zone,
)
from bot.kernel.registry import Registry
from bot.kernel.rows import get_or_refuse
from bot.kernel.text import MAX_TITLE, clean, day_text, duration, plural, when
from bot.kernel.zones import resolve_zone
from bot.shared.dates import parse_range, span_days
from bot.shared.numbers import NumberError, parse_money, parse_number, whole_number
from storage.models import Engagement, Membership, Person

# Who may add a home or escalation channel and change engagement settings: either side's admins.
ADMIN_ROLES = tuple(sorted(sides.ALL_ADMINS))
AS_RE = re.compile(r"\s+as\s+([a-z_ -]+)$", re.IGNORECASE)
# Person.tz_source, as a person reads it.
TZ_SOURCE_LABELS = {"user": "set by you", "platform": "from your profile", UNKNOWN_ZONE: "a guess: not known yet"}
LONG_ABSENCE_DAYS = 56  # longer than eight weeks: taken only with the years written out


async def setup(ctx: Ctx) -> Reply:
    """/cadence setup KEY Name [as ROLE] — create an engagement, make this channel its home and seat the person
    who ran it (or bind this channel as another home of an existing engagement: mirrored posts)."""
    if ctx.place.is_dm:
        raise UserError("Run `/cadence setup` in the channel that should be the engagement's home.")
    args = ctx.args.strip()
    m = AS_RE.search(args)
    chosen = sides.parse_role(m.group(1)) if m else None
    if m:
        args = args[: m.start()]
    key_text, _, name_text = args.partition(" ")
    if not key_text:
        raise UserError(
            "Usage: `/cadence setup KEY Engagement name [as ROLE]`, e.g. `/cadence setup ACME Acme web shop`."
        )
    key = validate_key(key_text)
    engagement = await by_key(ctx.session, key)
    created = engagement is None
    if engagement is None:
        name = clean(name_text, limit=MAX_TITLE, what="The engagement name", multiline=False) or key
        engagement = await service.create_engagement(
            ctx.session, ctx.core.registry, key=key, name=name, person=ctx.person, now=ctx.now
        )
    elif ctx.engagement is not None and ctx.engagement.id == engagement.id:
        if await service.heal_binding(ctx.session, ctx.place):
            return Reply.say(
                f"Cadence can post here again: this channel is the home of {engagement.key} ({engagement.name}), "
                "and its posts resume from now on."
            )
        return Reply.say(f"This channel is already the home of {engagement.key} ({engagement.name}).")
    else:
        membership = await membership_of(ctx.session, engagement, ctx.person)
        if membership is None or not sides.is_admin(membership.roles):
            raise UserError(f"{engagement.key} already exists; only its admins can add another home channel.")
    await service.bind_here(ctx.session, engagement, ctx.place, purpose="home", now=ctx.now)
    ctx.engagement = engagement
    await audit.record(
        ctx.session,
        now=ctx.now,
        engagement_id=engagement.id,
        entity_type="engagement",
        entity_id=engagement.id,
        action="created" if created else "home_added",
        actor=ctx.person,
        data={"platform": ctx.place.platform, "channel": ctx.place.channel_id},
    )
    if not created:
        text = f"This channel is now also a home of {engagement.key} ({engagement.name}): posts are mirrored here."
        return Reply(public=[Card(title="Channel added", text=text, tone="good")])
    role_name = chosen or sides.SETUP_ROLE
    membership = await ensure_membership(ctx.session, engagement, ctx.person, ctx.now)
    await service.seat(ctx, engagement, membership, ctx.person, [], [role_name], how="set-up")
    await ctx.core.emit(ctx.session, "engagement_created", engagement=engagement)
    other_side = sides.other(sides.side_of_role(role_name))
    first = " or ".join(role_label(r) for r in sorted(sides.ADMINS[other_side]))
    how = (
        f"You are seated as {role_label(role_name)}"
        + (" (the default: the vendor usually runs the set-up)" if chosen is None else "")
        + ". To take another role, run `/cadence role @you ROLE` now, before anyone else is seated, "
        "or set up with `/cadence setup KEY Name as client_pm`."
    )
    text = (
        f"{engagement.key} — {engagement.name} now lives in this channel. Home zone: {engagement.home_tz}.\n"
        f"{how}\n"
        f"Next: seat the {other_side} side's first admin ({first}) with `/cadence role @name ROLE`; "
        f"from then on each side seats its own people (roles: {', '.join(ROLES)})."
    )
    return Reply(public=[Card(title="Engagement set up", text=text, tone="good")])


async def role(ctx: Ctx) -> Reply:
    """/cadence role @user role[,role] | -role — each side's admins seat and unseat that side's people."""
    eng = ctx.require_engagement()
    parts = ctx.args.split()
    if len(parts) < 2:
        raise UserError("Usage: `/cadence role @name client_pm` (add) or `/cadence role @name -client_pm` (remove).")
    # The profile is asked before anything is written (no platform call holds the write lock).
    profile = await prefetch(ctx.core, ctx.place.platform, ctx.place.workspace_id, parts[0])
    target = await ctx.resolve_person(parts[0])
    changes = [r.strip() for r in " ".join(parts[1:]).replace(",", " ").split()]
    existing = await membership_of(ctx.session, eng, target)
    before = list(existing.roles or []) if existing else []
    roles = list(before)
    alone = target.id == ctx.person.id and not [
        m for m in await sides.seated(ctx.session, eng) if m.person_id != ctx.person.id
    ]
    for change in changes:
        name = sides.parse_role(change.lstrip("+-"))
        if change.startswith("-"):
            roles = [r for r in roles if r != name]
        elif name not in roles:
            if alone:  # the only person seated may switch sides: their roles follow the new one
                roles = [r for r in roles if sides.side_of_role(r) == sides.side_of_role(name)]
            roles.append(name)
    if roles == before:
        return Reply.say(f"{target.display_name} already has that: {', '.join(map(role_label, roles)) or 'no role'}.")
    how = await sides.check_seating(
        ctx.session,
        eng,
        actor_id=ctx.person.id,
        actor_roles=ctx.roles,
        target_id=target.id,
        before=before,
        after=roles,
    )
    membership = existing or await ensure_membership(ctx.session, eng, target, ctx.now)
    # Their zone from their profile now, not when they first act (their reminders depend on it); before the
    # seat is applied, so that a first admin's zone is the one that follows them (home or SLA zone).
    zone_known = await seat_zone(
        ctx.session, ctx.core, target, ctx.place.platform, ctx.place.workspace_id, profile=profile
    )
    await service.seat(ctx, eng, membership, target, before, roles, how=how, zone_known=zone_known)
    shown = ", ".join(role_label(r) for r in roles) or "no role"
    return Reply.say(f"{target.display_name}: {shown} in {eng.key}. Announced in the home channel.")


async def members(ctx: Ctx) -> Reply:
    eng = ctx.require_engagement()
    rows = []
    for m in await memberships(ctx.session, eng):
        p = await get_or_refuse(ctx.session, Person, m.person_id)
        guess = " (a guess: not known yet)" if p.tz_source == UNKNOWN_ZONE else ""
        rows.append(Field(p.display_name, f"{', '.join(role_label(r) for r in m.roles) or 'no role'} · {p.tz}{guess}"))
    return Reply(private=[Card(title=f"{eng.key} members", fields=rows or [Field("Members", "none yet")])])


async def tz(ctx: Ctx) -> Reply:
    """/cadence tz Asia/Kolkata | city | auto"""
    arg = ctx.args.strip()
    if not arg:
        if ctx.person.tz_source == UNKNOWN_ZONE:
            return Reply.say(
                "Your chat profile doesn't share your time zone, so your prompts and reminders are scheduled in "
                "UTC. Tell me yours, e.g. `cadence tz Chicago`."
            )
        return Reply.say(
            f"Your time zone is {ctx.person.tz} ({TZ_SOURCE_LABELS.get(ctx.person.tz_source, 'from your profile')})."
        )
    if arg.lower() == "auto":
        ctx.person.tz_source = "platform"
        return Reply.say("I'll follow the time zone of your chat profile again.")
    name = resolve_zone(arg)
    changed = name != ctx.person.tz
    ctx.person.tz = name
    ctx.person.tz_source = "user"
    if changed:
        await ctx.core.emit(ctx.session, "person_tz_changed", person=ctx.person)
    local = ctx.now.astimezone(zone(ctx.person))
    return Reply.say(f"Your time zone is now {name} (it is {local:%H:%M} there).")


async def workdays(ctx: Ctx) -> Reply:
    """/cadence workdays mon-fri | sun-thu | mon,tue,thu"""
    arg = ctx.args.strip().lower()
    if not arg:
        return Reply.say("Your work days: " + ", ".join(DAY_NAMES[d] for d in ctx.person.work_days))
    days: list[int] = []  # in the order typed: `sun-thu` echoes sun, mon, tue, wed, thu

    def add(day: int) -> None:
        if day not in days:
            days.append(day)

    for part in arg.replace(" ", ",").split(","):
        if not part:
            continue
        if "-" in part:
            a, _, b = part.partition("-")
            if a[:3] not in DAY_NAMES or b[:3] not in DAY_NAMES:
                raise UserError(f"“{part}” is not a day range. Use e.g. `mon-fri` or `sun-thu`.")
            i, j = DAY_NAMES.index(a[:3]), DAY_NAMES.index(b[:3])
            for k in range((j - i) % 7 + 1):
                add((i + k) % 7)
        elif part[:3] in DAY_NAMES:
            add(DAY_NAMES.index(part[:3]))
        else:
            raise UserError(f"“{part}” is not a day. Use mon, tue, wed, thu, fri, sat, sun.")
    await service.set_work_days(ctx.session, ctx.core, ctx.person, days)
    return Reply.say("Your work days: " + ", ".join(DAY_NAMES[d] for d in days))


async def country(ctx: Ctx) -> Reply:
    """/cadence country IN — whose public holidays skip your prompts."""
    code = ctx.args.strip().upper()
    if not code:
        return Reply.say(f"Your holiday calendar: {ctx.person.country or 'none'}.")
    if code in ("NONE", "-"):
        await service.set_country(ctx.session, ctx.core, ctx.person, None)
    else:
        if code not in holidays.list_supported_countries():
            raise UserError(f"“{code}” is not a country code I have holidays for; use two letters like `IN` or `DE`.")
        await service.set_country(ctx.session, ctx.core, ctx.person, code)
    return Reply.say(f"Your holiday calendar: {ctx.person.country or 'none'}.")


async def ooo(ctx: Ctx) -> Reply:
    """/cadence ooo dec 24 to jan 2 | list | clear"""
    arg = ctx.args.strip()
    if not arg or arg.lower() == "list":
        rows = [
            f"{day_text(a.start)} – {day_text(a.end)}"
            for a in ctx.person.absences
            if a.end >= ctx.now.astimezone(zone(ctx.person)).date()
        ]
        return Reply.say("Your absences:\n" + ("\n".join(rows) if rows else "none planned"))
    if arg.lower() == "clear":
        await service.clear_absences(ctx.session, ctx.core, ctx.person, ctx.now)
        return Reply.say("Your upcoming absences are cleared.")
    start, end = parse_range(clean(arg, limit=200, what="The date range"), now=ctx.now, tz=zone(ctx.person))
    today = ctx.now.astimezone(zone(ctx.person)).date()
    if end < today:
        raise UserError(f"That range ({day_text(start)} – {day_text(end)}) is in the past.")
    days = span_days(start, end)
    if days > LONG_ABSENCE_DAYS and not re.search(r"\d{4}", arg):
        # "jan 2 to dec 24" is more often a slip than a year away: a long absence is taken with its years.
        raise UserError(
            f"I read that as {plural(days, 'day')} away ({day_text(start)} – {day_text(end)}). "
            f"If you mean it, write the years: `/cadence ooo {start:%Y-%m-%d} to {end:%Y-%m-%d}`. Nothing was changed."
        )
    await service.add_absence(ctx.session, ctx.core, ctx.person, start, end, ctx.now)
    return Reply.say(
        f"Out of office {day_text(start)} – {day_text(end)} ({plural(days, 'day')}). Prompts skip those days."
    )


def _days(person: Person) -> str:
    return ", ".join(DAY_NAMES[d] for d in (person.work_days or WORK_DAYS))


def _hours_label(person: Person) -> str:
    default = " (the default)" if person.work_start_minute is None else ""
    return f"{hours.hours_text(person)}{default}"


async def working_hours(ctx: Ctx) -> Reply:
    """/cadence hours [10:00-19:00 | 10am-7pm | default] — your working hours, on your work days in your zone."""
    arg = ctx.args.strip()
    if arg.lower() in ("default", "reset"):
        await service.set_working_hours(ctx.person, None)
    elif arg:
        await service.set_working_hours(ctx.person, hours.parse_hours(arg))
    guess = " (a guess: tell me yours with `/cadence tz`)" if ctx.person.tz_source == UNKNOWN_ZONE else ""
    said = "are now" if arg else "are"
    return Reply.say(
        f"Your working hours {said} {_hours_label(ctx.person)} on {_days(ctx.person)}, in {ctx.person.tz}{guess}. "
        "Meetings and demos planned outside them, or on your days off, warn the organizer before they are confirmed. "
        "Change them with `/cadence hours 10:00-19:00` (or `10am-7pm`; `default` for the default)."
    )


def _person_line(person: Person, today: list[tuple[datetime, datetime]]) -> str:
    at_work = "" if today else " — not at work that day"
    guess = ", zone not known yet" if person.tz_source == UNKNOWN_ZONE else ""
    return f"{person.display_name} ({person.tz}{guess}, {hours.hours_text(person)}){at_work}"


def _span(start: datetime, end: datetime) -> str:
    return f"{when(start, 'time')}–{when(end, 'time')} ({duration(end - start)})"


def overlap_card(found: hours.Overlap, zone_name: str) -> Card:
    """`/cadence overlap`: when both sides are at work on the asker's date, in each reader's own time."""
    fields = []
    for side, people in found.people.items():
        lines = [_person_line(p, hours.at_work(p, found.start, found.end)) for p in people]
        fields.append(Field(f"{side.capitalize()} side", "\n".join(lines) or "nobody seated yet", short=False))
    empty = [side for side, people in found.people.items() if not people]
    title = f"Working hours overlap — {day_text(found.day)} (your date, {zone_name})"
    if not any(found.people.values()):
        return Card(title=title, text="Nobody is seated in this engagement yet.", fields=fields)
    alone = f" ({' and '.join(empty)} side: nobody seated yet, so only the other side counts)" if empty else ""
    if found.windows:
        spans = "; ".join(_span(s, e) for s, e in found.windows)
        text = f"Both sides are at work {spans}, your time{alone}."
        return Card(title=title, text=text, fields=fields, tone="good")
    if found.closest is None:
        return Card(title=title, text="No overlap: nobody counted here is at work on that date.", fields=fields)
    lines = [f"No overlap: there is no time that date when everyone on both sides is at work{alone}."]
    counted = sum(len(p) for p in found.people.values())
    at_work = counted - len(found.missing)
    lines.append(
        f"Closest: {_span(*found.closest)} your time, with {at_work} of {counted} at work. Outside their hours then: "
        + "; ".join(f"{o.person.display_name} ({o.local}: {o.reason})" for o in found.missing)
        + "."
    )
    if found.gap is not None:
        a, b = found.gap
        lines.append(
            f"The two sides' shared hours are {duration(b - a)} apart: from {when(a, 'time')} to {when(b, 'time')} "
            "your time nobody's hours meet."
        )
    return Card(title=title, text="\n".join(lines), fields=fields, tone="warning")


async def overlap(ctx: Ctx) -> Reply:
    """/cadence overlap [tomorrow] — when both sides are at work today (your date), each at their own hours."""
    eng = ctx.require_engagement()
    arg = ctx.args.strip().lower()
    if arg not in ("", "today", "tomorrow"):
        raise UserError("Usage: `/cadence overlap` (today, your date) or `/cadence overlap tomorrow`.")
    tz = zone(ctx.person)
    day = ctx.now.astimezone(tz).date() + timedelta(days=1 if arg == "tomorrow" else 0)
    by_side = dict(await hours.sides_of(ctx.session, eng))
    unknown = by_side.pop("unknown", ())
    card = overlap_card(hours.overlap(by_side, day, tz), tz.key)
    card.fields.extend(hours.unknown_fields(unknown, left_out="not counted"))
    return Reply(private=[card])


async def whoami(ctx: Ctx) -> Reply:
    fields = [
        Field("Name", ctx.person.display_name),
        Field("Time zone", f"{ctx.person.tz} ({ctx.person.tz_source})"),
        Field("Work days", _days(ctx.person)),
        Field("Working hours", _hours_label(ctx.person)),
        Field("Holidays", ctx.person.country or "none"),
        Field("Platform id", f"{ctx.actor.platform}:{ctx.actor.user_id}"),
    ]
    if ctx.engagement:
        fields.append(Field("Engagement", f"{ctx.engagement.key} — {ctx.engagement.name}"))
        fields.append(Field("Roles", ", ".join(role_label(r) for r in ctx.roles) or "none"))
    return Reply(private=[Card(title="You", fields=fields, footer="Now: " + when(ctx.now))])


def _settings_card(eng: Engagement) -> Card:
    return Card(
        title=f"{eng.key} settings",
        fields=[
            Field("name", eng.name),
            Field("home_tz", eng.home_tz),
            Field("support_tz", eng.support_tz),
            Field("support_country", eng.support_country or "none"),
            Field("client_country", eng.client_country or "none"),
            Field("budget", f"{eng.budget:,.2f}" if eng.budget is not None else "not set"),
            Field("contingency", f"{eng.contingency_pct:g} %"),
            Field("iteration_days", str(eng.iteration_days)),
        ],
        footer="Change one with `/cadence settings <name> <value>`.",
    )


def _parse_setting(name: str, value: str) -> tuple[str, object]:
    """(column, value) for a setting, or UserError with what a valid value looks like."""
    if name in ("home_tz", "support_tz"):
        return name, resolve_zone(value)
    if name in ("support_country", "client_country"):
        return name, None if value.lower() == "none" else value.upper()[:8]
    if name == "budget":
        try:
            money = parse_money(value, what="The budget", maximum=MAX_AMOUNT)
        except NumberError as exc:
            raise UserError(f"{exc} Give the budget as a number, e.g. `120000` or `USD 120,000`.") from None
        return "budget", money
    if name == "contingency":
        try:
            pct = parse_number(value.rstrip("%"), what="The contingency", maximum=Decimal(100), example="15")
        except NumberError as exc:
            raise UserError(f"{exc} The contingency is a percentage between 0 and 100, e.g. `15`.") from None
        return "contingency_pct", float(pct)
    if name == "iteration_days":
        try:
            return "iteration_days", whole_number(value, what="The iteration length", minimum=1, maximum=90)
        except NumberError:
            raise UserError("The iteration length is a number of days between 1 and 90.") from None
    return "name", value


async def settings(ctx: Ctx) -> Reply:
    """/cadence settings [name value] — contract terms change by amendment (the other side approves); the
    rest change at once. Either way the home channel is told."""
    eng = ctx.require_engagement()
    name, _, value = ctx.args.strip().partition(" ")
    if not name:
        return Reply(private=[_settings_card(eng)])
    name = name.lower()
    if name == "warranty_end":
        raise UserError(
            "The warranty end is no longer typed: it runs from the project acceptance (the final milestone "
            "accepted) for the agreed number of months. Change the length with "
            f"`{service.ELSEWHERE[name]}`; `/cadence contract` shows the end once it is known."
        )
    if name in service.ELSEWHERE:
        raise UserError(f"{name} is a milestones contract term: change it with `{service.ELSEWHERE[name]}`.")
    if name not in service.SETTINGS:
        raise UserError(f"No setting “{name}”. Settings: {', '.join(service.SETTINGS)}.")
    ctx.require_role(*ADMIN_ROLES)
    value = clean(value, limit=MAX_TITLE, what="The value", multiline=False)
    if not value:
        raise UserError(f"Give a value for {name}.")
    column, parsed = _parse_setting(name, value)
    said = await service.change_setting(ctx, eng, name, column, parsed)
    if said is not None:
        return Reply.say(said)
    return Reply(private=[_settings_card(eng)])


async def escalation(ctx: Ctx) -> Reply:
    """/cadence escalation KEY — make this channel the escalation channel of engagement KEY."""
    key = ctx.args.strip()
    eng = await by_key(ctx.session, key) if key else ctx.engagement
    if eng is None:
        raise UserError("Usage: `/cadence escalation KEY` in the channel that should receive escalations.")
    m = await ctx.session.scalar(
        select(Membership).where(Membership.engagement_id == eng.id, Membership.person_id == ctx.person.id)
    )
    if m is None or not set(m.roles).intersection(ADMIN_ROLES):
        raise UserError("Only the client sponsor or a PM can choose the escalation channel.")
    await service.bind_here(ctx.session, eng, ctx.place, purpose="escalation", now=ctx.now)
    return Reply(public=[Card(text=f"Escalations of {eng.key} will be posted here.")])


async def use(ctx: Ctx) -> Reply:
    """/cadence use KEY — which engagement your DMs apply to."""
    key = clean(ctx.args, limit=40, what="The key", multiline=False)
    if not key:
        raise UserError("Usage: `/cadence use KEY`.")
    eng = await by_key(ctx.session, key)
    if eng is None:
        mine = await ctx.session.scalars(
            select(Engagement.key)
            .join(Membership, Membership.engagement_id == Engagement.id)
            .where(Membership.person_id == ctx.person.id)
            .order_by(Engagement.key)
        )
        keys = ", ".join(mine) or "none yet"
        raise UserError(f"There is no engagement “{key.upper()}”. Yours: {keys}. Nothing was changed.")
    m = await ctx.session.scalar(
        select(Membership).where(Membership.engagement_id == eng.id, Membership.person_id == ctx.person.id)
    )
    if m is None:
        raise UserError(f"You are not a member of {eng.key}.")
    ctx.person.default_engagement_id = eng.id
    return Reply.say(f"Your direct messages now apply to {eng.key}.")


def register(registry: Registry) -> None:
    registry.add_group("cadence", summary="Engagement set-up: channel, roles, your zone, absences", setup=True)
    add = registry.add_command
    # Open to anyone: setting up, and what is about the person themselves (zone, days, absences, identity).
    # Everything else, where a conversation belongs to an engagement, needs a seat (bot/kernel/dispatcher.py).
    add(
        "cadence",
        "setup",
        setup,
        usage="/cadence setup KEY Name [as ROLE]",
        summary="make this channel an engagement's home (you are seated as vendor PM unless `as ROLE`)",
        open_to_outsiders=True,
    )
    add("cadence", "role", role, usage="/cadence role @name role", summary="give (or `-role` take) a role")
    add("cadence", "members", members, usage="/cadence members", summary="who is in this engagement")
    add(
        "cadence",
        "tz",
        tz,
        usage="/cadence tz Asia/Kolkata",
        summary="set your time zone (a zone or a city; `auto`)",
        open_to_outsiders=True,
    )
    add(
        "cadence",
        "workdays",
        workdays,
        usage="/cadence workdays mon-fri",
        summary="your work days",
        open_to_outsiders=True,
    )
    add(
        "cadence",
        "hours",
        working_hours,
        usage="/cadence hours 10:00-19:00",
        summary="your working hours on your work days (`default`); meetings and demos outside them warn first",
        open_to_outsiders=True,
    )
    add(
        "cadence",
        "overlap",
        overlap,
        usage="/cadence overlap [tomorrow]",
        summary="when both sides are at work today, in your time (or what comes closest)",
    )
    add(
        "cadence",
        "country",
        country,
        usage="/cadence country IN",
        summary="your public-holiday calendar",
        open_to_outsiders=True,
    )
    add(
        "cadence",
        "ooo",
        ooo,
        usage="/cadence ooo dec 24 to jan 2",
        summary="out of office (`list`, `clear`)",
        open_to_outsiders=True,
    )
    add(
        "cadence",
        "whoami",
        whoami,
        usage="/cadence whoami",
        summary="what Cadence knows about you",
        open_to_outsiders=True,
    )
    add("cadence", "settings", settings, usage="/cadence settings [name value]", summary="engagement settings")
    add(
        "cadence",
        "escalation",
        escalation,
        usage="/cadence escalation KEY",
        summary="make this the escalation channel",
        open_to_outsiders=True,  # run in the escalation channel, which may belong to no engagement; checks itself
    )
    add(
        "cadence",
        "use",
        use,
        usage="/cadence use KEY",
        summary="which engagement your DMs apply to",
        open_to_outsiders=True,
    )
