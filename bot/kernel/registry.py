"""Where features plug in: commands, button actions, form submissions, timer kinds, DM listeners, hooks.
The core and the front ends never need to change when a feature adds one of these."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.kernel.context import Ctx, TimerCtx
    from bot.kernel.core import Cadence
    from bot.kernel.messages import Card, Reply
    from storage.models import Person

COMMANDS = ("standup", "demo", "cr", "defect", "milestone", "cadence")

CommandHandler = Callable[["Ctx"], Awaitable["Reply"]]
ActionHandler = Callable[["Ctx", str], Awaitable["Reply"]]  # (ctx, the button's value)
FormHandler = Callable[["Ctx", dict[str, str], dict[str, Any]], Awaitable["Reply"]]  # (ctx, values, state)
TimerHandler = Callable[["TimerCtx"], Awaitable[None]]
DmListener = Callable[["Ctx", str], Awaitable["Reply | None"]]  # (ctx, text); None: not for this feature
# (session, core, **the event's own fields): each event names different ones, so only the shape is fixed.
Hook = Callable[..., Awaitable[None]]
HomeSection = Callable[["AsyncSession", "Cadence", "Person"], Awaitable[list["Card"]]]


@dataclass
class CommandSpec:
    cmd: str
    sub: str | None
    handler: CommandHandler
    usage: str
    summary: str
    # False: only people seated in the engagement (holding a role) may run it where one is bound.
    open_to_outsiders: bool = False


class Registry:
    def __init__(self) -> None:
        self.commands: dict[tuple[str, str | None], CommandSpec] = {}
        self.actions: dict[str, ActionHandler] = {}
        self.forms: dict[str, FormHandler] = {}
        self.timers: dict[str, TimerHandler] = {}
        self.dm_listeners: list[DmListener] = []
        self.hooks: dict[str, list[Hook]] = defaultdict(list)
        self.home_sections: list[HomeSection] = []

    def add_command(
        self,
        cmd: str,
        sub: str | None,
        handler: CommandHandler,
        *,
        usage: str = "",
        summary: str = "",
        open_to_outsiders: bool = False,
    ) -> None:
        if cmd not in COMMANDS:
            raise ValueError(f"unknown command {cmd!r}")
        key = (cmd, sub.lower() if sub else None)
        if key in self.commands:
            raise ValueError(f"command {cmd} {sub} registered twice")
        self.commands[key] = CommandSpec(
            cmd, key[1], handler, usage or f"/{cmd} {sub or ''}".strip(), summary, open_to_outsiders
        )

    def add_action(self, action_id: str, handler: ActionHandler) -> None:
        if action_id in self.actions:
            raise ValueError(f"action {action_id} registered twice")
        self.actions[action_id] = handler

    def add_form(self, form_id: str, handler: FormHandler) -> None:
        if form_id in self.forms:
            raise ValueError(f"form {form_id} registered twice")
        self.forms[form_id] = handler

    def add_timer(self, kind: str, handler: TimerHandler) -> None:
        if kind in self.timers:
            raise ValueError(f"timer kind {kind} registered twice")
        self.timers[kind] = handler

    def add_dm_listener(self, handler: DmListener) -> None:
        self.dm_listeners.append(handler)

    def add_hook(self, event: str, handler: Hook) -> None:
        self.hooks[event].append(handler)

    def add_home_section(self, handler: HomeSection) -> None:
        """`handler(session, core, person) -> list[Card]`: a section of a person's home (Slack App Home)."""
        self.home_sections.append(handler)

    def subcommands(self, cmd: str) -> list[CommandSpec]:
        return [s for (c, sub), s in self.commands.items() if c == cmd and sub is not None]
