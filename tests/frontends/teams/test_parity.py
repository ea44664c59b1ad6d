"""Teams on a par with Slack (issue 24), through the real app and the Bot Connector stand-in: a refused form
stays a form, an invoke delivered twice is applied once, one deleted card never silences the channel, work
that committed is never reported as failed, and an invoke is answered without waiting for the connector."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import func, select

from storage.models import ChannelBinding
from storage.models.defects import Defect
from tests.frontends.teams.harness import card_text, dialog_card, is_launcher


def _mention(key: str) -> list[dict]:
    name = key.capitalize()
    return [{"type": "mention", "text": f"<at>{name}</at>", "mentioned": {"id": f"29:{key}", "name": name}}]


async def _engagement(teams):
    """ACME homed in #general: Asha client sponsor, Dev developer, Victor vendor PM (1:1 chat installed)."""
    asha, dev, victor = (
        teams.user("asha", tz="Europe/London"),
        teams.user("dev", tz="Asia/Kolkata"),
        teams.user("victor", tz="America/New_York"),
    )
    general = teams.channel("general")
    await teams.say(asha, "cadence setup ACME Acme web shop as client_sponsor", where=general)
    for user in (asha, dev, victor):
        await teams.added(user)  # each installed the app personally: Cadence knows their 1:1 chat
        await teams.say(user, "cadence whoami", where=general)
    # The client sponsor seats the vendor's first admin; from then on the vendor seats its own people.
    for seater, user, role in ((asha, victor, "vendor_pm"), (victor, dev, "developer")):
        await teams.say(seater, f"cadence role <at>{user.name}</at> {role}", where=general, entities=_mention(user.key))
    await teams.drain()
    return asha, dev, victor, general


async def _probe_form(teams, user, general):
    r = await teams.say(user, "cadence zzprobe", where=general)
    form_call = r.replies[-1]
    return form_call, teams._message_id(form_call)


# -- 1. a refused submission stays a form; 6. forms from a channel open as dialogs -------------------------------
async def test_a_form_from_a_channel_opens_in_a_dialog_and_a_refusal_keeps_it_there(teams, teams_probe) -> None:
    asha, dev, _, general = await _engagement(teams)
    r = await teams.say(asha, "cadence zzprobe", where=general)
    launcher = r.replies[-1]
    assert is_launcher(launcher.cards()[0]) and "Input.Text" not in json.dumps(launcher.cards()[0])
    posted_before = len(teams.connector.sent(general.id))

    # Dev opens the form (a dialog only he sees) and is refused: the dialog keeps the form and says why.
    r = await teams.click(dev, launcher, "File it", inputs={"title": "refuse me", "priority": "low"})
    assert r.status == 200
    form = dialog_card(r)
    assert "You may not file this probe" in card_text(form) and "Input.Text" in json.dumps(form)
    assert "refuse me" in json.dumps(form)  # what he typed is kept
    assert r.updates == [] and teams_probe.items == {}
    await teams.drain()
    assert not any("You may not file" in c.text_dump() for c in teams.connector.sent(general.id)[posted_before:])

    # Asha uses the very same launcher: her dialog closes with a short message; the confirmation is hers.
    r = await teams.click(asha, launcher, "File it", inputs={"title": "Add SSO", "priority": "high"})
    assert r.body["task"]["type"] == "message" and "Filed PROBE-1" in r.body["task"]["value"]
    assert len(teams_probe.items) == 1
    await teams.drain()
    assert any("PROBE-1: Add SSO" in t for t in teams.connector.texts(general.id))  # the public card


async def test_a_refused_form_card_stays_a_form(teams, teams_probe) -> None:
    """A form card (personal chat, or one posted before dialogs) is not replaced by a receipt on a refusal."""
    asha = teams.user("asha")
    r = await teams.say(asha, "cadence zzprobe")
    form_call = r.replies[-1]
    form_id = teams._message_id(form_call)
    form_before = teams.connector.messages[form_call.conversation_id][form_id]
    for via in ("execute", "submit"):
        r = await teams.click(asha, form_call, "File it", via=via, inputs={"title": "refuse me", "priority": "low"})
        assert r.status == 200 and r.updates == []
        assert teams.connector.messages[form_call.conversation_id][form_id] is form_before
    assert "You may not file this probe" in r.text or "You may not file" in str(r.body)
    r = await teams.click(asha, form_call, "File it", inputs={"title": "Add SSO", "priority": "high"})
    assert "Submitted by Asha" in card_text(r.card()) and len(teams_probe.items) == 1


