"""Slash commands over signed HTTP: the help of each command (ephemeral), friendly corrections."""

from __future__ import annotations

import pytest

from bot.bootstrap import default_registry

COMMANDS = list(default_registry().groups)


@pytest.mark.parametrize("cmd", COMMANDS)
async def test_each_command_help_is_ephemeral(slack, cmd):
    r = await slack.command("alice", f"/{cmd} help")
    assert r.status == 200
    assert slack.last_ack_seconds < 3
    call = slack.private_calls("alice")[-1]
    assert call.method == "respond" and call.body["response_type"] == "ephemeral"
    assert f"/{cmd}" in call.text_dump()
    assert slack.posts() == []  # nothing public


async def test_bare_unknown_command_gets_a_friendly_correction(slack):
    await slack.command("alice", "/cr frobnicate")
    assert "cr help" in slack.last_private("alice")
