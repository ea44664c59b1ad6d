"""Both sides own a pause (issue 18): waiting on the client tells the client what is asked, and the client
side answers — by command or button — which resumes the clock and tells the assignee."""

from __future__ import annotations

from tests.features.defects.support import defect, engagement
from tests.helpers import advance, click, dm, reply_text, run, sent, submit


def dms(core, user: str, word: str) -> list:
    return [d for d in sent(core) if d.op == "dm" and d.address.get("user_id") == user and word in d.text]


async def test_waiting_on_the_client_asks_the_client_and_the_reply_resumes_the_clock(core):
    people = await engagement(core)
    await run(core, people["alice"], "/defect s3 Export is empty")
    await run(core, people["victor"], "/defect ack ACME-D-1")
    r = await run(core, people["victor"], "/defect wait ACME-D-1 Which browser and account?")
    assert "Waiting on the client" in reply_text(r), reply_text(r)
    await core.drain()
    # The reporter (the sponsor) and the client PM are told what is asked, with a Reply button.
    for who in ("alice", "carol"):
        (notice,) = dms(core, who, "Which browser and account?")
        assert "/defect reply ACME-D-1" in notice.text
        assert [b.label for b in notice.card.buttons] == ["Reply"]
    assert not dms(core, "dev", "Which browser")
    # The vendor cannot answer for the client.
    r = await run(core, people["victor"], "/defect reply ACME-D-1 never mind")
    assert "Only the client side or the reporter" in reply_text(r)
    await advance(core, hours=5)
    # Carol answers by command: the clock runs again and the assignee hears the answer.
    r = await run(core, people["carol"], "/defect reply ACME-D-1 Chrome 120, account demo@acme")
    assert "the clock runs again" in reply_text(r), reply_text(r)
    await core.drain()
    d = await defect(core)
    assert d.state == "in_progress"
    waiting = [p for p in d.pauses if p.kind == "waiting"]
    assert len(waiting) == 1 and waiting[0].ended_at is not None
    assert dms(core, "victor", "Chrome 120, account demo@acme")
    # The report shows whose court the ball was in: five hours the client's.
    await advance(core, hours=1)
    await run(core, people["alice"], "/cadence report")
    await core.drain()
    report = [d for d in sent(core) if d.op == "post" and d.card.title.startswith("ACME health report")][-1]
    (court,) = [s.text for s in report.card.sections if s.title == "Ball in court"]
    assert "ACME-D-1: vendor 1 h 00 min · client 5 h 00 min" in court, court


async def test_the_reply_button_opens_a_form(core):
    people = await engagement(core)
    await run(core, people["carol"], "/defect s2 Search is down")
    await run(core, people["victor"], "/defect ack ACME-D-1")
    await run(core, people["victor"], "/defect wait ACME-D-1 Can you share the query?")
    await core.drain()
    d = await defect(core)
    r = await click(core, people["carol"], "defect.reply", str(d.id), where=dm(people["carol"]))
    assert r.form is not None and r.form.form_id == "defect.reply", reply_text(r)
    r = await submit(core, people["carol"], "defect.reply", {"reason": ""}, r.form.state, where=dm(people["carol"]))
    assert r.errors
    r = await submit(
        core, people["carol"], "defect.reply", {"reason": "name:acme*"}, {"defect_id": d.id}, where=dm(people["carol"])
    )
    assert "the clock runs again" in reply_text(r), reply_text(r)
    assert (await defect(core)).state == "in_progress"
