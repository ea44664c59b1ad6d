"""A milestone through the real Teams front end (Bot Framework activities, connector stand-in): added and
submitted by the vendor PM, rejected with reasons in the dialog by the client sponsor, rectified, resubmitted
and accepted from the Adaptive Card."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.frontends.teams.test_user_views import actions


def _mention(name: str) -> list[dict]:
    return [
        {
            "type": "mention",
            "text": f"<at>{name.capitalize()}</at>",
            "mentioned": {"id": f"29:{name}", "name": name.capitalize()},
        }
    ]


def _card(teams, general, contains: str):
    calls = [
        c
        for c in [*teams.connector.sent(general.id), *teams.connector.updates(general.id)]
        if contains in c.text_dump()
    ]
    assert calls, teams.connector.texts(general.id)
    return calls[-1]


async def test_milestone_on_teams(teams):
    asha, victor, dev = (
        teams.user("asha", tz="Europe/London"),
        teams.user("victor", tz="Asia/Kolkata"),
        teams.user("dev", tz="Asia/Kathmandu"),
    )
    general = teams.channel("general")
    await teams.say(asha, "cadence setup ACME Acme web shop as client_sponsor", where=general)
    for user in (victor, dev):
        await teams.say(user, "cadence whoami", where=general)
    for user, role, seater in ((victor, "vendor_pm", asha), (dev, "developer", victor)):
        await teams.say(seater, f"cadence role <at>{user.name}</at> {role}", where=general, entities=_mention(user.key))
    await teams.drain()

    r = await teams.say(victor, "milestone add Beta release due march 1", where=general)
    assert "Added ACME-M-1" in r.text, r.text
    r = await teams.say(victor, "milestone submit ACME-M-1 | Beta on https://staging.example.com", where=general)
    assert "round 1" in r.text, r.text
    await teams.drain()
    acceptance = _card(teams, general, "Acceptance: ACME-M-1")

    # The decision buttons are in the approvers' own view of the card (user-specific views).
    card_id = teams._message_id(acceptance)
    shown = await teams.view(asha, acceptance)
    r = await teams.click(dev, shown, "Accept", where=general, message_id=card_id)
    assert "Only the client sponsor or client PM" in r.text, r.text
    r = await teams.click(asha, shown, "Reject", where=general, message_id=card_id)
    assert r.status == 200
    form = [c for c in r.replies if "Reasons, one per line" in c.text_dump()][-1]
    r = await teams.click(asha, form, "Reject", inputs={"reasons": "Search is slow\nNo export"})
    assert r.status == 200
    await teams.drain()
    items = _card(teams, general, "Rectification: ACME-M-1")
    shown = await teams.view(dev, items)
    r = await teams.click(dev, shown, "Done: R1", where=general, message_id=teams._message_id(items))
    assert "Marked ACME-M-1-R1 done" in r.text, r.text
    r = await teams.say(dev, "milestone done ACME-M-1-R2", where=general)
    assert "Every item of round 1 is done" in r.text

    await teams.say(victor, "milestone submit ACME-M-1 | Beta 2 with export", where=general)
    await teams.drain()
    second = _card(teams, general, "(round 2)")
    r = await teams.click(
        asha, await teams.view(asha, second), "Accept", where=general, message_id=teams._message_id(second)
    )
    assert r.status == 200 and "You accepted ACME-M-1 (round 2)" in r.text, r.text


async def test_out_of_warranty_defect_converted_to_a_change_request_on_teams(teams):
    asha, carol, victor = (
        teams.user("asha", tz="Europe/London"),
        teams.user("carol", tz="America/New_York"),
        teams.user("victor", tz="Asia/Kolkata"),
    )
    general = teams.channel("general")
    await teams.say(asha, "cadence setup ACME Acme web shop as client_sponsor", where=general)
    for user in (carol, victor):
        await teams.say(user, "cadence whoami", where=general)
    for user, role in ((carol, "client_pm"), (victor, "vendor_pm")):
        await teams.say(asha, f"cadence role <at>{user.name}</at> {role}", where=general, entities=_mention(user.key))
    await teams.say(victor, "milestone add Go-live due march 1 final", where=general)
    await teams.say(victor, "milestone submit ACME-M-1 | Release 1.0", where=general)
    await teams.drain()
    acceptance = _card(teams, general, "Acceptance: ACME-M-1")
    r = await teams.click(
        asha, await teams.view(asha, acceptance), "Accept", where=general, message_id=teams._message_id(acceptance)
    )
    assert "project acceptance" in r.text, r.text

    # Seven months on, the six-month warranty has ended: the defect's card offers the conversion, in the
    # client admins' own view of it (user-specific views) and to nobody else.
    teams.core.clock.set(teams.core.clock.now() + timedelta(days=214))
    r = await teams.say(carol, "defect s3 Export is slow", where=general)
    await teams.drain()
    defect = _card(teams, general, "Out of warranty")
    card_id = teams._message_id(defect)
    theirs = await teams.view(victor, defect)
    assert "Convert to change request" not in actions(theirs) and "Convert to change request: for" in json.dumps(theirs)
    assert "Convert to change request" in actions(await teams.view(carol, defect))
    r = await teams.click(
        victor, await teams.view(carol, defect), "Convert to change request", where=general, message_id=card_id
    )
    assert "Only the client sponsor or client PM" in r.text, r.text

    # The client PM converts it: the intake form opens in a dialog, pre-filled from the defect.
    r = await teams.click(
        carol, await teams.view(carol, defect), "Convert to change request", where=general, message_id=card_id
    )
    assert r.status == 200, r.text
    launcher = [c for c in r.replies if "New change request" in c.text_dump()][-1]
    dialog = await teams.open_dialog(carol, launcher.cards()[0], where=general)
    assert "Converted from ACME-D-1" in json.dumps(dialog)
    r = await teams.click(
        carol,
        launcher,
        "Submit",
        inputs={
            "title": "Faster export",
            "description": "Converted from ACME-D-1",
            "business_reason": "Month-end close",
            "priority": "medium",
        },
        where=general,
    )
    assert r.status == 200 and "ACME-CR-1" in json.dumps(r.body), r.body
    await teams.drain()
    assert "Converted from" in _card(teams, general, "Faster export").text_dump()
    assert "Converted to change request ACME-CR-1" in _card(teams, general, "Export is slow").text_dump()
