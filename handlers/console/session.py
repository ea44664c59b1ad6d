"""A local workspace in a terminal: people with zones, a few channels, DMs with the bot, the same commands
as Slack and Teams. Used by the interactive console, the scripted demo and tests."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import dateparser

from bot.context import Actor, Place
from bot.messages import Card, Form, Reply
from bot.zones import resolve_zone
from handlers.console.directory import ConsoleDirectory
from handlers.console.messenger import ConsoleMessenger, Delivered
from handlers.console.render import render_card, render_form

WORKSPACE = "local"
DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s|days?|hours?|minutes?|mins?|seconds?)", re.IGNORECASE)
WEEKDAY_RE = re.compile(r"\b(mon|tue|wed|thu|fri|sat|sun)", re.IGNORECASE)
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


@dataclass
class ConsoleSession:
    core: Any
    out: Callable[[str], None] = print
    virtual: bool = False
    users: dict[str, ConsoleUser] = field(default_factory=dict)
    user: str = "alice"
    channel: str = "general"  # or "dm"
    buttons: list[ShownButton] = field(default_factory=list)
    pending_form: tuple[Form, Place] | None = None

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
        for action_id, value, label in numbering:
            self.buttons.append((action_id, value, place, d, label, viewer))
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
            self.out("  (fill it with `fill` — or `fill key=value; key=value`)")

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
            self.out(f"  {now.astimezone(self._zone()):%a %d %b %Y %H:%M %Z} ({now:%H:%M} UTC)")
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
        self.show_reply(reply)
        await self.core.drain()
        return True

    async def _advance(self, rest: str) -> bool:
        if not self.virtual:
            self.out("  `advance` needs --virtual-clock.")
            return True
        rest = rest.strip()
        now = self.core.clock.now()
        if rest.lower().startswith("to "):
            base = now.astimezone(self._zone()).replace(tzinfo=None)
            parsed = dateparser.parse(rest[3:], settings={"RELATIVE_BASE": base, "PREFER_DATES_FROM": "future"})
            if parsed is None:
                self.out(f"  ✗ I couldn't read “{rest[3:]}” as a time.")
                return True
            target = parsed.replace(tzinfo=self._zone())
            # "mon 14:00" on a Monday morning means today, not next week (dateparser jumps a week).
            if WEEKDAY_RE.search(rest):
                while target - timedelta(days=7) > now:
                    target -= timedelta(days=7)
            if target <= now:
                self.out("  ✗ That is not in the future.")
                return True
        else:
            matches = DURATION_RE.findall(rest)
            if not matches:
                self.out("  usage: advance 3h | advance 90m | advance 2d | advance to mon 09:30")
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
        await self.core.drain()
        self.out(f"  ⏱ {target.astimezone(self._zone()):%a %d %b %Y %H:%M %Z}")
        return True

    def _find_button(self, rest: str) -> ShownButton | None:
        """`click 3` presses button 3; `click approve` presses the newest button so labelled that the
        current person can see (their DMs and channels)."""
        rest = rest.strip()
        if rest.isdigit():
            n = int(rest)
            return self.buttons[n - 1] if 1 <= n <= len(self.buttons) else None
        wanted = rest.lower()
        visible = [b for b in reversed(self.buttons) if not b[2].is_dm or b[2].channel_id == f"dm:{self.user}"]
        for match in (lambda label: label == wanted, lambda label: label.startswith(wanted)):
            for button in visible:
                if match(button[4].lower()):
                    return button
        return None

    async def _click(self, rest: str) -> bool:
        found = self._find_button(rest)
        if found is None:
            self.out(f"  ✗ No button “{rest.strip() or '?'}”; buttons are numbered in [brackets].")
            return True
        action_id, value, place, delivered, _label, _viewer = found
        reply = await self.core.handle_action(
            self.me.actor, place, action_id, value, {"message_id": delivered.message_id} if delivered else None
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
        if rest.strip():
            for part in rest.split(";"):
                key, _, value = part.partition("=")
                if key.strip():
                    values[key.strip()] = value.strip()
        elif ask is not None:
            for i in form.inputs:
                opts = f" [{'/'.join(o.value for o in i.options)}]" if i.options else ""
                default = f" (default: {i.initial})" if i.initial else ""
                answer = await ask(f"  {i.label}{opts}{default}{'' if i.required else ' (optional)'}: ")
                values[i.id] = answer if answer else (i.initial or "")
        for i in form.inputs:
            values.setdefault(i.id, i.initial or "")
        reply = await self.core.handle_form(self.me.actor, place, form.form_id, values, form.state)
        if reply is not None and not reply.errors:
            self.pending_form = None
        self.show_reply(reply)
        await self.core.drain()
        return True
