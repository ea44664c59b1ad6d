"""Defects through the real Teams front end (Bot Framework activities against the connector stand-in):
quick filing by text after the @mention, the Adaptive Card with local-time deadlines and legal buttons,
a refused and an allowed Action.Execute, the card updated in place, the filing form with a refused
link, and an S1 page sent proactively to the vendor PM's 1:1 chat."""

from __future__ import annotations

from tests.frontends.teams.harness import card_text


def _mention(name: str) -> list[dict]:
    return [
        {
            "type": "mention",
            "text": f"<at>{name.capitalize()}</at>",
            "mentioned": {"id": f"29:{name}", "name": name.capitalize()},
        }
    ]


async def _engagement(teams):
    asha, dev, victor = (
        teams.user("asha", tz="Europe/London"),
        teams.user("dev", tz="Asia/Kolkata"),
        teams.user("victor", tz="Asia/Kolkata"),
    )
    general = teams.channel("general")
    await teams.say(asha, "cadence setup ACME Acme web shop as client_sponsor", where=general)
    await teams.added(victor)  # victor installed the bot personally: proactive DMs can reach him
    for user in (dev, victor):
        await teams.say(user, "cadence whoami", where=general)
    # Asha seats the vendor's first admin, who seats his developer.
    for user, role, seater in ((victor, "vendor_pm", asha), (dev, "developer", victor)):
        await teams.say(seater, f"cadence role <at>{user.name}</at> {role}", where=general, entities=_mention(user.key))
    await teams.drain()
    return asha, dev, victor, general


def _defect_card(teams, general, ref: str = "ACME-D-1"):
    return [c for c in teams.connector.sent(general.id) if f"{ref} · " in c.text_dump()][-1]


async def test_filing_card_clicks_and_page(teams):
    asha, dev, victor, general = await _engagement(teams)
    r = await teams.say(asha, "defect p1 Checkout returns 500", where=general)
    assert "Filed ACME-D-1 (S1)" in r.text
    await teams.drain()
    call = _defect_card(teams, general)
    card_id = teams._message_id(call)
    text = call.text_dump()
    assert "{{DATE(" in text and "{{TIME(" in text  # each reader sees their own local time
    assert "Acknowledge" in text and "Change severity" in text and "Resolve" not in text
    # The S1 page reached the vendor PM's personal chat.
    assert any("S1 filed: ACME-D-1" in t for t in teams.connector.texts(teams.personal(victor).id))

    r = await teams.click(asha, call, "Acknowledge", message_id=card_id)
    assert r.status == 200 and "Only the vendor team" in r.text
    await teams.drain()
    assert teams.connector.updates(general.id) == []

    r = await teams.click(dev, call, "Acknowledge", message_id=card_id)
    assert r.status == 200 and "Acknowledged ACME-D-1" in r.text
    await teams.drain()
    updates = teams.connector.updates(general.id)
    assert updates and updates[-1].activity_id == card_id
    assert "Acknowledged" in updates[-1].text_dump() and "Start work" in updates[-1].text_dump()

    r = await teams.click(victor, call, "Acknowledge", message_id=card_id)
    assert "already been acknowledged" in r.text


async def test_filing_form_refuses_a_bad_link(teams):
    asha, _, _, general = await _engagement(teams)
    r = await teams.say(asha, "defect new", where=general)
    form_call = r.replies[-1]
    assert "Steps to reproduce" in card_text(form_call.cards()[0])
    r = await teams.click(
        asha, form_call, "File", inputs={"title": "Export slow", "severity": "s3", "attachment": "javascript:alert(1)"}
    )
    assert r.status == 200 and "http:// or https://" in str(r.body) + r.text
    await teams.drain()
    assert not [c for c in teams.connector.sent(general.id) if "ACME-D-1 · " in c.text_dump()]
    r = await teams.click(
        asha,
        form_call,
        "File",
        inputs={"title": "Export slow", "severity": "s3", "attachment": "https://files.example/har"},
    )
    assert r.status == 200
    await teams.drain()
    assert "Export slow" in _defect_card(teams, general).text_dump()