# -- 3. the same invoke twice is applied once ----------------------------------------------------------------
async def test_the_same_invoke_delivered_twice_is_applied_once_and_answered_alike(teams, teams_probe) -> None:
    asha = teams.user("asha")
    r = await teams.say(asha, "cadence zzprobe")
    activity = teams.click_activity(asha, r.replies[-1], "File it", inputs={"title": "Add SSO", "priority": "high"})
    first = await teams.post(activity)
    second = await teams.post(activity)  # Teams repeats an invoke it thinks was not answered
    assert first.status == second.status == 200
    assert second.body == first.body
    assert len(teams_probe.items) == 1 and len(teams_probe.submissions) == 1
    assert second.updates == [] and second.replies == []


async def test_a_defect_dialog_submitted_twice_files_one_defect(teams) -> None:
    asha, _, _, general = await _engagement(teams)
    r = await teams.say(asha, "defect new", where=general)
    launcher = r.replies[-1].cards()[0]
    activity = await teams.dialog_submit_activity(
        asha, launcher, "File", inputs={"title": "Export slow", "severity": "s3"}, where=general
    )
    first, second = await teams.post(activity), await teams.post(activity)
    assert first.status == second.status == 200 and second.body == first.body
    async with teams.core.session_factory() as s:
        assert await s.scalar(select(func.count()).select_from(Defect)) == 1


# -- 2. one missing message never silences the channel --------------------------------------------------------
async def test_a_deleted_card_is_posted_afresh_and_the_channel_keeps_working(teams) -> None:
    asha, dev, _, general = await _engagement(teams)
    await teams.say(asha, "defect s2 Checkout is slow", where=general)
    await teams.drain()
    card_call = [c for c in teams.connector.sent(general.id) if "ACME-D-1 · " in c.text_dump()][-1]
    card_id = teams._message_id(card_call)
    teams.connector.delete(general.id, card_id)  # someone deleted the card in Teams

    r = await teams.click(dev, card_call, "Acknowledge", message_id=card_id)
    assert r.status == 200 and "Acknowledged ACME-D-1" in r.text
    await teams.drain()
    refused = [c for c in teams.connector.updates(general.id, ok_only=False) if c.status == 404]
    assert refused and refused[-1].activity_id == card_id
    fresh = [c for c in teams.connector.sent(general.id) if "ACME-D-1 · " in c.text_dump()][-1]
    assert fresh is not card_call and "Start work" in fresh.text_dump()  # the new state, as a new card
    async with teams.core.session_factory() as s:
        binding = await s.scalar(select(ChannelBinding).where(ChannelBinding.channel_id == general.id))
        assert binding.failed_reason is None  # the channel binding stays healthy

    # Later changes edit the fresh card (its id replaced the old one); new posts still reach the channel.
    fresh_id = teams._message_id(fresh)
    await teams.click(dev, fresh, "Start work", message_id=fresh_id)
    await teams.drain()
    assert teams.connector.updates(general.id)[-1].activity_id == fresh_id
    await teams.say(asha, "defect s3 Typo on the invoice", where=general)
    await teams.drain()
    assert any("ACME-D-2 · " in t for t in teams.connector.texts(general.id))
    admins = teams.connector.texts(teams.personal(asha).id) + teams.connector.texts(teams.personal(victor_of(teams)).id)
    assert not any("can no longer post" in t for t in admins)


def victor_of(teams):
    return teams.user("victor", tz="America/New_York")


# -- 4. committed work is never reported as failed ------------------------------------------------------------
async def test_a_refused_reply_does_not_report_a_filed_defect_as_failed(teams) -> None:
    asha, _, _, general = await _engagement(teams)
    teams.connector.fail_next(1, status=403, kinds=("reply",))
    r = await teams.say(asha, "defect s2 Checkout is slow", where=general)
    assert r.status == 200
    assert not any("nothing was changed" in c.text_dump().lower() for c in r.calls)
    await teams.drain()
    mine = "\n".join(teams.connector.texts(teams.personal(asha).id))
    assert "Teams would not show the confirmation" in mine and "Filed ACME-D-1" in mine
    async with teams.core.session_factory() as s:
        assert await s.scalar(select(func.count()).select_from(Defect)) == 1


async def test_a_reply_too_large_for_teams_says_only_that_it_was_done(teams) -> None:
    asha, _, _, general = await _engagement(teams)
    teams.connector.fail_next(1, status=413, kinds=("reply",))
    r = await teams.say(asha, "defect s2 Checkout is slow", where=general)
    assert r.status == 200 and not any("went wrong" in c.text_dump() for c in r.calls)
    await teams.drain()
    mine = "\n".join(teams.connector.texts(teams.personal(asha).id))
    assert "Done. Teams would not show the confirmation" in mine and "HTTP 413" in mine


