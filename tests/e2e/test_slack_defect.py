"""A defect through Slack: the filing modal (refused, then valid), Acknowledge by someone not allowed,
by the vendor (the card updates in place with a date token), twice, and Resolve asking for a note."""

from __future__ import annotations

import json

from tests.e2e.test_slack_escaping import parsed_texts


async def engagement(slack):
    await slack.command("alice", "/cadence setup ACME Acme portal")
    for who in ("carol", "victor"):
        await slack.command(who, "/cadence whoami")
    await slack.command("alice", f"/cadence role {slack.mention('carol')} client_pm")
    await slack.command("alice", f"/cadence role {slack.mention('victor')} vendor_pm")


def card_of(slack, ref: str) -> dict:
    for msg in reversed(slack.posts()):
        if ref in json.dumps(msg["blocks"]):
            return msg
    raise AssertionError(f"no message about {ref}")


async def test_defect_modal_and_buttons(slack):
    await engagement(slack)
    await slack.command("carol", "/defect new")
    view = slack.opened_view()
    assert view["title"]["text"] == "File a defect"
    r = await slack.submit(
        "carol", view, {"title": "Checkout fails", "severity": "s2", "attachment": "javascript:alert(1)"}
    )
    assert r.json()["response_action"] == "errors" and "attachment" in r.json()["errors"]
    r = await slack.submit("carol", view, {"title": "Checkout fails <!channel>", "severity": "s2"})
    assert r.text == ""
    card = card_of(slack, "ACME-D-1")
    assert "<!channel>" not in parsed_texts(card) and "<!date^" in parsed_texts(card)

    await slack.click("carol", card, "Acknowledge")  # client side: not theirs to acknowledge
    assert "Only the vendor team" in slack.last_private("carol")
    assert not card_of(slack, "ACME-D-1").get("edited")

    await slack.click("victor", card, "Acknowledge")
    after = card_of(slack, "ACME-D-1")
    assert after.get("edited") and "Acknowledged" in json.dumps(after["blocks"])
    updates = slack.api.count("chat.update")
    await slack.click("victor", card, "Acknowledge")  # double click on the old rendering
    assert "can't acknowledge" in slack.last_private("victor").lower()
    assert slack.api.count("chat.update") == updates

    await slack.click("victor", after, "Resolve")
    assert slack.opened_view()["title"]["text"].startswith("Resolve")
