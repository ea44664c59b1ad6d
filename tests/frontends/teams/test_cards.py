"""Teams front end: Adaptive Card forms and buttons, through Action.Execute invokes and Action.Submit messages.

Uses the test-only probe feature (tests/frontends/probe_feature.py): a form with every input kind and an approval
card that only a client sponsor may approve."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import OutboxMessage
from tests.frontends.teams.harness import card_text, dialog_card, find_action


async def _engagement(teams):
    """ACME homed in #general: Asha (client sponsor, set it up) and Dev (vendor lead — the vendor's first admin,
    whom the client side may seat — mentioned by handle)."""
    asha, dev = teams.user("asha", tz="Europe/London"), teams.user("dev", tz="Asia/Kolkata")
    general = teams.channel("general")
    await teams.say(asha, "cadence setup ACME Acme web shop", where=general)
    await teams.say(dev, "cadence whoami", where=general)
    r = await teams.say(
        asha,
        "cadence role <at>Asha</at> client_sponsor",
        where=general,
        entities=[{"type": "mention", "text": "<at>Asha</at>", "mentioned": {"id": "29:asha", "name": "Asha"}}],
    )
    assert "client sponsor" in (await _drained_text(teams, general)), r.text
    r = await teams.say(
        asha,
        "cadence role <at>Dev</at> vendor_lead",
        where=general,
        entities=[{"type": "mention", "text": "<at>Dev</at>", "mentioned": {"id": "29:dev", "name": "Dev"}}],
    )
    assert "vendor lead" in (await _drained_text(teams, general)), r.text
    return asha, dev, general


async def _drained_text(teams, conv) -> str:
    await teams.drain()
    return "\n".join(teams.connector.texts(conv.id))


async def _filed_card(teams, asha, general):
    """Open the probe form, submit it; returns the public PROBE card posted in the channel."""
    r = await teams.say(asha, "cadence zzprobe", where=general)
    form_call = r.replies[-1]
    form = form_call.cards()[0]
    r = await teams.click(
        asha,
        form_call,
        "File it",
        inputs={
            "title": "Add SSO",
            "priority": "high",
            "details": "SAML please",
            "at": "2027-01-06",
            "at__time": "15:30",
        },
    )
    assert r.status == 200
    await teams.drain()
    card_call = [c for c in teams.connector.sent(general.id) if "PROBE-1: Add SSO" in c.text_dump()][-1]
    return form, card_call


async def test_form_renders_every_input_kind(teams):
    asha, _, general = await _engagement(teams)
    r = await teams.say(asha, "cadence zzprobe", where=general)
    # In a channel the form opens in a dialog for the presser (its submit is an Action.Submit there).
    card = await teams.open_dialog(asha, r.replies[-1].cards()[0], where=general)
    assert find_action(card, "File it")["type"] == "Action.Submit"
    r = await teams.say(asha, "cadence zzprobe")  # in the personal chat it is a card with inputs
    card = r.replies[-1].cards()[0]
    types = {}

    def walk(v):
        if isinstance(v, dict):
            if str(v.get("type", "")).startswith("Input."):
                types[v["id"]] = v
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(card)
    assert types["title"]["type"] == "Input.Text" and types["title"]["maxLength"] == 80
    assert types["title"]["isRequired"] is True and types["title"]["errorMessage"]
    assert types["details"]["isMultiline"] is True and types["details"]["isRequired"] is False
    assert types["priority"]["type"] == "Input.ChoiceSet" and types["priority"]["value"] == "low"
    assert types["wanted"]["type"] == "Input.Date"
    assert types["hours"]["type"] == "Input.Number"
    assert types["at"]["type"] == "Input.Date" and types["at__time"]["type"] == "Input.Time"
    submit = find_action(card, "File it")
    assert submit["type"] == "Action.Execute" and submit["fallback"]["type"] == "Action.Submit"


async def test_form_errors_show_the_form_again_and_nothing_is_saved(teams, teams_probe):
    asha, _, general = await _engagement(teams)
    r = await teams.say(asha, "cadence zzprobe", where=general)
    form_call = r.replies[-1]
    r = await teams.click(asha, form_call, "File it", inputs={"title": "bad", "priority": "low", "hours": "lots"})
    assert r.status == 200
    card = dialog_card(r)  # the dialog stays open with the form
    text = card_text(card)
    assert "cannot be just" in text and "Effort must be a number" in text
    # what was typed is kept
    assert '"bad"' in str(card).replace("'", '"')
    assert teams_probe.items == {}


async def test_form_submission_via_execute_files_and_shows_a_receipt(teams, teams_probe):
    asha, _, general = await _engagement(teams)
    _, card_call = await _filed_card(teams, asha, general)
    sub = teams_probe.submissions[-1]
    assert sub["values"]["title"] == "Add SSO"
    assert sub["values"]["at"] == "2027-01-06 15:30"
    assert sub["state"] == {"origin": "probe", "n": 7}
    card = card_call.cards()[0]
    assert find_action(card, "Approve")["verb"] == "zzprobe.approve"
    # the requester is mentioned with a Teams mention entity
    entities = card["msteams"]["entities"]
    assert entities[0]["mentioned"]["id"] == "aad-asha" and "<at>Asha</at>" in card_text(card)


async def test_form_submission_via_action_submit(teams, teams_probe):
    asha, _, _ = await _engagement(teams)
    r = await teams.say(asha, "cadence zzprobe")  # a form card: in the personal chat
    form_call = r.replies[-1]
    form_id = teams._message_id(form_call)
    r = await teams.click(asha, form_call, "File it", via="submit", inputs={"title": "Via submit", "priority": "low"})
    assert r.status == 200
    assert teams_probe.submissions[-1]["values"]["title"] == "Via submit"
    # the form was replaced in place by a receipt; the private answer is a reply
    assert r.updates and r.updates[0].activity_id == form_id
    assert "Submitted by Asha" in r.updates[0].text_dump()
    assert any("Filed PROBE-1" in c.text_dump() for c in r.replies)


async def test_approve_allowed_updates_card_in_place(teams, teams_probe):
    asha, _, general = await _engagement(teams)
    _, card_call = await _filed_card(teams, asha, general)
    card_id = teams._message_id(card_call)
    r = await teams.click(asha, card_call, "Approve")
    assert r.status == 200
    new_card = r.card()  # the invoke response: the new card for the clicker
    assert "PROBE-1: approved" in card_text(new_card)
    assert "{{DATE(" in card_text(new_card) and "{{TIME(" in card_text(new_card)
    assert r.updates and r.updates[0].activity_id == card_id  # everyone else sees it too
    assert teams.connector.messages[general.id][card_id]["attachments"][0]["content"] == new_card
    assert teams_probe.items[1]["decided_by"] == "Asha"


async def test_approve_not_allowed_explains_and_changes_nothing(teams, teams_probe):
    asha, dev, general = await _engagement(teams)
    _, card_call = await _filed_card(teams, asha, general)
    r = await teams.click(dev, card_call, "Approve")
    assert r.status == 200
    assert r.body["type"] == "application/vnd.microsoft.activity.message"
    assert "Only a client sponsor" in r.body["value"]
    assert r.updates == []
    assert teams_probe.items[1]["decided_by"] is None
    # The refusal is the presser's alone: shown in the pop-up, not posted in the channel.
    await teams.drain()
    assert not any("Only a client sponsor" in c.text_dump() for c in teams.connector.sent(general.id))


async def test_double_click_is_told_it_was_already_decided(teams, teams_probe):
    asha, _, general = await _engagement(teams)
    _, card_call = await _filed_card(teams, asha, general)
    first = await teams.click(asha, card_call, "Approve")
    second = await teams.click(asha, card_call, "Approve")
    assert first.status == second.status == 200
    assert "already approved by Asha" in second.text
    assert second.updates == []
    assert teams_probe.items[1]["decided_by"] == "Asha"


async def test_action_submit_click_updates_card_with_update_activity(teams, teams_probe):
    asha, _, general = await _engagement(teams)
    _, card_call = await _filed_card(teams, asha, general)
    card_id = teams._message_id(card_call)
    r = await teams.click(asha, card_call, "Approve", via="submit")
    assert r.status == 200 and r.body is None
    assert r.updates and r.updates[0].activity_id == card_id
    assert "PROBE-1: approved" in r.updates[0].text_dump()
    assert any("You approved PROBE-1" in c.text_dump() for c in r.replies)


async def test_user_text_cannot_inject_links_mentions_or_time_functions(teams, teams_probe):
    asha, _, general = await _engagement(teams)
    r = await teams.say(asha, "cadence zzprobe", where=general)
    evil = "[click](https://evil.example) <at>Everyone</at> {{DATE(2030-01-01T00:00:00Z)}}"
    await teams.click(asha, r.replies[-1], "File it", inputs={"title": evil, "priority": "low"})
    await teams.drain()
    card_call = [c for c in teams.connector.sent(general.id) if "Everyone" in c.text_dump()][-1]
    text = card_text(card_call.cards()[0])
    assert "[click](" not in text and "\\[click\\]" in text
    assert "<at>Everyone</at>" not in text
    assert "{{DATE(2030" not in text
    assert all(e["mentioned"]["id"] != "Everyone" for e in card_call.cards()[0]["msteams"].get("entities", []))


async def test_unknown_button_is_refused_politely(teams):
    asha = teams.user("asha")
    card = {
        "type": "AdaptiveCard",
        "actions": [
            {
                "type": "Action.Execute",
                "title": "Old",
                "verb": "gone.action",
                "data": {"_cadence": {"t": "action", "id": "gone.action"}},
            }
        ],
    }
    r = await teams.click(asha, card, "Old", where=teams.personal(asha))
    assert r.status == 200
    assert "no longer in use" in r.text


async def test_public_cards_go_through_the_outbox(teams):
    asha, _, general = await _engagement(teams)
    await _filed_card(teams, asha, general)
    async with teams.core.session_factory() as s:
        rows = list(await s.scalars(select(OutboxMessage).where(OutboxMessage.platform == "teams")))
    assert rows and all(r.status == "sent" for r in rows)
