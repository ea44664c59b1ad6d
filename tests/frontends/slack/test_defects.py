"""Defects through the real Slack front end: quick filing with an alias, the card with local-time
deadlines and legal buttons, a refused and an allowed click, the filing modal with a refused link, an
S1 page and an SLA warning by DM, all over signed HTTP against the Slack Web API stand-in."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.frontends.slack.harness import HOME
from tests.frontends.slack.test_escaping import parsed_texts


async def _engagement(slack):
    await slack.command("alice", "/cadence setup ACME Acme portal")
    for who in ("carol", "victor", "dev"):
        await slack.command(who, "/cadence whoami")
    for who, role in (("carol", "client_pm"), ("victor", "vendor_pm"), ("dev", "developer")):
        await slack.command("alice", f"/cadence role {slack.mention(who)} {role}")
    await slack.settle()


def _card(slack, ts: str) -> dict:
    """The defect card (as it stands now) among the channel's messages."""
    return next(m for m in slack.posts() if m["ts"] == ts)


def _buttons(message: dict) -> list[str]:
    return [
        el["text"]["text"] for b in message.get("blocks") or [] if b.get("type") == "actions" for el in b["elements"]
    ]


async def test_quick_filing_card_buttons_and_page(slack):
    await _engagement(slack)
    await slack.command("carol", "/defect sev1 Checkout <!channel> returns 500")
    await slack.settle()
    assert "Filed ACME-D-1 (S1)" in slack.last_private("carol")
    card = slack.posts()[-1]
    dump = json.dumps(card["blocks"])
    assert "ACME-D-1" in dump and "S1" in dump
    assert "<!date^" in dump  # deadlines in each reader's own time
    # User text cannot ping: escaped in mrkdwn (a plain_text header shows it literally, never as a ping).
    assert "<!channel>" not in card["text"] and "&lt;!channel&gt;" in card["text"]
    assert _buttons(card) == ["Acknowledge", "Change severity"]
    # The vendor PM is paged by DM at once.
    assert any("S1 filed: ACME-D-1" in t for t in slack.private("victor"))

    # The client cannot acknowledge: told why, the card stays as it was.
    await slack.click("carol", card, "Acknowledge")
    await slack.settle()
    assert "Only the vendor team" in slack.last_private("carol")
    assert slack.api.count("chat.update") == 0

    # The developer can: the card is edited in place with the next legal buttons.
    await slack.click("dev", card, "Acknowledge")
    await slack.settle()
    assert "Acknowledged ACME-D-1" in slack.last_private("dev")
    update = slack.api.last("chat.update")
    assert update.body["channel"] == HOME and update.body["ts"] == card["ts"]
    assert _buttons(slack.posts()[-1]) == ["Start work", "Waiting on client", "Resolve", "Change severity"]

    # A second click on the old rendering: already acknowledged, nothing changes.
    await slack.click("victor", card, "Acknowledge")
    await slack.settle()
    assert "already been acknowledged" in slack.last_private("victor")
    assert slack.api.count("chat.update") == 1


async def test_filing_modal_refuses_a_bad_link_then_files(slack):
    await _engagement(slack)
    await slack.command("carol", "/defect new")
    await slack.settle()
    view = slack.opened_view()
    ids = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    assert ids == ["title", "severity", "environment", "steps", "expected", "actual", "affected_users", "attachment"]
    assert view["title"]["text"] == "File a defect"
    values = {"title": "Export is slow", "severity": "s3", "attachment": "ftp://files/x"}
    r = await slack.submit("carol", view, values)
    assert r.json()["response_action"] == "errors" and "attachment" in r.json()["errors"]
    r = await slack.submit("carol", view, {**values, "attachment": "javascript:alert(1)"})
    assert r.json()["response_action"] == "errors" and "attachment" in r.json()["errors"]
    r = await slack.submit(
        "carol", view, {**values, "title": "Export is slow <!channel>", "attachment": "https://files.example/har"}
    )
    assert r.status == 200 and r.text == ""
    await slack.settle()
    card = slack.posts()[-1]
    assert "ACME-D-1" in json.dumps(card["blocks"])
    assert "<!channel>" not in parsed_texts(card) and "<!date^" in parsed_texts(card)

    # Resolve asks for a note (a modal), from the card's button.
    await slack.click("victor", card, "Acknowledge")
    await slack.settle()
    await slack.click("victor", _card(slack, card["ts"]), "Resolve")
    assert slack.opened_view()["title"]["text"].startswith("Resolve")


async def test_waiting_on_client_form_and_warning_dm(slack):
    await _engagement(slack)
    await slack.command("carol", "/defect s2 Search ignores filters")
    await slack.settle()
    card = slack.posts()[-1]
    # Nobody acknowledges: at 75 % of 4 h the vendor PM gets a warning by DM.
    slack.core.clock.advance(timedelta(hours=3))
    await slack.settle()
    assert any("75 % of the response time used" in t for t in slack.private("victor"))
    await slack.click("dev", card, "Acknowledge")
    await slack.settle()
    card = _card(slack, card["ts"])
    await slack.click("dev", card, "Waiting on client")
    await slack.settle()
    view = slack.opened_view()
    r = await slack.submit("dev", view, {"reason": "Which browser?"})
    assert r.status == 200
    await slack.settle()
    card = _card(slack, card["ts"])
    assert _buttons(card) == ["Resume work", "Reply (client)", "Resolve", "Change severity"]
    assert "paused" in json.dumps(card["blocks"]) and "Which browser?" in json.dumps(card["blocks"])