# -- 5. an invoke is answered when its work is committed --------------------------------------------------------
async def test_an_invoke_is_answered_without_waiting_for_a_slow_connector(teams, teams_probe) -> None:
    asha, _, _, general = await _engagement(teams)
    form_call, _ = await _probe_form(teams, asha, general)
    await teams.click(asha, form_call, "File it", inputs={"title": "Add SSO", "priority": "high"})
    await teams.drain()
    card_call = [c for c in teams.connector.sent(general.id) if "PROBE-1: Add SSO" in c.text_dump()][-1]
    card_id = teams._message_id(card_call)

    teams.connector.delay_next(10, seconds=2.0, kinds=("reply", "update", "send"))
    r = await teams.click(asha, card_call, "Approve", message_id=card_id)
    assert r.status == 200 and "PROBE-1: approved" in card_text(r.card())
    assert r.elapsed < 1.5, r.elapsed  # answered before the connector took the update
    assert r.updates and r.updates[0].activity_id == card_id  # the update still went, after the answer
    assert teams_probe.items[1]["decided_by"] == "Asha"


# -- 7. text and time ---------------------------------------------------------------------------------------
async def test_the_manifests_demo_example_schedules_what_it_says(teams) -> None:
    manifest = json.loads((Path(__file__).parents[3] / "manifest" / "teams" / "manifest.json").read_text())
    commands = manifest["bots"][0]["commandLists"][0]["commands"]
    described = next(c["description"] for c in commands if c["title"] == "demo")
    example = re.search(r'"(demo schedule [^"]+)"', described).group(1)
    asha, _, _, general = await _engagement(teams)
    r = await teams.say(asha, example, where=general)
    assert "personal chat" in r.text  # the draft to confirm is hers alone
    await teams.drain()
    draft = [c for c in teams.connector.sent(teams.personal(asha).id) if "Schedule this demo?" in c.text_dump()][-1]
    texts = [b["text"] for b in _blocks(draft.cards()[0])]
    assert texts[texts.index("**Title**") + 1] == "Sprint 3", texts
    assert "Sprint" not in texts[texts.index("**When**") + 1] and "15:00" in texts[texts.index("**When**") + 1]


async def test_multiline_text_is_separate_blocks_and_hints_read_as_teams_users_type(teams) -> None:
    asha = teams.user("asha")
    r = await teams.say(asha, "defect help")
    card = r.replies[-1].cards()[0]
    texts = [b["text"] for b in _blocks(card) if b.get("type") == "TextBlock"]
    assert texts and not any("\n" in t for t in texts)  # Teams runs single newlines together
    shown = card_text(card)
    assert "`" not in shown and "/defect" not in shown


def _blocks(value) -> list[dict]:
    return _all(value, "TextBlock")


def _all(value, kind: str) -> list[dict]:
    out: list[dict] = []
    if isinstance(value, dict):
        if value.get("type") == kind:
            out.append(value)
        for v in value.values():
            out.extend(_all(v, kind))
    elif isinstance(value, list):
        for v in value:
            out.extend(_all(v, kind))
    return out


async def test_a_pop_up_and_a_notification_preview_show_the_readers_own_time(teams, teams_probe) -> None:
    asha, _, _, general = await _engagement(teams)
    form_call, _ = await _probe_form(teams, asha, general)
    await teams.click(asha, form_call, "File it", inputs={"title": "Add SSO", "priority": "high"})
    await teams.drain()
    card_call = [c for c in teams.connector.sent(general.id) if "PROBE-1: Add SSO" in c.text_dump()][-1]
    await teams.click(asha, card_call, "Approve")
    teams.core.clock.advance(timedelta(hours=1))
    r = await teams.click(asha, card_call, "Approve")  # "already approved by Asha (<when>)"
    assert r.body["type"] == "application/vnd.microsoft.activity.message"
    pop_up = r.body["value"]
    iso = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d|\+00:00")
    assert "already approved by Asha" in pop_up and "(Europe/London)" in pop_up and not iso.search(pop_up)
    await teams.drain()  # the same answer reaches her 1:1 chat; its notification preview is in her time too
    note = [c for c in teams.connector.sent(teams.personal(asha).id) if "already approved" in c.text_dump()][-1]
    summary = note.body.get("summary") or ""
    assert "(Europe/London)" in summary and not iso.search(summary)


