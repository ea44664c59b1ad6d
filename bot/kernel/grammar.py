"""The one command grammar shared by every front end: `/cr new Add SSO`, `cr new …`, `defect s1 …`, `help`."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass

from bot.kernel.text import MAX_COMMAND, clean

# Slack escapes people and channels as <@U123|name> / <#C123|name>; Teams sends <at>Name</at>.
MENTION_RE = re.compile(r"<@([A-Z0-9]+)(?:\|([^>]*))?>|@([\w.\-]+)")
CHANNEL_RE = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]*))?>")


@dataclass(frozen=True)
class Parsed:
    cmd: str | None  # None: not one of our commands
    sub: str | None  # first word after the command, lower-cased (None if none)
    rest: str  # text after the sub-command
    args: str  # text after the command (sub-command included)
    suggestion: str | None = None  # closest command when cmd is None

    @property
    def is_help(self) -> bool:
        return self.cmd == "help" or self.sub in ("help", "?", "-h", "--help")


def parse(text: str | None, commands: Collection[str]) -> Parsed:
    """Parse a command line; `commands` are the command groups that exist (`registry.groups`). Never raises on
    content; over-long input raises InputTooLong."""
    text = clean(text, limit=MAX_COMMAND, what="The command")
    stripped = text.lstrip("/").strip()
    if not stripped:
        return Parsed(cmd="help", sub=None, rest="", args="")
    head, _, tail = stripped.partition(" ")
    head_l = head.lower()
    if head_l in ("help", "?"):
        return Parsed(cmd="help", sub=tail.strip().lower() or None, rest="", args=tail.strip())
    if head_l not in commands:
        guess = difflib.get_close_matches(head_l, [*commands, "help"], n=1, cutoff=0.5)
        return Parsed(cmd=None, sub=None, rest=stripped, args=stripped, suggestion=guess[0] if guess else None)
    args = tail.strip()
    sub, _, rest = args.partition(" ")
    return Parsed(cmd=head_l, sub=sub.lower() or None, rest=rest.strip(), args=args)


def mentions(text: str) -> list[tuple[str | None, str | None]]:
    """(platform user id, name) for each mention in `text`."""
    out = []
    for m in MENTION_RE.finditer(text):
        if m.group(1):
            out.append((m.group(1), m.group(2)))
        else:
            out.append((None, m.group(3)))
    return out
