"""The Slack app manifest matches what the code handles (read as text: no YAML parser is a dependency)."""

from __future__ import annotations

import re
from pathlib import Path

from bot.kernel.registry import COMMANDS
from handlers.slack.oauth import BOT_SCOPES

MANIFEST = (Path(__file__).resolve().parents[3] / "manifest" / "slack.yml").read_text()


def section(name: str) -> str:
    """The indented block under `name:`."""
    m = re.search(rf"^(\s*){re.escape(name)}:\n((?:\1\s+.*\n|\s*\n)+)", MANIFEST, re.M)
    assert m, f"no {name} in the manifest"
    return m.group(2)


def test_every_command_escapes_mentions_and_uses_the_one_url():
    for cmd in COMMANDS:
        block = re.search(rf"- command: /{cmd}\n((?:\s{{6}}\S.*\n)+)", MANIFEST)
        assert block, f"/{cmd} missing"
        assert "should_escape: true" in block.group(1)
        assert "url: https://cadence.example.com/slack/events" in block.group(1)
    assert MANIFEST.count("- command: /") == len(COMMANDS)


def test_events_interactivity_home_and_scopes():
    events = section("bot_events")
    for event in ("app_home_opened", "message.im", "user_change", "app_mention", "channel_id_changed"):
        assert f"- {event}" in events
    assert "home_tab_enabled: true" in MANIFEST
    assert re.search(r"interactivity:\n\s+is_enabled: true\n\s+request_url: https://\S+/slack/events", MANIFEST)
    scopes = set(re.findall(r"^\s+- ([a-z_.]+:[a-z_.]+|commands)$", section("bot"), re.M))
    assert scopes == set(BOT_SCOPES)
    assert "/slack/oauth_redirect" in MANIFEST
