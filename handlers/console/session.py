"""A local workspace in a terminal: people with zones, a few channels, DMs with the bot, the same commands
as Slack and Teams. Used by the interactive console, the scripted demo and tests."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import dateparser

from bot.kernel import directory
from bot.kernel.context import Actor, Place
from bot.kernel.errors import UserError
from bot.kernel.messages import Card, Form, Reply
from bot.kernel.zones import resolve_zone
from bot.shared.dates import check_phrase
from handlers.console import clock_store
from handlers.console.directory import ConsoleDirectory
from handlers.console.messenger import ConsoleMessenger, Delivered
from handlers.console.render import render_card, render_form

WORKSPACE = "local"
DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s|days?|hours?|minutes?|mins?|seconds?)", re.IGNORECASE)
WEEKDAY_RE = re.compile(r"\b(mon|tue|wed|thu|fri|sat|sun)[a-z]*\b", re.IGNORECASE)
DATE_RE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|\d{4}-\d{1,2}-\d{1,2}|\b\d{1,2}[/.]\d{1,2}\b", re.I
)
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
# A button shown in the transcript: (action_id, value, where it was shown, its delivery, label, viewer).
ShownButton = tuple[str, str, Place, Delivered | None, str, str]


@dataclass
class ConsoleUser:
    name: str
    tz: str

    @property
    def actor(self) -> Actor:
        return Actor(
            platform="console",
            workspace_id=WORKSPACE,
            user_id=self.name.lower(),
            display_name=self.name.capitalize(),
            tz=self.tz,
            handle=self.name.lower(),
        )


@dataclass(frozen=True)
class ConsoleButton:
    action_id: str
    value: str
    place: Place
    delivered: Delivered | None
    label: str
    viewer: str
    card_no: int  # which printed card it is on: a bare `click` looks at the newest card only


@dataclass
class ConsoleSession:
    core: Any
    out: Callable[[str], None] = print
    virtual: bool = False
    users: dict[str, ConsoleUser] = field(default_factory=dict)
    user: str = "alice"
    channel: str = "general"  # or "dm"
    buttons: list[ConsoleButton] = field(default_factory=list)
    # The open form of each console user: one person's form is not another's.
    forms: dict[str, tuple[Form, Place]] = field(default_factory=dict)
    cards_shown: int = 0

    def __post_init__(self) -> None:
        messenger = self.core.messengers.get("console")
        if messenger is None:
            messenger = ConsoleMessenger()
            self.core.messengers["console"] = messenger
        messenger.on_deliver = self._show_delivery
        self.core.directories["console"] = ConsoleDirectory(self.users)
        if self.user not in self.users:
            self.users[self.user] = ConsoleUser(self.user, "UTC")

    # -- what the person sees ------------------------------------------------------------------------
    @property
    def me(self) -> ConsoleUser:
        return self.users[self.user]

    @property
    def pending_form(self) -> tuple[Form, Place] | None:
        return self.forms.get(self.user)

    @pending_form.setter
    def pending_form(self, value: tuple[Form, Place] | None) -> None:
        if value is None:
            self.forms.pop(self.user, None)
        else:
            self.forms[self.user] = value

    def _zone(self, name: str | None = None) -> ZoneInfo:
        user = self.users.get((name or self.user).lower())
        return ZoneInfo(user.tz if user else "UTC")

    def place(self) -> Place:
        if self.channel == "dm":
            return Place(platform="console", workspace_id=WORKSPACE, channel_id=f"dm:{self.user.lower()}", is_dm=True)
        return Place(platform="console", workspace_id=WORKSPACE, channel_id=self.channel, channel_name=self.channel)

    def _show_delivery(self, d: Delivered) -> None:
        if d.channel_id.startswith("dm:"):
            who = d.channel_id[3:]
            head = f"[DM to {who}]"
            viewer = who
            place = Place(platform="console", workspace_id=WORKSPACE, channel_id=d.channel_id, is_dm=True)
        else:
            head = f"[#{d.channel_id}]"
            viewer = self.user
            place = Place(
                platform="console", workspace_id=WORKSPACE, channel_id=d.channel_id, channel_name=d.channel_id
            )
        if d.op == "update":
            head += " (updated)"
        elif d.op == "ephemeral":
            head += f" (only {d.address.get('user_id')} sees this)"
        self._print_card(head, d.card, viewer, place, d)

    def _print_card(self, head: str, card: Card, viewer: str, place: Place, d: Delivered | None = None) -> None:
        numbering: list[tuple[str, str, str]] = []
        body = render_card(card, self._zone(viewer), numbering=numbering)
        # Renumber buttons globally so `click N` is unique in the whole transcript.
        offset = len(self.buttons)
        for i, _ in reversed(list(enumerate(numbering, start=1))):
            body = body.replace(f"[{i}] ", f"[{offset + i}] ", 1) if offset else body
        self.cards_shown += 1
        for action_id, value, label in numbering:
            self.buttons.append(ConsoleButton(action_id, value, place, d, label, viewer, self.cards_shown))
        files = list(getattr(d, "files", None) or [])
        for i, a in enumerate(card.attachments):
            where = f"written to {files[i]}" if i < len(files) else "kept in the outbox record"
            self.out(f"{head} attachment {a.filename} {where}")
        self.out(f"{head} Cadence:\n{body}")

    def show_reply(self, reply: Reply | None) -> None:
        if reply is None:
            return
        for card in reply.private:
            self._print_card(f"[only {self.user} sees this]", card, self.user, self.place())
        if reply.update is not None:
            self._print_card("[message updated]", reply.update, self.user, self.place())
        if reply.errors:
            for key, msg in reply.errors.items():
                self.out(f"  ✗ {key}: {msg}")
        if reply.form is not None:
            self.pending_form = (reply.form, self.place())
            self.out(render_form(reply.form, self._zone()))
            keys = ", ".join(i.id for i in reply.form.inputs)
            self.out(f"  (fill it with `fill` — or `fill key=value; key=value` with the keys {keys})")

    # -- what the person types -----------------------------------------------------------------------
    async def handle(self, line: str, ask: Callable[[str], Any] | None = None) -> bool:
        """One line of input. Returns False when the person quits."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        word, _, rest = line.partition(" ")
        w = word.lower()
        if w in ("quit", "exit"):
            return False
        if w == "as":
            name, _, tz = rest.strip().partition(" ")
            if not name:
                self.out("usage: as NAME [ZONE]")
                return True
            key = name.lower()
            if key not in self.users or tz:
                try:
                    zone = resolve_zone(tz) if tz else (self.users[key].tz if key in self.users else "UTC")
                except Exception as exc:  # noqa: BLE001
                    self.out(f"  ✗ {exc}")
                    return True
                self.users[key] = ConsoleUser(key, zone)
            self.user = key
            await self._introduce()
            self.out(f"You are {key.capitalize()} ({self.users[key].tz}).")
            return True
        if w in ("in", "go"):
            target = rest.strip().lstrip("#") or "general"
            self.channel = "dm" if target.lower() in ("dm", "bot") else target
            self.out(f"You are in {'a DM with Cadence' if self.channel == 'dm' else '#' + self.channel}.")
            return True
        if w == "users":
            for u in self.users.values():
                self.out(f"  {u.name} ({u.tz})")
            return True
        if w == "now":
            now = self.core.clock.now()
            self.out(f"  {self._stamp(now)} ({now:%H:%M} UTC)")
            return True
        if w == "advance":
            return await self._advance(rest)
        if w == "click":
            return await self._click(rest)
        if w == "fill":
            return await self._fill(rest, ask)
        reply = await (
            self.core.handle_dm(self.me.actor, self.place(), line)
            if self.channel == "dm"
            else self.core.handle_command(self.me.actor, self.place(), line)
        )
        await self._introduce()  # `/cadence tz` may have changed the zone we render in
        self.show_reply(reply)
        await self.core.drain()
        return True

    async def _introduce(self) -> None:
        """Make the current user a person of the workspace now (so `@name` works before they type a
        command), and take the zone they set with `/cadence tz` for what the console shows them."""
        person = await directory.record_profile(self.core, self.me.actor)
        if person.tz_source == "user" and person.tz != self.me.tz:
            self.users[self.user] = ConsoleUser(self.user, person.tz)

    def _stamp(self, instant: datetime) -> str:
        """'Mon 7 Dec 2026 11:00 Asia/Kathmandu': the zone's name, never a bare +0545."""
        zone = self._zone()
        local = instant.astimezone(zone)
        return f"{local:%a} {local.day} {local:%b %Y %H:%M} {zone.key}"

    async def _advance(self, rest: str) -> bool:
        if not self.virtual:
            self.out("  `advance` needs --virtual-clock.")
            return True
        rest = rest.strip()
        now = self.core.clock.now()
        note = ""
        if rest.lower().startswith("to "):
            try:
                target, note = self._advance_target(rest[3:].strip(), now)
            except UserError as exc:
                self.out(f"  ✗ {exc.message}")
                return True
        else:
            if rest.startswith("-") or re.search(r"\bago\b|\bback\b", rest, re.I):
                self.out("  ✗ The virtual clock only moves forward (timers that fired stay fired). Nothing changed.")
                return True
            matches = DURATION_RE.findall(rest)
            if not matches or DURATION_RE.sub("", rest).strip(" ,and"):
                self.out(
                    "  usage: advance 3h | advance 90m | advance 2d | advance to mon 09:30 | advance to dec 28 09:05"
                )
                return True
            delta = timedelta()
            for amount, unit in matches:
                delta += timedelta(**{UNITS[unit[0].lower()]: float(amount)})
            target = now + delta
        # Step through time so each timer fires at its own moment, in order.
        while True:
            nxt = await self.core.timers.next_due()
            if nxt is None or nxt > target:
                break
            self.core.clock.set(max(nxt, self.core.clock.now()))
            await self.core.drain()
        self.core.clock.set(target)
        await clock_store.save(self.core, target)
        await self.core.drain()
        self.out(f"  ⏱ {self._stamp(target)}{note}")
        return True

    def _advance_target(self, text: str, now: datetime) -> tuple[datetime, str]:
        """`mon 09:30` → the next Monday at 09:30 (today if still ahead); `mon dec 28 09:05` → 28 Dec (the
        weekday must agree with the date). Returns (target, a note when it is not the obvious day)."""
        check_phrase(text)
        zone = self._zone()
        base = now.astimezone(zone).replace(tzinfo=None)
        day_word = WEEKDAY_RE.search(text)
        has_date = DATE_RE.search(WEEKDAY_RE.sub(" ", text))
        parse_text = WEEKDAY_RE.sub(" ", text) if (day_word and has_date) else text
        parsed = dateparser.parse(
            " ".join(parse_text.split()),
            languages=["en"],
            settings={"RELATIVE_BASE": base, "PREFER_DATES_FROM": "future", "PREFER_DAY_OF_MONTH": "first"},
        )
        if parsed is None:
            raise UserError(f"I couldn't read “{text}” as a time.")
        target = parsed.replace(tzinfo=zone)
        note = ""
        named_index = (
            DAYS.index(next(d for d in DAYS if d.startswith(day_word.group(1).lower()[:3]))) if day_word else 0
        )
        named = DAYS[named_index]
        if day_word and has_date:
            if target.weekday() != named_index:
                raise UserError(f"{target:%-d %b %Y} is a {DAYS[target.weekday()].title()}, not a {named.title()}.")
        elif day_word:
            clock = target.time()
            day = base.date() + timedelta(days=(named_index - base.weekday()) % 7)
            target = datetime.combine(day, clock, tzinfo=zone)
            if target <= now:
                target += timedelta(days=7)
                note = f" (next {DAYS[named_index].title()}: {clock:%H:%M} today has passed)"
        if target <= now:
            raise UserError("That is not in the future; the virtual clock only moves forward.")
        return target, note

    def _visible(self) -> list[ConsoleButton]:
        return [b for b in reversed(self.buttons) if not b.place.is_dm or b.place.channel_id == f"dm:{self.user}"]

    def _find_button(self, rest: str) -> ConsoleButton | list[ConsoleButton] | None:
        """`click 3` presses button 3; `click approve` the newest button so labelled that the current person
        can see (their DMs and channels); a bare `click` the only button of the newest card with buttons,
        or, when it has several, the list to choose from."""
        rest = rest.strip()
        if rest.isdigit():
            n = int(rest)
            return self.buttons[n - 1] if 1 <= n <= len(self.buttons) else None
        visible = self._visible()
        if not rest:
            newest = [b for b in visible if visible and b.card_no == visible[0].card_no]
            return newest[0] if len(newest) == 1 else (list(reversed(newest)) or None)
        wanted = rest.lower()
        for match in (lambda label: label == wanted, lambda label: label.startswith(wanted)):
            for button in visible:
                if match(button.label.lower()):
                    return button
        return None

    async def _click(self, rest: str) -> bool:
        found = self._find_button(rest)
        if found is None:
            self.out(f"  ✗ No button “{rest.strip() or '?'}”; buttons are numbered in [brackets].")
            return True
        if isinstance(found, list):
            choices = "  ".join(f"[{self.buttons.index(b) + 1}] {b.label}" for b in found)
            self.out(f"  Which one? {choices} — e.g. `click {self.buttons.index(found[0]) + 1}`.")
            return True
        place, delivered = found.place, found.delivered
        reply = await self.core.handle_action(
            self.me.actor,
            place,
            found.action_id,
            found.value,
            {"message_id": delivered.message_id} if delivered else None,
        )
        if reply is not None and reply.update is not None and delivered is not None:
            # The console shows the clicked message again, replaced in place.
            self._print_card(f"[#{place.channel_id}] (updated)", reply.update, self.user, place, delivered)
            reply.update = None
        if reply is not None and reply.form is not None:
            self.pending_form = (reply.form, place)
        self.show_reply(reply)
        await self.core.drain()
        return True

    async def _fill(self, rest: str, ask: Callable[[str], Any] | None) -> bool:
        if self.pending_form is None:
            self.out("  ✗ No form is open.")
            return True
        form, place = self.pending_form
        values: dict[str, str] = {}
        keys = [i.id for i in form.inputs]
        if rest.strip():
            for part in rest.split(";"):
                key, _, value = part.partition("=")
                if not key.strip():
                    continue
                if key.strip() not in keys:
                    self.out(f"  ✗ The form has no field “{key.strip()}”; its keys are {', '.join(keys)}. Not sent.")
                    return True
                # One typed line: `\n` starts a new line of a multi-line field (a rejection's reasons).
                values[key.strip()] = value.strip().replace("\\n", "\n")
        elif ask is not None:
            for i in form.inputs:
                opts = f" [{'/'.join(o.value for o in i.options)}]" if i.options else ""
                default = f" (default: {i.initial})" if i.initial else ""
                try:
                    answer = await ask(f"  {i.id} — {i.label}{opts}{default}{'' if i.required else ' (optional)'}: ")
                except (EOFError, KeyboardInterrupt):
                    self.out("\n  The form was not sent (input ended).")
                    return False
                values[i.id] = answer if answer else (i.initial or "")
        for i in form.inputs:
            values.setdefault(i.id, i.initial or "")
        reply = await self.core.handle_form(self.me.actor, place, form.form_id, values, form.state)
        if reply is not None and not reply.errors:
            self.pending_form = None
        self.show_reply(reply)
        await self.core.drain()
        return True
