"""The health report through the real Teams front end: `cadence report` in the channel posts the
report with its chart attached as an image (the PNG is too large to inline in the Adaptive Card, so it
rides along as an image attachment of the same message); the weekly one arrives on Monday 09:00."""

from __future__ import annotations

import base64
import struct


def images(call) -> list[dict]:
    return [a for a in call.body.get("attachments") or [] if str(a.get("contentType", "")).startswith("image/")]


async def test_report_with_chart_image_on_teams(teams):
    asha = teams.user("asha", tz="Europe/London")
    general = teams.channel("general")
    await teams.say(asha, "cadence setup ACME Acme web shop", where=general)
    await teams.drain()
    r = await teams.say(asha, "cadence report", where=general)
    assert r.status == 200
    await teams.drain()
    posted = [c for c in teams.connector.sent(general.id) if "ACME health report" in c.text_dump()]
    assert len(posted) == 1
    (image,) = images(posted[0])
    assert image["contentType"] == "image/png" and image["contentUrl"].startswith("data:image/png;base64,")
    png = base64.b64decode(image["contentUrl"].split(",", 1)[1])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24]) == (800, 400)

    await teams.advance(hours=1)  # set up Monday 08:00 UTC; home zone London → the weekly report at 09:00
    weekly = [c for c in teams.connector.sent(general.id) if "ACME health report" in c.text_dump()]
    assert len(weekly) == 2 and images(weekly[-1])
