"""The health report through the real Slack front end (signed requests; Web API → stand-in): the
chart goes up with the files.uploadV2 flow (getUploadURLExternal → upload → completeUploadExternal)
right after its message, on demand and on the weekly schedule; the export zip reaches the person's
DM the same way; App Home shows the figures."""

from __future__ import annotations

import struct
from datetime import timedelta

from tests.frontends.slack.harness import HOME

UPLOAD_FLOW = ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]


async def setup(slack):
    slack.user("alice", tz="Europe/London")
    slack.user("victor", tz="Asia/Kolkata")
    await slack.command("alice", "/cadence setup ACME Acme portal")
    await slack.command("victor", "/cadence whoami")
    await slack.command("alice", f"/cadence role {slack.mention('alice')} client_sponsor")
    await slack.command("alice", f"/cadence role {slack.mention('victor')} vendor_pm")


def methods_from(slack, start: int) -> list[str]:
    return [c.method for c in slack.api.calls[start:] if c.method in ("chat.postMessage", *UPLOAD_FLOW)]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


async def test_report_chart_export_and_home_on_slack(slack):
    await setup(slack)

    # On demand: the report is posted in the channel, then its chart uploaded into it.
    start = len(slack.api.calls)
    r = await slack.command("victor", "/cadence report")
    assert r.status == 200
    assert methods_from(slack, start) == ["chat.postMessage", *UPLOAD_FLOW]
    post = next(c for c in slack.api.calls[start:] if c.method == "chat.postMessage")
    assert post.body["channel"] == HOME and "ACME health report" in post.text_dump()
    asked = slack.api.last("files.getUploadURLExternal").body
    assert asked["filename"].startswith("ACME-health-") and asked["filename"].endswith(".png")
    png = slack.api.uploads[slack.api.last("upload").body["file_id"]]
    assert png_size(png) == (800, 400) and len(png) < 100_000
    done = slack.api.last("files.completeUploadExternal").body
    assert done["channel_id"] == HOME and done["thread_ts"] == post.response["ts"]

    # The weekly one: set up Monday 08:00 UTC, home zone London → Monday 09:00.
    start = len(slack.api.calls)
    slack.core.clock.advance(timedelta(hours=1))
    await slack.settle()
    assert methods_from(slack, start) == ["chat.postMessage", *UPLOAD_FLOW]
    assert "ACME health report" in str(slack.posts()[-1])

    # The export: a zip in the person's DM, uploaded the same way.
    start = len(slack.api.calls)
    await slack.command("alice", "/cadence export")
    assert any("on its way to you by direct message" in t for t in slack.private("alice"))
    assert methods_from(slack, start) == ["chat.postMessage", *UPLOAD_FLOW]
    zip_bytes = slack.api.uploads[slack.api.last("upload").body["file_id"]]
    assert zip_bytes[:2] == b"PK"
    assert slack.api.last("files.getUploadURLExternal").body["filename"].endswith(".zip")
    assert slack.api.last("files.completeUploadExternal").body["channel_id"].startswith("D")

    # App Home: the engagement's figures.
    await slack.open_home("victor")
    published = slack.api.last("views.publish")
    assert "ACME — Acme portal" in published.text_dump()
