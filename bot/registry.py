"""Where features plug in: commands, button actions, form submissions, timer kinds, DM listeners, hooks.
The core and the front ends never need to change when a feature adds one of these."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

COMMANDS = ("standup", "demo", "cr", "defect", "cadence")

CommandHandler = Callable[..., Awaitable[Any]]


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
        self.actions: dict[str, Callable[..., Awaitable[Any]]] = {}
        self.forms: dict[str, Callable[..., Awaitable[Any]]] = {}
        self.timers: dict[str, Callable[..., Awaitable[None]]] = {}
        self.dm_listeners: list[Callable[..., Awaitable[Any]]] = []
        self.hooks: dict[str, list[Callable[..., Awaitable[None]]]] = defaultdict(list)
        self.home_sections: list[Callable[..., Awaitable[Any]]] = []

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

    def add_action(self, action_id: str, handler: Callable[..., Awaitable[Any]]) -> None:
        if action_id in self.actions:
            raise ValueError(f"action {action_id} registered twice")
        self.actions[action_id] = handler

    def add_form(self, form_id: str, handler: Callable[..., Awaitable[Any]]) -> None:
        if form_id in self.forms:
            raise ValueError(f"form {form_id} registered twice")
        self.forms[form_id] = handler

    def add_timer(self, kind: str, handler: Callable[..., Awaitable[None]]) -> None:
        if kind in self.timers:
            raise ValueError(f"timer kind {kind} registered twice")
        self.timers[kind] = handler

    def add_dm_listener(self, handler: Callable[..., Awaitable[Any]]) -> None:
        self.dm_listeners.append(handler)

    def add_hook(self, event: str, handler: Callable[..., Awaitable[None]]) -> None:
        self.hooks[event].append(handler)

    def add_home_section(self, handler: Callable[..., Awaitable[Any]]) -> None:
        """`handler(session, core, person) -> list[Card]`: a section of a person's home (Slack App Home)."""
        self.home_sections.append(handler)

    def subcommands(self, cmd: str) -> list[CommandSpec]:
        return [s for (c, sub), s in self.commands.items() if c == cmd and sub is not None]
