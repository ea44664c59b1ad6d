"""Decisions and action items through the real Teams front end (Bot Framework activities, connector
stand-in): a decision posted with its Dispute button and disputed by the client in the dialog; an action item
for an @mentioned client member, done from the owner's own view of the card; a standup blocker's third button,
"Action for the client", opening the action form with the client side as owners."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.features.standups.support import goto


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def mention(name: str) -> dict:
    return {
        "type": "mention",
        "text": f"<at>{name.capitalize()}</at>",
        "mentioned": {"id": f"29:{name}", "name": name.capitalize()},
    }


def posted(teams, general, contains: str):
    calls = [
        c
        for c in [*teams.connector.sent(general.id), *teams.connector.updates(general.id)]
        if contains in c.text_dump()
    ]
    assert calls, teams.connector.texts(general.id)
    return calls[-1]


async def seat(teams):
    asha = teams.user("asha", tz="Europe/London")
    carol = teams.user("carol", tz="America/New_York")
    victor = teams.user("victor", tz="Asia/Kolkata")
    dev = teams.user("dev", tz="Asia/Kathmandu")
    general = teams.channel("general")
    await teams.say(asha, "cadence setup ACME Acme web shop as client_sponsor", where=general)
    for user, role, seater in ((carol, "client_pm", asha), (victor, "vendor_pm", asha), (dev, "developer", victor)):
        await teams.say(user, "cadence whoami", where=general)
        await teams.say(user, "cadence whoami")  # the 1:1 chat with the bot exists
        await teams.say(
            seater, f"cadence role <at>{user.name}</at> {role}", where=general, entities=[mention(user.key)]
        )
    await teams.drain()
    return asha, carol, victor, dev, general


async def test_decision_dispute_and_action_on_teams(teams):
    _asha, carol, victor, dev, general = await seat(teams)
    r = await teams.say(victor, "decision We ship the beta without SSO", where=general)
    assert "Recorded ACME-DEC-1" in r.text, r.text
    await teams.drain()
    decision = posted(teams, general, "Decision ACME-DEC-1")
    r = await teams.click(carol, decision, "Dispute", where=general, message_id=teams._message_id(decision))
    assert r.status == 200
    form = [c for c in r.replies if "Why is it disputed?" in c.text_dump()][-1]
    r = await teams.click(carol, form, "Dispute", inputs={"reason": "SSO is a launch blocker for us"})
    assert r.status == 200
    await teams.drain()
    assert "SSO is a launch blocker for us" in posted(teams, general, "Decision ACME-DEC-1").text_dump()
    assert posted(teams, general, "(client side) disputed ACME-DEC-1")

    r = await teams.say(
        victor, "action <at>Carol</at> send the sandbox keys by fri", where=general, entities=[mention("carol")]
    )
    assert "Saved ACME-A-1" in r.text and "read as Fri 8 Jan 2027 in your zone, Asia/Kolkata" in r.text, r.text
    await teams.drain()
    action = posted(teams, general, "Action ACME-A-1")
    shown = await teams.view(carol, action)
    r = await teams.click(dev, shown, "Done", where=general, message_id=teams._message_id(action))
    assert "Only ACME-A-1's owner" in r.text, r.text
    r = await teams.click(carol, shown, "Done", where=general, message_id=teams._message_id(action))
    assert "Marked ACME-A-1 done" in r.text, r.text


async def test_blocker_becomes_an_action_for_the_client_on_teams(teams):
    asha, _carol, victor, _dev, general = await seat(teams)
    await goto(teams.core, at(2027, 1, 5, 4, 0))  # Tuesday 09:30 in Kolkata
    await teams.say(victor, "Sprint planning")
    await teams.say(victor, "Estimates")
    r = await teams.say(victor, "Waiting for sandbox keys from Acme")
    assert "recorded" in r.text
    await goto(teams.core, at(2027, 1, 5, 10, 0))  # the digest, 10:00 London
    digest = posted(teams, general, "Standup digest")
    r = await teams.click(asha, digest, "Action for the client")
    assert r.status == 200
    await teams.drain()
    forms = [c for c in r.replies if c.cards()] or [c for c in teams.connector.sent(general.id) if c.cards()]
    form = forms[-1]
    dialog = await teams.open_dialog(asha, form.cards()[0], where=general)
    assert "Waiting for sandbox keys from Acme" in str(dialog)
    owner = next(c for c in _inputs(dialog) if c.get("id") == "owner")
    assert sorted(ch["title"] for ch in owner["choices"]) == ["Asha", "Carol"]  # the client side only
    carol_id = next(ch["value"] for ch in owner["choices"] if ch["title"] == "Carol")
    r = await teams.click(
        asha,
        form,
        "Create",
        inputs={"text": "Send the sandbox keys", "owner": carol_id, "due": "2027-01-08"},
        where=general,
    )
    assert r.status == 200
    await teams.drain()
    assert "Send the sandbox keys" in posted(teams, general, "Action ACME-A-1").text_dump()


def _inputs(card: dict) -> list[dict]:
    out = []

    def walk(node):
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Input."):
                out.append(node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(card)
    return out
