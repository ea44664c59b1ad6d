"""Exports on Teams (issue 17 item 6): the core hands the Teams front end each export as a neutral file
attachment in an outbox message to the asker (delivering it, as a download link, is the Teams
messenger's job); the CSV it carries is the export."""

from __future__ import annotations

import base64
import json

from sqlalchemy import select

from storage.models import OutboxMessage
from tests.frontends.teams.test_defects import _engagement


async def test_defect_export_on_teams_hands_the_file_to_the_asker(teams):
    asha, _dev, _victor, general = await _engagement(teams)
    await teams.say(asha, "defect s2 Checkout is slow", where=general)
    r = await teams.say(asha, "defect export", where=general)
    assert "sent you the CSV by direct message" in r.text
    async with teams.core.session_factory() as s:
        rows = list(await s.scalars(select(OutboxMessage).where(OutboxMessage.platform == "teams")))
    exports = [m for m in rows if m.op == "dm" and "defects export" in json.dumps(m.payload)]
    assert exports, [m.payload for m in rows]
    attachment = exports[-1].payload["attachments"][0]
    assert attachment["mime"] == "text/csv" and attachment["filename"].startswith("ACME-defects-")
    csv_text = base64.b64decode(attachment["content_b64"]).decode("utf-8")
    assert csv_text.splitlines()[1].startswith("ACME-D-1,") and "Checkout is slow" in csv_text
