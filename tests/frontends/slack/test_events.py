"""Events API: App Home, DMs with the bot, @mentions, and redeliveries (X-Slack-Retry-Num)."""

from __future__ import annotations

import json


async def test_app_home_is_published_with_the_persons_sections(slack, probe):
    r = await slack.open_home("carol")
    assert r.status == 200
    call = slack.api.last("views.publish")
    assert call.body["user_id"] == "UCAROL"
    view = call.view()
    assert view["type"] == "home"
    dump = json.dumps(view["blocks"])
    assert "Pending approvals" in dump and "<!date^" in dump  # times in each reader's zone
    assert "your own time zone" in dump


async def test_app_home_button_click(slack, probe):
    await slack.command("alice", "/cadence setup ACME Acme portal")
    await slack.command("carol", "/cadence whoami")
    await slack.command("alice", f"/cadence role {slack.mention('carol')} client_sponsor")
    probe.items[1] = {"decided_by": None, "by_person": 1}
    await slack.open_home("carol")
    home = slack.api.last("views.publish").view()
    r = await slack.click("carol", home, "Approve", home=True)
    assert r.status == 200
    assert probe.items[1]["decided_by"]
    assert slack.api.count("views.publish") == 2  # the home is published again with the new state
    assert "You approved PROBE-1." in slack.last_private("carol")  # no channel: it goes to the DM


async def test_dm_plain_text_goes_to_the_features_and_is_answered_in_the_dm(slack, probe):
    await slack.dm("dev", "zz finished the login page")
    assert probe.dm_texts == ["zz finished the login page"]
    call = slack.api.last("chat.postMessage")
    assert call.body["channel"] == "DDEV" and "Noted" in call.text_dump()


async def test_commands_typed_in_the_dm_work(slack):
    slack.user("dev", tz="Asia/Kathmandu")
    await slack.dm("dev", "cadence tz")
    assert "Asia/Kathmandu" in slack.api.last("chat.postMessage").text_dump()


async def test_event_redelivery_is_applied_once(slack, probe):
    await slack.dm("dev", "zz blocked by VPN", event_id="EvRETRY1")
    r = await slack.dm("dev", "zz blocked by VPN", event_id="EvRETRY1", retry=1)
    assert r.status == 200
    r = await slack.dm("dev", "zz blocked by VPN", event_id="EvRETRY1", retry=2)
    assert r.status == 200
    assert probe.dm_texts == ["zz blocked by VPN"]
    assert slack.api.count("chat.postMessage") == 1
    # A different event with the same text is a new message and is applied.
    await slack.dm("dev", "zz blocked by VPN", event_id="EvOTHER")
    assert len(probe.dm_texts) == 2


async def test_bot_messages_and_edits_are_ignored(slack, probe):
    await slack.event(
        {
            "type": "message",
            "channel_type": "im",
            "channel": "DDEV",
            "user": "UDEV",
            "subtype": "message_changed",
            "text": "zz edited",
        }
    )
    await slack.event(
        {"type": "message", "channel_type": "im", "channel": "DDEV", "bot_id": "B0OTHER", "text": "zz from a bot"}
    )
    await slack.event(
        {"type": "message", "channel_type": "im", "channel": "DDEV", "user": "UBOT0001", "text": "zz from ourselves"}
    )
    assert probe.dm_texts == []
    assert slack.api.count("chat.postMessage") == 0


async def test_mention_in_a_channel_runs_a_command(slack):
    await slack.event(
        {"type": "app_mention", "channel": "C0HOME", "user": "UALICE", "text": "<@UBOT0001> cadence help"}
    )
    call = slack.api.last("chat.postEphemeral")
    assert call.body["user"] == "UALICE" and "/cadence" in call.text_dump()
