"""The standup job end to end through the real Slack front end: prompt DMs at 09:30 in each person's
profile zone, answers in the DM and in a modal, the digest with blockers first in the home channel,
a blocker turned into a defect form, and a late answer updating the digest in place."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.features.standups.support import goto
from tests.frontends.slack.harness import HOME

UTC = UTC


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def dm_messages(slack, who: str) -> list[dict]:
    uid = slack.uid(who)
    out = []
    for channel, messages in slack.api.messages.items():
        if channel in (uid, "D" + uid[1:]):
            out.extend(messages)
    return out


async def test_standup_day_on_slack(slack, core):
    slack.user("alice", tz="Europe/London")
    slack.user("victor", tz="Asia/Kolkata")
    slack.user("dev", tz="Asia/Kathmandu")
    await slack.command("alice", "/cadence setup ACME Acme portal as client_sponsor")
    for who in ("victor", "dev"):
        await slack.command(who, "/cadence whoami")
    # Alice seats the vendor's first admin; the vendor side seats its own people.
    await slack.command("alice", f"/cadence role {slack.mention('victor')} vendor_pm")
    await slack.command("victor", f"/cadence role {slack.mention('dev')} developer")

    # Tuesday 09:30 in Kathmandu (03:45 UTC) and Kolkata (04:00 UTC).
    await goto(core, at(2027, 1, 5, 4, 0))
    await slack.settle()
    victor_dm = dm_messages(slack, "victor")
    assert len(victor_dm) == 1 and "What did you finish" in json.dumps(victor_dm[0]["blocks"])
    assert len(dm_messages(slack, "dev")) == 1

    # Victor answers in the modal opened from the prompt's button.
    r = await slack.click("victor", victor_dm[0], "Answer in a form", channel="D" + slack.uid("victor")[1:])
    assert r.status == 200
    view = slack.opened_view()
    assert view["type"] == "modal"
    r = await slack.submit(
        "victor",
        view,
        {"q0": "Sprint planning", "q1": "Estimates for <!channel> CR-3", "q2": "Waiting for the staging database"},
    )
    assert r.status == 200 and r.text == ""

    # Dev answers in the DM, one message per question.
    await slack.dm("dev", "Login API")
    await slack.dm("dev", "skip")
    await slack.dm("dev", "none")
    assert "recorded" in slack.last_private("dev")

    # The digest: 10:00 London, blockers first, each with its two buttons.
    await goto(core, at(2027, 1, 5, 10, 0))
    await slack.settle()
    digest = next(m for m in slack.posts(HOME) if "Standup digest" in json.dumps(m.get("blocks")))
    dump = json.dumps(digest["blocks"])
    assert dump.index("Waiting for the staging database") < dump.index("Sprint planning")
    assert "&lt;!channel&gt;" in dump and "<!channel>" not in dump  # user text cannot ping the channel
    _, button = slack.button(digest, "Turn into defect")
    assert button["action_id"].startswith("standup.blocker_to_defect")
    r = await slack.click("alice", digest, "Turn into defect")
    assert r.status == 200
    defect_view = slack.opened_view()
    meta = json.loads(defect_view["private_metadata"])
    assert meta["f"] == "defect.new" and meta["s"]["from_standup_answer"] == int(button["value"])
    assert "Waiting for the staging database" in json.dumps(defect_view["blocks"])

    # A late answer (a new participant answers Tuesday after the digest) updates it in place.
    assert slack.api.count("chat.update") == 0
    slack.user("lena", tz="Asia/Kolkata")
    await slack.command("lena", "/cadence whoami")
    await slack.command("victor", f"/cadence role {slack.mention('lena')} qa")
    await slack.command("lena", "/standup join")
    await slack.command("lena", "/standup")
    view = slack.opened_view()
    await slack.submit("lena", view, {"q0": "Reviews", "q1": "More reviews", "q2": "none"})
    assert slack.api.count("chat.update") == 1
    digests = [m for m in slack.posts(HOME) if "Standup digest" in json.dumps(m.get("blocks"))]
    assert len(digests) == 1  # the same message, edited
    dump = json.dumps(digests[0]["blocks"])
    assert "Reviews" in dump and "(late)" in dump
    assert slack.api.last("chat.update").body["ts"] == digest["ts"]


async def test_standup_settings_modal_on_slack(slack, core):
    slack.user("alice", tz="Europe/London")
    await slack.command("alice", "/cadence setup ACME Acme portal")
    await slack.command("alice", "/standup config")
    view = slack.opened_view()
    kinds = {b["block_id"]: b["element"]["type"] for b in view["blocks"] if b["type"] == "input"}
    assert kinds["questions"] == "plain_text_input" and kinds["digest_channel"] == "static_select"
    r = await slack.submit(
        "alice",
        view,
        {
            "prompt_time": "25:99",
            "days": "mon-fri",
            "questions": "Done?",
            "blocker_question": "0",
            "reminder_minutes": "30",
            "digest_time": "10:00",
            "digest_zone": "Europe/London",
            "digest_channel": "home",
        },
    )
    assert r.json()["response_action"] == "errors" and "prompt_time" in r.json()["errors"]
    r = await slack.submit(
        "alice",
        view,
        {
            "prompt_time": "08:45",
            "days": "mon-thu",
            "questions": "Done?\nNext?\nBlocked?",
            "blocker_question": "3",
            "reminder_minutes": "30",
            "digest_time": "11:00",
            "digest_zone": "Europe/Berlin",
            "digest_channel": "home",
        },
    )
    assert r.status == 200 and r.text == ""
    await slack.command("alice", "/standup config show")
    shown = slack.last_private("alice")
    assert "08:45" in shown and "11:00 Europe/Berlin" in shown and "Mon, Tue, Wed, Thu" in shown
