"""SLA report figures against hand-computed values; the policy command."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from bot.features.defects.report import defect_stats
from storage.models import Engagement
from tests.features.defects.support import all_text, defect, engagement
from tests.helpers import agree, click, reply_text, run

UTC = UTC
H = timedelta(hours=1)


def at(d, h, m=0):
    return datetime(2027, 1, d, h, m, tzinfo=UTC)


async def test_report_figures(core, clock):
    """Mon 4 Jan 2027, support desk in UTC, warranty ends Monday.
    D1 S2 08:00, ack 09:00 (met), resolved 20:00 (12 h, met).
    D2 S2 08:00, ack 13:00 (5 h > 4 h: response missed at 12:00), still open.
    D3 S1 10:00, ack 10:30 (met), resolved Tue 12:00 (26 h > 24 h: resolution missed Tue 10:00).
    D4 S4 Tue 09:00 (after the warranty end), open.
    At Tue 14:00 for the last week: response 2 met / 1 missed = 66.7 %; resolution 1 met / 1 missed = 50 %;
    MTTA = (1 h + 5 h + 0.5 h) / 3 = 2 h 10 min; MTTR = (12 h + 26 h) / 2 = 19 h."""
    people = await engagement(core, warranty_end=date(2027, 1, 4))
    carol, dev = people["carol"], people["dev"]
    clock.set(at(4, 8))
    await run(core, carol, "/defect s2 D1")
    await run(core, carol, "/defect s2 D2")
    clock.set(at(4, 9))
    await core.drain()
    await click(core, dev, "defect.ack", str((await defect(core, 1)).id))
    clock.set(at(4, 10))
    await core.drain()
    await run(core, carol, "/defect s1 D3")
    clock.set(at(4, 10, 30))
    await core.drain()
    await run(core, dev, "/defect ack 3")
    for h in (11, 12, 13):
        clock.set(at(4, h))
        await core.drain()
    await run(core, dev, "/defect ack 2")
    clock.set(at(4, 20))
    await core.drain()
    await run(core, dev, "/defect resolve 1")
    for day, h in ((5, 9), (5, 10), (5, 12)):
        clock.set(at(day, h))
        await core.drain()
        if (day, h) == (5, 9):
            await run(core, carol, "/defect s4 D4")
    await run(core, dev, "/defect resolve 3")
    clock.set(at(5, 14))
    await core.drain()

    async with core.session_factory() as s:
        eng = await s.scalar(select(Engagement).where(Engagement.key == "ACME"))
        stats = await defect_stats(s, eng, at(5, 14) - timedelta(days=7), at(5, 14))
        late = await defect_stats(s, eng, at(5, 11), at(5, 14))
    assert stats["filed"] == 4
    assert stats["response"] == {"met": 2, "missed": 1, "pct": 66.7}
    assert stats["resolution"] == {"met": 1, "missed": 1, "pct": 50.0}
    assert stats["mtta"] == timedelta(hours=2, minutes=10)
    assert stats["mttr"] == 19 * H
    assert stats["open_by_severity"] == {"s1": 0, "s2": 1, "s3": 0, "s4": 1}
    open_ = {o["ref"]: o for o in stats["open"]}
    assert open_["ACME-D-2"]["clock"] == "resolution" and open_["ACME-D-2"]["time_left"] == 18 * H
    assert open_["ACME-D-2"]["breached"] is True  # its response was late
    # D4: S4 response is 2 business days = 18 business hours; 5 have run since Tue 09:00.
    assert open_["ACME-D-4"]["clock"] == "response" and open_["ACME-D-4"]["time_left"] == 13 * H
    assert [(b["ref"], b["clock"], b["at"]) for b in stats["breaches"]] == [
        ("ACME-D-2", "response", at(4, 12)),
        ("ACME-D-3", "resolution", at(5, 10)),
    ]
    assert stats["out_of_warranty"] == ["ACME-D-4"]
    # A window that only sees D3's resolution (after its breach was already known) and nothing else.
    assert late["resolution"] == {"met": 0, "missed": 0, "pct": None}
    assert late["mttr"] == 26 * H and late["mtta"] is None

    r = await run(core, carol, "/defect report week")
    text = all_text(r)
    assert "66.7 % met" in text and "50 % met" in text and "2 h 10 min" in text and "19 h 00 min" in text
    assert "ACME-D-2 S2 response target missed" in text and "out of warranty" in text
    r = await run(core, carol, "/defect report year")
    assert "report week" in reply_text(r)


async def test_policy_show_and_change(core, clock):
    people = await engagement(core)
    r = await run(core, people["carol"], "/defect policy")
    assert "S3" in all_text(r) and "09:00–18:00" in all_text(r)
    r = await run(core, people["dev"], "/defect policy s3 response 6h")
    assert "Only vendor pm, client sponsor" in reply_text(r)
    r = await run(core, people["victor"], "/defect policy s3 response six hours")
    assert "not a duration" in reply_text(r)
    r = await agree(core, people["victor"], "/defect policy s3 response 6h", people["alice"])
    assert "response 6h · resolution 5d · business hours" in all_text(r)
    r = await agree(core, people["alice"], "/defect policy hours 08:00-17:00", people["victor"])
    assert "08:00–17:00" in all_text(r)
    r = await agree(core, people["alice"], "/defect policy country DE", people["victor"])
    assert "Proposed" in all_text(r)  # a contract term: the vendor side approved it (agree)
    assert "DE public holidays" in all_text(await run(core, people["carol"], "/defect policy"))
    # Monday 2027-01-04 10:00 UTC, S3: 6 business hours from 10:00 = 16:00.
    clock.set(at(4, 10))
    await run(core, people["carol"], "/defect p3 Sorting broken")
    d = await defect(core)
    assert d.response_due_at == at(4, 16)
    # Policy changes apply to defects filed afterwards.
    await agree(core, people["victor"], "/defect policy s3 response 2h", people["alice"])
    d = await defect(core)
    assert d.response_due_at == at(4, 16)