# -- 8. files and a home -----------------------------------------------------------------------------------------
async def test_the_demo_invite_reaches_teams_as_a_short_lived_signed_link(teams) -> None:
    asha, _, _, general = await _engagement(teams)
    await teams.say(asha, "demo schedule next Thursday 3pm | Sprint 3", where=general)
    await teams.drain()
    draft = [c for c in teams.connector.sent(teams.personal(asha).id) if "Schedule this demo?" in c.text_dump()][-1]
    await teams.click(asha, draft, "Confirm")
    await teams.drain()
    announced = [c for c in teams.connector.sent(general.id) if ".ics" in c.text_dump()][-1]
    shown = card_text(announced.cards()[0])
    url = re.search(r"\]\((http://127\.0\.0\.1:\d+/teams/files/[^)]+)\)", shown).group(1)
    assert "{{TIME(" in shown  # the link's end, in each reader's own time

    async with aiohttp.ClientSession() as http:
        async with http.get(url) as resp:
            assert resp.status == 200
            assert "BEGIN:VCALENDAR" in await resp.text() and "Sprint 3" in await resp.text()
            assert "attachment" in resp.headers["Content-Disposition"]
        link = url.split("/teams/files/", 1)[1].split("/", 1)[0]
        token, expires, _signature = link.split(".")
        forged = url.replace(f"{token}.{expires}.", f"{token}.{int(expires) + 86400}.")  # a longer life
        async with http.get(forged) as resp:
            assert resp.status == 403
        teams.core.clock.advance(timedelta(hours=2))  # past the link's end
        async with http.get(url) as resp:
            assert resp.status == 403


async def test_my_cadence_card_on_request_and_when_the_app_is_opened(teams) -> None:
    _, dev, _, general = await _engagement(teams)
    r = await teams.say(dev, "home")  # in the personal chat
    shown = "\n".join(card_text(c.cards()[0]) for c in r.replies)
    # What waits for them (today's standup, with its button), and the engagement's week (defects, next demo).
    assert "My Cadence" in shown and "Standup · ACME" in shown and "Answer today's standup" in shown
    assert "Defects" in shown and "Next demo" in shown
    r = await teams.say(dev, "my cadence", where=general)  # after @Cadence in a channel, too
    assert "My Cadence" in r.text

    newcomer = teams.user("nina", tz="Asia/Tokyo")
    r = await teams.added(newcomer)  # installed in personal scope
    shown = "\n".join(card_text(c.cards()[0]) for c in r.replies)
    assert "Hi, I'm Cadence" in shown and "My Cadence" in shown


async def test_an_export_reaches_a_teams_user_as_a_download_link(teams) -> None:
    asha, _, _, general = await _engagement(teams)
    await teams.say(asha, "defect s2 Checkout is slow", where=general)
    await teams.drain()
    r = await teams.say(asha, "cadence export", where=general)
    assert r.status == 200
    await teams.drain()
    said = "\n".join(teams.connector.texts(teams.personal(asha).id) + teams.connector.texts(general.id) + [r.text])
    url = re.search(r"\]\((http://127\.0\.0\.1:\d+/teams/files/[^)]+\.zip)\)", said).group(1)
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"] == "application/zip"
        body = await resp.read()
    with zipfile.ZipFile(io.BytesIO(body)) as zipped:
        assert "defects.csv" in zipped.namelist()
        assert "Checkout is slow" in zipped.read("defects.csv").decode()


async def test_a_draft_and_a_refusal_from_a_channel_command_go_to_the_askers_personal_chat(teams) -> None:
    _, dev, _, general = await _engagement(teams)
    posted_before = len(teams.connector.sent(general.id))
    r = await teams.say(dev, "demo schedule next Thursday 3pm | Sprint 3", where=general)
    assert "personal chat" in r.text and "Schedule this demo?" not in r.text
    r = await teams.say(dev, "cadence role <at>Asha</at> developer", where=general, entities=_mention("asha"))
    assert "personal chat" in r.text
    await teams.drain()
    in_channel = "\n".join(c.text_dump() for c in teams.connector.sent(general.id)[posted_before:])
    assert "Schedule this demo?" not in in_channel and "Cancel" not in in_channel
    assert "not both" not in in_channel
    mine = "\n".join(teams.connector.texts(teams.personal(dev).id))
    assert "Schedule this demo?" in mine and "Cancel" in mine and "not both" in mine


async def test_setup_in_a_channel_that_was_lost_heals_it(teams) -> None:
    asha, _, _, general = await _engagement(teams)
    teams.connector.fail_next(1, status=403, kinds=("send",))  # the bot was removed from the channel
    await teams.say(asha, "defect s2 Checkout is slow", where=general)
    await teams.drain()
    async with teams.core.session_factory() as s:
        binding = await s.scalar(select(ChannelBinding).where(ChannelBinding.channel_id == general.id))
        assert binding.failed_reason  # a real refusal of the channel is still the channel's failure
    await teams.drain()  # the admins' notice
    notice = "\n".join(teams.connector.texts(teams.personal(asha).id))
    assert "can no longer post" in notice and "cadence setup ACME" in notice

    r = await teams.say(asha, "cadence setup ACME", where=general)  # invited back; what the notice says
    assert "can post here again" in r.text
    await teams.say(asha, "defect s3 Typo on the invoice", where=general)
    await teams.drain()
    assert any("ACME-D-2 · " in t for t in teams.connector.texts(general.id))
