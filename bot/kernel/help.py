"""Help texts, built from what features registered, and friendly corrections."""

from __future__ import annotations

import difflib
import functools
import re

from bot.kernel.messages import Card
from bot.kernel.registry import Registry, declared
from bot.kernel.text import truncate

# How someone from the other company's workspace or tenant reaches Cadence: slash commands are the installing
# workspace's only (Slack Connect), so every command is shown as an @mention in the engagement's channel.
BY_MENTION = "@Cadence "
BY_MENTION_NOTE = (
    "You are in another company's workspace, where Cadence's slash commands don't reach it: "
    "mention it in the engagement's channel instead, e.g. `@Cadence defect s2 Checkout times out`, "
    "`@Cadence cr new`, `@Cadence help`. Buttons and forms work as for everyone."
)


@functools.cache
def _slash_hint(names: tuple[str, ...]) -> re.Pattern[str]:
    """A command hint as the domain writes it (`/cr show ACME-CR-7`), not inside a word, a path or a URL."""
    return re.compile(r"(?<![\w/<:.])/(" + "|".join(map(re.escape, names)) + r")\b")


def retype_commands(text: str, prefix: str) -> str:
    """Command hints for a reader who cannot type slash commands: `prefix` instead of the slash (`@Cadence `
    for another workspace's member in Slack Connect, nothing on Teams, where people type the words). The
    renderers that call it have no registry at hand: the command groups declared in this process are used."""
    names = tuple(declared.groups)
    return _slash_hint(names).sub(lambda m: prefix + m.group(1), text) if names else text


def _as_typed(usage: str, by_mention: bool) -> str:
    """A usage line (`/cr new <title>`) as the reader types it."""
    return BY_MENTION + usage.lstrip("/") if by_mention else usage


def overview(registry: Registry, topic: str | None = None, *, by_mention: bool = False) -> Card:
    groups = registry.groups
    if topic and topic.lstrip("/") in groups:
        return for_command(registry, topic.lstrip("/"), by_mention=by_mention)
    if by_mention:
        lines = [f"`{BY_MENTION}{g.name}` — {g.summary} (`{BY_MENTION}{g.name} help`)" for g in groups.values()]
        return Card(title="Cadence commands", text="\n".join(lines) + "\n\n" + BY_MENTION_NOTE)
    lines = [f"`/{g.name}` — {g.summary} (`/{g.name} help`)" for g in groups.values()]
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
    group = registry.groups.get(cmd)
    if group is not None and group.setup:
        # On Slack `/cadence help` is the only help a user can reach: it names every job too.
        prefix = BY_MENTION if by_mention else "/"
        jobs = [
            f"`{prefix}{g.name}` — {g.summary} (`{prefix}{g.name} help`)"
            for g in registry.groups.values()
            if not g.setup
        ]
        lines = [*lines, "", "*The jobs:*", *jobs]
    title = f"{BY_MENTION if by_mention else '/'}{cmd} — {group.summary if group else ''}"
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
