"""Help texts, built from what features registered, and friendly corrections."""

from __future__ import annotations

import difflib

from bot.messages import Card
from bot.registry import COMMANDS, Registry
from bot.text import truncate

ABOUT = {
    "standup": "Daily standups across time zones",
    "demo": "Sprint demos: scheduling, reminders, acceptance",
    "cr": "Change requests and their approval",
    "defect": "Defects and faults with SLA timers",
    "cadence": "Engagement set-up: channel, roles, your zone, absences",
}


def overview(registry: Registry, topic: str | None = None) -> Card:
    if topic and topic.lstrip("/") in COMMANDS:
        return for_command(registry, topic.lstrip("/"))
    lines = [f"`/{c}` — {ABOUT[c]} (`/{c} help`)" for c in COMMANDS]
    return Card(
        title="Cadence commands",
        text="\n".join(lines) + "\n\nIn Teams and the console type the same words without the slash, e.g. `cr new`.",
    )


def for_command(registry: Registry, cmd: str) -> Card:
    specs = sorted(registry.subcommands(cmd), key=lambda s: s.usage)
    catch_all = registry.commands.get((cmd, None))
    lines = [f"`{s.usage}` — {s.summary}" for s in specs]
    if catch_all is not None:
        lines.insert(0, f"`{catch_all.usage}` — {catch_all.summary}")
    if not lines:
        lines = ["Nothing here yet."]
    if cmd == "cadence":
        # On Slack `/cadence help` is the only help a user can reach: it names every job too.
        jobs = [f"`/{c}` — {ABOUT[c]} (`/{c} help`)" for c in COMMANDS if c != "cadence"]
        lines = [*lines, "", "*The jobs:*", *jobs]
    return Card(title=f"/{cmd} — {ABOUT.get(cmd, '')}", text="\n".join(lines))


def unknown(text: str, suggestion: str | None) -> str:
    shown = truncate(" ".join(text.split()), 40)
    hint = f" Did you mean `/{suggestion}`?" if suggestion and suggestion != "help" else ""
    return f"I don't know “{shown}”.{hint} Type `help` to see what I can do."


def unknown_sub(registry: Registry, cmd: str, sub: str) -> str:
    subs = [s.sub for s in registry.subcommands(cmd) if s.sub]
    guess = difflib.get_close_matches(sub, subs, n=1, cutoff=0.5)
    hint = f" Did you mean `/{cmd} {guess[0]}`?" if guess else ""
    return f"`/{cmd}` has no “{truncate(sub, 30)}”.{hint} Type `/{cmd} help` for the list."
