"""`/raid …`: parse what was typed, call the service, answer. The owner is named the way `/cadence role` names
a person (`ctx.resolve_person`: a Slack mention, a Teams or console @name, a display name); review dates are
read with `bot.shared.dates.parse_date` in the speaker's zone, and the answer says how."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bot.features.raid import agenda, queries, service
from bot.features.raid import report as raid_report
from bot.features.raid import timers as handlers
from bot.features.raid.cards import item_card, list_card
from bot.features.raid.queries import LIST_FILTERS, home_today, ref
from bot.features.raid.settings import DEFAULTS, FEATURE, KINDS, STATUSES, default_status
from bot.kernel.context import Ctx
from bot.kernel.errors import UserError
from bot.kernel.messages import Reply
from bot.kernel.registry import Registry
from bot.kernel.text import MAX_TEXT, clean, day_text
from bot.shared.dates import read_day_ahead
from storage.models import Person

ADD_USAGE = "/raid add risk|assumption|issue|dependency <text> owner @name [review <date>] [red|amber|green]"
UPDATE_USAGE = "/raid update ACME-R-1 [red|amber|green] [review <date>] [owner @name] [closed] [note <text>]"
KIND_WORDS = {k: k for k in KINDS} | {"risks": "risk", "assumptions": "assumption", "issues": "issue"}
KIND_WORDS |= {"dependencies": "dependency", "dep": "dependency"}
OWNER_RE = re.compile(r"(?:^|\s)owner\s+", re.IGNORECASE)
NOTE_RE = re.compile(r"(?:^|\s)note\s+", re.IGNORECASE)
CLOSE_WORDS = ("closed", "close")


@dataclass
class Options:
    status: str | None = None
    review: str | None = None
    owner: str | None = None
    close: bool = False


def _options(text: str, *, allowed: tuple[str, ...], usage: str) -> Options:
    """The keywords after the item: a status word, `review <date phrase>` (up to the next keyword), and, where
    `allowed`, `owner @name` and `closed`. Anything else is refused by name."""
    words = text.split()
    out = Options()
    keywords = {*STATUSES, "review", *allowed}
    i = 0
    while i < len(words):
        word = words[i].lower()
        if word in STATUSES:
            if out.status is not None:
                raise UserError(f"Give one status (red, amber or green). Usage: `{usage}`.")
            out.status = word
        elif word == "review":
            j = i + 1
            while j < len(words) and words[j].lower() not in keywords:
                j += 1
            out.review = " ".join(words[i + 1 : j])
            if not out.review:
                raise UserError(f"Review when? e.g. `review next friday`. Usage: `{usage}`.")
            i = j
            continue
        elif word == "owner" and "owner" in allowed:
            if i + 1 >= len(words):
                raise UserError(f"Owner who? e.g. `owner @asha`. Usage: `{usage}`.")
            out.owner = words[i + 1]
            i += 1
        elif word in CLOSE_WORDS and "closed" in allowed:
            out.close = True
        else:
            raise UserError(f"I don't understand “{words[i][:40]}”. Usage: `{usage}`.")
        i += 1
    return out


def _review(ctx: Ctx, phrase: str) -> tuple[date, str]:
    """A review date in plain language, read in the speaker's zone; (the date, how it was read). Past dates are
    refused, today is fine."""
    phrase = clean(phrase, limit=100, what="The review date", multiline=False)
    try:
        return read_day_ahead(phrase, now=ctx.now, tz=ctx.tz)
    except UserError as exc:  # a command has no form field to pin it on: a plain refusal
        raise UserError(f"{exc} Nothing was changed.") from None


async def _owner(ctx: Ctx, token: str) -> Person:
    """The person named as owner, resolved as `/cadence role` resolves one; the service checks they are seated."""
    return await ctx.resolve_person(token)


async def cmd_add(ctx: Ctx) -> Reply:
    """/raid add risk <text> owner @name [review <date>] [red|amber|green]"""
    eng = ctx.require_engagement()
    args = clean(ctx.args, limit=MAX_TEXT + 200, what="The item", multiline=False)
    first, _, rest = args.partition(" ")
    kind = KIND_WORDS.get(first.lower())
    if kind is None:
        raise UserError(f"Which kind: risk, assumption, issue or dependency? Usage: `{ADD_USAGE}`.")
    found = list(OWNER_RE.finditer(rest))
    if not found:
        raise UserError(f"Every RAID item needs an owner: add `owner @name`. Usage: `{ADD_USAGE}`.")
    last = found[-1]
    text = clean(rest[: last.start()], limit=MAX_TEXT, what="The text", multiline=False)
    if not text:
        raise UserError(f"Say what the {kind} is. Usage: `{ADD_USAGE}`.")
    opts = _options("owner " + rest[last.end() :], allowed=("owner",), usage=ADD_USAGE)
    if opts.owner is None:
        raise UserError(f"Owner who? e.g. `owner @asha`. Usage: `{ADD_USAGE}`.")
    owner = await _owner(ctx, opts.owner)
    review_on, read = _review(ctx, opts.review) if opts.review else (None, "")
    status = opts.status or default_status(eng)
    item = await service.add(
        ctx.session,
        ctx.core,
        eng=eng,
        actor=ctx.person,
        kind=kind,
        text=text,
        owner=owner,
        status=status,
        review_on=review_on,
        now=ctx.now,
    )
    said = f"Added {ref(eng, item)} {kind} “{text}”, owner {owner.display_name}, {status}"
    said += f", review {day_text(review_on)} ({read})." if review_on else ", no review date."
    if status == "red":
        said += " Posted in the home channel."
    return Reply.say(said, tone="good")


async def cmd_update(ctx: Ctx) -> Reply:
    """/raid update <id> [red|amber|green] [review <date>] [owner @x] [closed] [note <text>]"""
    eng = ctx.require_engagement()
    args = clean(ctx.args, limit=MAX_TEXT + 200, what="The update", multiline=False)
    token, _, rest = args.partition(" ")
    if not token:
        raise UserError(f"Which item? Usage: `{UPDATE_USAGE}`.")
    note = None
    found = NOTE_RE.search(" " + rest)
    if found:
        note = clean((" " + rest)[found.end() :], limit=MAX_TEXT, what="The note", multiline=False) or None
        rest = (" " + rest)[: found.start()]
        if note is None:
            raise UserError(f"The note is empty. Usage: `{UPDATE_USAGE}`.")
    opts = _options(rest, allowed=("owner", "closed"), usage=UPDATE_USAGE)
    item = await queries.find(ctx.session, eng, token, lock=True)
    review_on, read = _review(ctx, opts.review) if opts.review else (None, "")
    owner = await _owner(ctx, opts.owner) if opts.owner else None
    diff = await service.update(
        ctx.session,
        ctx.core,
        eng=eng,
        item=item,
        actor=ctx.person,
        roles=ctx.roles,
        change=service.Update(status=opts.status, review_on=review_on, owner=owner, close=opts.close, note=note),
        now=ctx.now,
    )
    parts = []
    if "status" in diff:
        parts.append(f"{diff['status'][0]} → {diff['status'][1]}")
    if "review_on" in diff and review_on is not None:
        parts.append(f"review {day_text(review_on)} ({read})")
    if "owner" in diff and owner is not None:
        parts.append(f"owner {owner.display_name}")
    if "state" in diff:
        parts.append("closed")
    if note:
        parts.append("note added")
    said = f"{ref(eng, item)} updated: {'; '.join(parts)}."
    if "status" in diff and item.status == "red" and item.state == queries.OPEN:
        said += " Posted in the home channel."
    return Reply.say(said, tone="good")


async def cmd_list(ctx: Ctx) -> Reply:
    """/raid list [all|red|mine]"""
    eng = ctx.require_engagement()
    which = ctx.args.strip().lower() or "open"
    if which not in LIST_FILTERS:
        raise UserError(f"List which? `{' | '.join(LIST_FILTERS)}` (default: open).")
    items = await queries.listing(ctx.session, eng, which, ctx.person, ctx.now)
    people = await queries.people(ctx.session, {i.owner_id for i in items})
    return Reply(private=[list_card(eng, which, items, people, home_today(eng, ctx.now))])


async def cmd_show(ctx: Ctx) -> Reply:
    """/raid show <id> — the item and every update."""
    eng = ctx.require_engagement()
    item = await queries.find(ctx.session, eng, ctx.args.strip())
    history = await queries.changes(ctx.session, item)
    ids: set[int] = {item.owner_id, item.created_by_id} | {c.actor_id for c in history}
    for c in history:
        if "owner" in (c.changes or {}):
            ids.update(int(v) for v in c.changes["owner"])
    people = await queries.people(ctx.session, ids)
    return Reply(private=[item_card(eng, item, people, home_today(eng, ctx.now), history)])


def register(registry: Registry) -> None:
    registry.add_group("raid", summary="The RAID log: risks, assumptions, issues and dependencies")
    registry.add_settings(FEATURE, DEFAULTS)
    add = registry.add_command
    add("raid", "add", cmd_add, usage=ADD_USAGE, summary="add an item with its owner (any member of either side)")
    add("raid", "list", cmd_list, usage="/raid list [all|red|mine]", summary="open items, reds first")
    add(
        "raid",
        "update",
        cmd_update,
        usage=UPDATE_USAGE,
        summary="the owner, who raised it or an admin: status, review date, owner, close, note",
    )
    add("raid", "show", cmd_show, usage="/raid show ACME-R-1", summary="an item and its history")
    registry.add_timer(handlers.REVIEW, handlers.on_review)
    registry.add_hook("person_tz_changed", handlers.owner_moved)
    registry.add_report_section(
        "raid",
        order=80,
        figures=raid_report.report_figures,
        card=raid_report.report_card,
        flags=raid_report.report_flags,
        home=raid_report.report_home,
        export=raid_report.export_range,
    )
    registry.add_agenda_section("raid", order=60, title="RAID: red and past review", lines=agenda.lines)


__all__ = ["FEATURE", "register"]
