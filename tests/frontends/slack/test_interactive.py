"""Modals and buttons: a form opened as a modal, refused per field, then accepted; a card's buttons
clicked by someone allowed, someone not allowed, and twice."""

from __future__ import annotations

import json

from tests.frontends.slack.harness import HOME


async def setup_engagement(slack):
    await slack.command("alice", "/cadence setup ACME Acme portal")
    for who in ("carol", "victor"):
        await slack.command(who, "/cadence whoami")
    await slack.command("alice", f"/cadence role {slack.mention('carol')} client_sponsor")
    await slack.command("alice", f"/cadence role {slack.mention('victor')} vendor_pm")


async def file_probe(slack, title="Add SSO"):
    await slack.command("victor", "/cadence zzprobe")
    view = slack.opened_view()
    r = await slack.submit(
        "victor",
        view,
        {
            "title": title,
            "details": "SAML please",
            "priority": "high",
            "wanted": "2027-02-01",
            "hours": "12.5",
            "at": "1800000000",
        },
    )
    return r


async def test_command_opens_a_modal_with_every_input_kind(slack, probe):
    await slack.command("victor", "/cadence zzprobe")
    call = slack.api.last("views.open")
    assert call.body["trigger_id"].startswith("trig.cmd.")
    view = call.view()
    assert view["type"] == "modal" and view["title"]["text"] == "Probe request"
    assert view["submit"]["text"] == "File it"
    kinds = {b["block_id"]: b["element"]["type"] for b in view["blocks"] if b["type"] == "input"}
    assert kinds == {
        "title": "plain_text_input",
        "details": "plain_text_input",
        "priority": "static_select",
        "wanted": "datepicker",
        "hours": "number_input",
        "at": "datetimepicker",
    }
    details = next(b for b in view["blocks"] if b.get("block_id") == "details")
    assert details["optional"] is True and details["element"]["multiline"] is True
    meta = json.loads(view["private_metadata"])
    assert meta["f"] == "zzprobe.form" and meta["s"] == {"origin": "probe", "n": 7} and meta["c"] == HOME


async def test_modal_submit_with_errors_then_valid(slack, probe):
    await setup_engagement(slack)
    await slack.command("victor", "/cadence zzprobe")
    view = slack.opened_view()
    r = await slack.submit("victor", view, {"title": "bad", "priority": "low", "hours": "lots"})
    assert r.status == 200
    assert r.json() == {
        "response_action": "errors",
        "errors": {"title": "A title cannot be just “bad”.", "hours": "Effort must be a number of hours."},
    }
    assert probe.submissions == [] and slack.posts()[-1]["text"].startswith("Carol") is False
    posts_before = len(slack.posts())

    r = await slack.submit(
        "victor",
        view,
        {
            "title": "Add SSO",
            "details": "SAML <please>",
            "priority": "high",
            "wanted": "2027-02-01",
            "hours": "12.5",
            "at": "1800000000",
        },
    )
    assert r.status == 200 and r.text == ""  # plain ack: the modal closes
    sub = probe.submissions[-1]
    assert sub["values"] == {
        "title": "Add SSO",
        "details": "SAML <please>",
        "priority": "high",
        "wanted": "2027-02-01",
        "hours": "12.5",
        "at": "2027-01-15T08:00:00+00:00",
    }
    assert sub["state"] == {"origin": "probe", "n": 7} and sub["place"].channel_id == HOME
    assert len(slack.posts()) == posts_before + 1
    card = slack.posts()[-1]
    assert "PROBE-1: Add SSO" in json.dumps(card["blocks"])
    assert "SAML &lt;please&gt;" in json.dumps(card["blocks"])
    assert "<@UVICTOR>" in json.dumps(card["blocks"])  # the person token became a mention
    assert "Filed PROBE-1." in slack.last_private("victor")


async def test_button_allowed_not_allowed_and_double_click(slack, probe):
    await setup_engagement(slack)
    await file_probe(slack)
    card = slack.posts()[-1]
    _, approve = slack.button(card, "Approve")
    _, reject = slack.button(card, "Reject")
    assert approve["action_id"] != reject["action_id"] and approve["value"] == "1"

    # Not allowed: an ephemeral explanation, the message stays as it was.
    r = await slack.click("victor", card, "Approve")
    assert r.status == 200 and slack.last_ack_seconds < 3
    assert "Only a client sponsor" in slack.last_private("victor")
    assert not slack.posts()[-1].get("edited") and slack.api.count("chat.update") == 0

    # Allowed: the message is updated in place, showing who acted.
    await slack.click("carol", card, "Approve")
    update = slack.api.last("chat.update")
    assert update.body["channel"] == HOME and update.body["ts"] == card["ts"]
    updated = slack.posts()[-1]
    assert updated["edited"] and "approved" in updated["text"] and "<@UCAROL>" in json.dumps(updated["blocks"])
    assert "<!date^" in json.dumps(updated["blocks"])
    assert "You approved PROBE-1." in slack.last_private("carol")

    # Double click (from the old rendering): told it was already decided; nothing changes.
    await slack.click("carol", card, "Approve")
    assert "already approved by" in slack.last_private("carol")
    assert slack.api.count("chat.update") == 1


async def test_update_falls_back_to_response_url_when_chat_update_fails(slack, probe):
    await setup_engagement(slack)
    await file_probe(slack)
    card = slack.posts()[-1]
    slack.api.fail_next(1, error="cant_update_message", methods="chat.update")
    await slack.click("carol", card, "Approve")
    replaced = [c for c in slack.api.calls_to("respond") if c.body.get("replace_original") in (True, "true")]
    assert replaced and "approved" in replaced[-1].text_dump()


async def test_ack_comes_before_slow_work(slack, probe, monkeypatch):
    """The HTTP answer (ack) does not wait for the core."""
    import asyncio

    real = slack.core.handle_command

    async def slow(*a, **kw):
        await asyncio.sleep(3.5)
        return await real(*a, **kw)

    monkeypatch.setattr(slack.core, "handle_command", slow)
    r = await slack.command("alice", "/cadence help", settle=False)
    assert r.status == 200 and slack.last_ack_seconds < 3
    await slack.settle()
    assert "/cadence" in slack.last_private("alice")


async def test_an_unexpected_failure_is_told_without_a_stack_trace(slack, monkeypatch):
    async def boom(*a, **kw):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(slack.core, "handle_command", boom)
    r = await slack.command("alice", "/cadence help")
    assert r.status == 200
    said = slack.last_private("alice")
    assert "Something went wrong" in said and "database on fire" not in said


async def test_an_unexpected_failure_in_a_form_is_shown_in_the_modal(slack, probe, monkeypatch):
    await slack.command("victor", "/cadence zzprobe")

    async def boom(*a, **kw):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(slack.core, "handle_form", boom)
    r = await slack.submit("victor", slack.opened_view(), {"title": "x", "priority": "low"})
    assert r.json()["response_action"] == "errors"
    assert "Something went wrong" in r.json()["errors"]["title"]
