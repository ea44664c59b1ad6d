"""Hostile and unlucky input over Slack (issue 17 items 4–6, issue 20 item 6), through the real app and the
Web API stand-in, on SQLite and PostgreSQL: seating takes the profile's zone (or asks), invisible and bidi
characters never reach storage or a message, numbers and currencies are checked, and every export arrives
as a real file upload."""

from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import select

from storage.models import Engagement, Identity, Person
from storage.models.defects import Defect

BIDI_TITLE = "Invoice \u202egnp.exe\u202c total\u200b wrong\u2066x\u2069\u2060\u061c\u180e\ufeff\U000e0041 👩\u200d💻"


async def engagement(slack) -> None:
    await slack.command("alice", "/cadence setup ACME Acme portal")
    await slack.command("alice", f"/cadence role {slack.mention('alice')} client_sponsor")
    await slack.command("victor", "/cadence whoami")
    await slack.command("alice", f"/cadence role {slack.mention('victor')} vendor_pm")
    await slack.settle()


async def person(slack, name: str) -> Person:
    async with slack.core.session_factory() as s:
        ident = await s.scalar(select(Identity).where(Identity.user_id == slack.uid(name)))
        assert ident is not None, f"{name} is not known"
        return await s.get(Person, ident.person_id)


def dms_to(slack, name: str) -> list[str]:
    uid = slack.uid(name)
    return [
        c.text_dump()
        for c in slack.api.calls_to("chat.postMessage", ok_only=True)
        if c.body.get("channel") in (uid, "D" + uid[1:])
    ]


async def test_seating_takes_the_zone_from_the_profile_at_once(slack):
    await engagement(slack)
    slack.user("nina", "America/New_York")  # has never used Cadence
    await slack.command("alice", f"/cadence role {slack.mention('nina')} client_pm")
    await slack.settle()
    assert [c.body.get("user") for c in slack.api.calls_to("users.info")].count(slack.uid("nina")) >= 1
    nina = await person(slack, "nina")
    assert (nina.tz, nina.tz_source) == ("America/New_York", "platform")
    assert "guess" not in slack.posts()[-1]["text"]
    assert not dms_to(slack, "nina")


async def test_seating_someone_whose_profile_withholds_the_zone_asks_them(slack):
    await engagement(slack)
    slack.user("omar", None)  # another organisation's user: users.info has no tz
    await slack.command("alice", f"/cadence role {slack.mention('omar')} client_member")
    await slack.settle()
    omar = await person(slack, "omar")
    assert (omar.tz, omar.tz_source) == ("UTC", "unknown")
    channel = json.dumps(slack.posts()[-1])
    assert "a guess (UTC)" in channel and "I've asked them" in channel
    asked = dms_to(slack, "omar")
    assert asked and "which time zone are you in?" in asked[-1] and "cadence tz" in asked[-1]
    # Their answer settles it, and a later profile never overrides what they chose.
    await slack.command("omar", "/cadence tz Asia/Dubai")
    await slack.settle()
    assert (await person(slack, "omar")).tz == "Asia/Dubai"


async def test_invisible_and_bidi_characters_never_reach_storage_or_messages(slack):
    await engagement(slack)
    await slack.command("alice", f"/defect s2 {BIDI_TITLE}")
    await slack.settle()
    async with slack.core.session_factory() as s:
        title = (await s.scalar(select(Defect).order_by(Defect.id.desc()).limit(1))).title
    assert title == "Invoice gnp.exe total wrongx 👩\u200d💻"
    posted = json.dumps(slack.posts()[-1], ensure_ascii=False)
    assert "gnp.exe" in posted and "👩\u200d💻" in posted
    for ch in "\u202e\u202c\u200b\u2066\u2069\u2060\u061c\u180e\ufeff\U000e0041":
        assert ch not in posted and ch not in title, repr(ch)


async def test_numbers_and_currencies_are_checked(slack):
    await engagement(slack)
    for value, says in [
        ("NaN", "not a number"),
        ("Infinity", "not a number"),
        ("1e400", "not a number"),
        ("-5", "can't be negative"),
        ("99999999999999999", "too large"),
        ("XYZ 100", "not an ISO 4217 currency"),
    ]:
        await slack.command("alice", f"/cadence settings budget {value}")
        await slack.settle()
        assert says in slack.last_private("alice"), (value, slack.last_private("alice"))
    async with slack.core.session_factory() as s:
        assert (await s.scalar(select(Engagement))).budget is None
    for value, says in [("NaN", "not a number"), ("101", "too large"), ("-1", "can't be negative")]:
        await slack.command("alice", f"/cadence settings contingency {value}")
        await slack.settle()
        assert says in slack.last_private("alice"), (value, slack.last_private("alice"))
    await slack.command("alice", "/cr settings currency XYZ")
    await slack.settle()
    assert "not an ISO 4217 currency code" in slack.last_private("alice")
    # A budget that names its currency keeps it: the engagement's amounts are in USD from now on.
    await slack.command("alice", "/cadence settings budget USD 120,000.50")
    await slack.settle()
    assert "120,000.50" in slack.last_private("alice")
    await slack.command("alice", "/cr settings")
    await slack.settle()
    assert "*currency*\nUSD" in slack.last_private("alice") or "USD —" in slack.last_private("alice")
    await slack.command("alice", "/cr settings currency eur")
    await slack.settle()
    assert "EUR" in slack.last_private("alice")


def uploaded(slack) -> dict[str, bytes]:
    """Files that arrived through files.getUploadURLExternal → upload → files.completeUploadExternal,
    by the title they were completed with."""
    done = {}
    for call in slack.api.calls_to("files.completeUploadExternal", ok_only=True):
        for f in json.loads(call.body["files"]) if isinstance(call.body["files"], str) else call.body["files"]:
            done[f["title"]] = slack.api.uploads[f["id"]]
    return done


async def test_every_export_arrives_as_a_file(slack):
    await engagement(slack)
    await slack.command("alice", "/defect s2 Checkout fails")
    await slack.settle()

    await slack.command("alice", "/defect export")
    await slack.settle()
    assert any("sent you the CSV by direct message" in t for t in slack.private("alice"))
    files = uploaded(slack)
    csv_name = next(name for name in files if name.startswith("ACME-defects-"))
    assert files[csv_name].decode("utf-8").splitlines()[1].startswith("ACME-D-1,")

    await slack.command("alice", "/cr export")
    await slack.settle()
    files = uploaded(slack)
    cr_files = [name for name in files if "change" in name.lower() or "cr" in name.lower()]
    assert cr_files, list(files)
    assert all(files[name] for name in cr_files)

    await slack.command("alice", "/cadence export")
    await slack.settle()
    files = uploaded(slack)
    zipped = next(data for data in files.values() if data[:2] == b"PK")
    names = zipfile.ZipFile(io.BytesIO(zipped)).namelist()
    assert "defects.csv" in names and "README.txt" in names
    # Each file went to the asker's conversation (the DM for /defect and /cadence, the channel for /cr).
    channels = {c.body.get("channel_id") for c in slack.api.calls_to("files.completeUploadExternal", ok_only=True)}
    assert "D" + slack.uid("alice")[1:] in channels
