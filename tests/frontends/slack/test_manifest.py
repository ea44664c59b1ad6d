"""The Slack app manifest matches what the code handles (read as text: no YAML parser is a dependency), and
so does the Teams manifest's command menu: both list the command groups the features declare in the registry."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bot.bootstrap import default_registry
from handlers.slack.oauth import BOT_SCOPES

ROOT = Path(__file__).resolve().parents[3]
MANIFEST = (ROOT / "manifest" / "slack.yml").read_text()
REGISTRY = default_registry()
COMMANDS = list(REGISTRY.groups)


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


def test_slack_slash_commands_are_the_registry_groups():
    in_manifest = re.findall(r"^\s*- command: /(\S+)$", MANIFEST, re.M)
    assert sorted(in_manifest) == sorted(COMMANDS)  # every group has its slash command, and nothing else does
    # Each usage hint's words are sub-commands of its group (or, for `/defect s1 …`, its catch-all's).
    for cmd, hint in re.findall(r"- command: /(\w+)\n(?:\s{6}\S.*\n)*?\s{6}usage_hint: \"\[([^]]*)\]", MANIFEST):
        for word in (part.split()[0] for part in hint.split("|")):
            assert word == "help" or (cmd, word) in REGISTRY.commands or (cmd, None) in REGISTRY.commands, (cmd, word)


def test_teams_command_menus_are_registry_commands_and_name_every_group():
    """Teams shows at most 10 entries per menu (manifest schema: commandLists[].commands maxItems 10), fewer
    than the command groups: each menu starts with help, which lists them all, and every group is in at least
    one menu (a chat's menu holds what is done together, the personal one what is one's own)."""
    manifest = json.loads((ROOT / "manifest" / "teams" / "manifest.json").read_text())
    named = set()
    for menu in manifest["bots"][0]["commandLists"]:
        assert len(menu["commands"]) <= 10, menu["scopes"]
        assert menu["commands"][0]["title"] == "help", menu["scopes"]
        for entry in menu["commands"][1:]:
            words = entry["title"].split()
            assert words[0] in REGISTRY.groups, entry["title"]  # a menu entry the bot would not understand
            if len(words) > 1:
                assert (words[0], words[1]) in REGISTRY.commands, entry["title"]
            named.add(words[0])
    assert named == set(COMMANDS)  # every group reachable from a menu


def test_events_interactivity_home_and_scopes():
    events = section("bot_events")
    for event in ("app_home_opened", "message.im", "user_change", "app_mention", "channel_id_changed"):
        assert f"- {event}" in events
    assert "home_tab_enabled: true" in MANIFEST
    assert re.search(r"interactivity:\n\s+is_enabled: true\n\s+request_url: https://\S+/slack/events", MANIFEST)
    scopes = set(re.findall(r"^\s+- ([a-z_.]+:[a-z_.]+|commands)$", section("bot"), re.M))
    assert scopes == set(BOT_SCOPES)
    assert "/slack/oauth_redirect" in MANIFEST
