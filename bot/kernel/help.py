"""Help texts, built from what features registered, and friendly corrections."""

from __future__ import annotations

import difflib
import re

from bot.kernel.messages import Card
from bot.kernel.registry import COMMANDS, Registry
from bot.kernel.text import truncate

ABOUT = {
    "standup": "Daily standups across time zones",
    "demo": "Sprint demos: scheduling, reminders, acceptance",
    "cr": "Change requests and their approval",
    "defect": "Defects and faults with SLA timers",
    "milestone": "Milestones, acceptance rounds and the warranty",
    "cadence": "Engagement set-up: channel, roles, your zone, absences",
}


# How someone from the other company's workspace or tenant reaches Cadence: slash commands are the installing
# workspace's only (Slack Connect), so every command is shown as an @mention in the engagement's channel.
BY_MENTION = "@Cadence "
BY_MENTION_NOTE = (
    "You are in another company's workspace, where Cadence's slash commands don't reach it: "
    "mention it in the engagement's channel instead, e.g. `@Cadence defect s2 Checkout times out`, "
    "`@Cadence cr new`, `@Cadence help`. Buttons and forms work as for everyone."
)


# A command hint as the domain writes it (`/cr show ACME-CR-7`), not inside a word, a path or a URL.
_SLASH_HINT = re.compile(r"(?<![\w/<:.])/(" + "|".join(COMMANDS) + r")\b")


def retype_commands(text: str, prefix: str) -> str:
    """Command hints for a reader who cannot type slash commands: `prefix` instead of the slash (`@Cadence `
    for another workspace's member in Slack Connect, nothing on Teams, where people type the words)."""
    return _SLASH_HINT.sub(lambda m: prefix + m.group(1), text)


def _as_typed(usage: str, by_mention: bool) -> str:
    """A usage line (`/cr new <title>`) as the reader types it."""
    return BY_MENTION + usage.lstrip("/") if by_mention else usage


def overview(registry: Registry, topic: str | None = None, *, by_mention: bool = False) -> Card:
    if topic and topic.lstrip("/") in COMMANDS:
        return for_command(registry, topic.lstrip("/"), by_mention=by_mention)
    if by_mention:
        lines = [f"`{BY_MENTION}{c}` — {ABOUT[c]} (`{BY_MENTION}{c} help`)" for c in COMMANDS]
        return Card(title="Cadence commands", text="\n".join(lines) + "\n\n" + BY_MENTION_NOTE)
    lines = [f"`/{c}` — {ABOUT[c]} (`/{c} help`)" for c in COMMANDS]
    return Card(
        title="Cadence commands",
        text="\n".join(lines) + "\n\nIn Teams and the console type the same words without the slash, e.g. `cr new`.",
    )


def for_command(registry: Registry, cmd: str, *, by_mention: bool = False) -> Card:
    specs = sorted(registry.subcommands(cmd), key=lambda s: s.usage)
    catch_all = registry.commands.get((cmd, None))
    lines = [f"`{_as_typed(s.usage, by_mention)}` — {s.summary}" for s in specs]
    if catch_all is not None:
        lines.insert(0, f"`{_as_typed(catch_all.usage, by_mention)}` — {catch_all.summary}")
    if not lines:
        lines = ["Nothing here yet."]
    if cmd == "cadence":
        # On Slack `/cadence help` is the only help a user can reach: it names every job too.
        prefix = BY_MENTION if by_mention else "/"
        jobs = [f"`{prefix}{c}` — {ABOUT[c]} (`{prefix}{c} help`)" for c in COMMANDS if c != "cadence"]
        lines = [*lines, "", "*The jobs:*", *jobs]
    title = f"{BY_MENTION if by_mention else '/'}{cmd} — {ABOUT.get(cmd, '')}"
    return Card(title=title, text="\n".join(lines) + ("\n\n" + BY_MENTION_NOTE if by_mention else ""))


def unknown(text: str, suggestion: str | None) -> str:
    shown = truncate(" ".join(text.split()), 40)
    hint = f" Did you mean `/{suggestion}`?" if suggestion and suggestion != "help" else ""
    return f"I don't know “{shown}”.{hint} Type `help` to see what I can do."


def unknown_sub(registry: Registry, cmd: str, sub: str) -> str:
    subs = [s.sub for s in registry.subcommands(cmd) if s.sub]
    guess = difflib.get_close_matches(sub, subs, n=1, cutoff=0.5)
    hint = f" Did you mean `/{cmd} {guess[0]}`?" if guess else ""
    return f"`/{cmd}` has no “{truncate(sub, 30)}”.{hint} Type `/{cmd} help` for the list."
