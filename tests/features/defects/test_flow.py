"""Filing, the lifecycle, who may act, list/show/assign/export on the controlled clock."""

from __future__ import annotations

import base64
import csv
import io
from datetime import date, timedelta

from sqlalchemy import select

from bot.features.defects.severity import split_severity
from bot.features.standups.blockers import intake_form
from storage.models import AuditEntry, Engagement, Person
from storage.models.standups import StandupEntry
from tests.features.defects.support import all_text, defect, engagement
from tests.helpers import actor, click, place, reply_text, run, sent, submit


async def test_quick_filing_with_aliases_and_s1_paging(core, clock):
    people = await engagement(core)
    n0 = len(sent(core))
    r = await run(core, people["carol"], "/defect level 1: Checkout is down")
    assert "Filed ACME-D-1 (S1)" in reply_text(r)
    await core.drain()
    d = await defect(core)
    assert (d.severity, d.state, d.title) == ("s1", "open", "Checkout is down")
    assert d.response_due_at == clock.now() + timedelta(hours=1)
    assert d.resolution_due_at == clock.now() + timedelta(hours=24)
    out = sent(core)[n0:]
    posts = [o for o in out if o.op == "post" and o.channel_id == "general"]
    assert posts and posts[0].card.title.startswith("ACME-D-1 · S1 · Checkout is down")
    assert [b.action_id for b in posts[0].card.buttons] == ["defect.ack", "defect.severity"]
    pages = [o for o in out if o.op == "dm" and "S1 filed" in o.card.title]
    assert sorted(o.channel_id for o in pages) == ["dm:lena", "dm:victor"]
    for text, sev in (("sev2 a", "s2"), ("p3 b", "s3"), ("critical c", "s1"), ("s 4 d", "s4"), ("Level 2 e", "s2")):
        assert split_severity(text)[0] == sev


async def test_lifecycle_buttons_and_permissions(core, clock):
    people = await engagement(core)
    await run(core, people["carol"], "/defect s2 Search returns nothing")
    d = await defect(core)
    # The client cannot acknowledge; the vendor can.
    r = await click(core, people["carol"], "defect.ack", str(d.id))
    assert "Only the vendor team" in reply_text(r)
    await core.drain()
    clock.advance(minutes=30)
    r = await click(core, people["dev"], "defect.ack", str(d.id))
    assert "Acknowledged ACME-D-1" in reply_text(r)
    r = await click(core, people["dev"], "defect.ack", str(d.id))
    assert "already been acknowledged" in reply_text(r)
    d = await defect(core)
    assert d.state == "acknowledged" and d.acknowledged_at == clock.now() and d.assignee_id is not None
    # Waiting on client needs a reason: the button opens a form.
    r = await click(core, people["dev"], "defect.wait", str(d.id))
    assert r.form and r.form.form_id == "defect.wait"
    r = await submit(core, people["dev"], "defect.wait", {"reason": ""}, r.form.state)
    assert r.errors
    r = await submit(core, people["dev"], "defect.wait", {"reason": "Need a HAR file"}, {"defect_id": d.id})
    assert "Waiting on the client" in reply_text(r)
    # The vendor cannot close, nor can anyone close before it is resolved.
    r = await run(core, people["carol"], "/defect close ACME-D-1")
    assert "Only a resolved defect can be closed" in reply_text(r)
    r = await click(core, people["dev"], "defect.start", str(d.id))
    assert "Work started" in reply_text(r)
    r = await run(core, people["dev"], "/defect resolve D-1 fixed the index")
    assert "Resolved ACME-D-1" in reply_text(r)
    r = await run(core, people["dev"], "/defect close 1")
    assert "Only the client side or the reporter" in reply_text(r)
    r = await run(core, people["carol"], "/defect reopen 1")
    assert "Say why" in reply_text(r)
    r = await run(core, people["carol"], "/defect reopen 1 still empty for umlauts")
    assert "Reopened" in reply_text(r)
    await run(core, people["dev"], "/defect resolve 1")
    r = await run(core, people["carol"], "/defect close #1 thanks")
    assert "Closed ACME-D-1" in reply_text(r)
    d = await defect(core)
    assert d.state == "closed" and d.reopen_count == 1
    async with core.session_factory() as s:
        trail = [
            (e.action, e.from_state, e.to_state)
            for e in await s.scalars(
                select(AuditEntry).where(AuditEntry.entity_type == "defect").order_by(AuditEntry.id)
            )
        ]
    assert trail == [
        ("filed", None, "open"),
        ("ack", "open", "acknowledged"),
        ("wait", "acknowledged", "waiting_on_client"),
        ("start", "waiting_on_client", "in_progress"),
        ("resolve", "in_progress", "resolved"),
        ("reopen", "resolved", "reopened"),
        ("resolve", "reopened", "resolved"),
        ("close", "resolved", "closed"),
    ]
    await core.drain()
    # The card was edited in place; the closed card has no buttons left.
    updates = [o for o in sent(core) if o.op == "update" and o.card.title.startswith("ACME-D-1")]
    assert updates and updates[-1].card.buttons == []
    assert "Closed" in updates[-1].text


async def test_form_filing_validation_and_standup_link(core, clock):
    people = await engagement(core)
    r = await run(core, people["carol"], "/defect new")
    assert r.form and r.form.form_id == "defect.new"
    values = {
        "title": "Export is slow",
        "severity": "s3",
        "environment": "prod",
        "steps": "1. export",
        "expected": "10 s",
        "actual": "5 min",
        "affected_users": "finance",
        "attachment": "javascript:alert(1)",
    }
    r = await submit(core, people["carol"], "defect.new", values)
    assert "attachment" in r.errors
    # Opened from a standup blocker: the form is the standup feature's pre-filled copy of ours.
    async with core.session_factory() as s, s.begin():
        eng = await s.scalar(select(Engagement).where(Engagement.key == "ACME"))
        dev = await s.scalar(select(Person).where(Person.display_name == "Dev"))
        entry = StandupEntry(
            engagement_id=eng.id,
            person_id=dev.id,
            day=date(2027, 1, 4),
            questions=["q1", "q2", "Anything blocking you?"],
            blocker_index=2,
            answers=["a", "b", "Export takes 5 minutes"],
            status="answered",
            updated_at=clock.now(),
        )
        s.add(entry)
        await s.flush()
        form = intake_form("defect", entry, eng, dev)
    assert form.form_id == "defect.new" and form.state == {"from_standup_answer": entry.id}
    r = await submit(
        core, people["carol"], "defect.new", {**values, "attachment": "https://files.example/har"}, form.state
    )
    assert "Filed ACME-D-1 (S3)" in reply_text(r)
    d = await defect(core)
    assert d.source_standup_answer_id == entry.id and d.attachment_url == "https://files.example/har"
    # A tampered state naming an answer that is not this engagement's is not linked.
    await submit(core, people["carol"], "defect.new", {**values, "attachment": ""}, {"from_standup_answer": 999})
    assert (await defect(core, 2)).source_standup_answer_id is None
    # S3 is business hours in UTC: filed Mon 08:00 → the clock starts 09:00; 8 business hours → 17:00.
    assert d.response_due_at == clock.now().replace(hour=17)


async def test_list_show_assign_export_and_warranty(core, clock):
    people = await engagement(core, warranty_end=date(2027, 1, 3))
    await run(core, people["carol"], "/defect s3 Typo on the invoice")
    await run(core, people["carol"], "/defect s1 Nothing loads")
    r = await run(core, people["dev"], "/defect assign ACME-D-2 @lena")
    assert "Only the vendor PM or lead" in all_text(r)
    r = await run(core, people["victor"], "/defect assign ACME-D-2 @carol")
    assert "not on the vendor team" in all_text(r)
    r = await run(core, people["victor"], "/defect assign ACME-D-2 @lena")
    assert "assigned to Lena" in all_text(r)
    r = await run(core, people["dev"], "/defect assign 1 me")
    assert "assigned to Dev" in all_text(r)
    r = await run(core, people["carol"], "/defect list")
    text = all_text(r)
    assert "ACME-D-1" in text and "ACME-D-2" in text and "out of warranty" in text
    r = await run(core, people["carol"], "/defect list s1")
    assert "ACME-D-2" in all_text(r) and "ACME-D-1" not in all_text(r)
    r = await run(core, people["lena"], "/defect list mine")
    assert "ACME-D-2" in all_text(r) and "ACME-D-1" not in all_text(r)
    r = await run(core, people["carol"], "/defect show ACME-D-2")
    assert "History" in [s.title for s in r.private[0].sections]
    assert "Out of warranty" in all_text(r)
    r = await run(core, people["carol"], "/defect export")
    assert "sent you the CSV by direct message" in all_text(r)
    await core.drain()
    delivered = [d for d in sent(core) if d.op == "dm" and d.card.attachments][-1]
    att = delivered.card.attachments[0]
    assert att.mime == "text/csv" and delivered.address["user_id"] == "carol"
    # The console writes the file (./reports in the working folder; a temporary folder in tests).
    assert delivered.files and delivered.files[0].read_bytes() == base64.b64decode(att.content_b64)
    rows = list(csv.DictReader(io.StringIO(base64.b64decode(att.content_b64).decode())))
    assert [row["id"] for row in rows] == ["ACME-D-1", "ACME-D-2"]
    assert rows[1]["out_of_warranty"] == "yes" and rows[1]["assignee"] == "Lena"
    r = await run(core, people["carol"], "/defect show ACME-D-9")
    assert "no defect ACME-D-9" in all_text(r)
    r = await run(core, people["carol"], "/defect s5 Too severe")
    assert "Severity must be S1, S2, S3 or S4" in all_text(r)
    r = await run(core, people["carol"], "/defect Login page is slow")
    assert r.form and r.form.form_id == "defect.new" and r.form.inputs[0].initial == "Login page is slow"
    r = await run(core, people["carol"], "/defect frobnicate")
    assert "I don't know" in all_text(r)


async def test_outsider_cannot_act(core):
    people = await engagement(core)
    await run(core, people["carol"], "/defect s2 Broken")
    d = await defect(core)
    mallory = actor("mallory")
    r = await click(core, mallory, "defect.ack", str(d.id), where=place("elsewhere"))
    assert "not a member" in reply_text(r)
    r = await run(core, mallory, "/defect s1 spam")
    assert "not a member" in reply_text(r)


async def test_home_section_lists_my_open_defects(core):
    people = await engagement(core)
    await run(core, people["carol"], "/defect s3 Typo")
    await run(core, people["carol"], "/defect s1 Down")
    await run(core, people["dev"], "/defect assign 1 me")
    cards = await core.home(people["dev"])
    titles = [c.title for c in cards]
    assert any(t.startswith("Assigned to you: ACME-D-1") for t in titles)
    cards = await core.home(people["carol"])
    mine = [c.title for c in cards if "ACME-D" in c.title]
    assert mine[0].startswith("You reported: ACME-D-2") and mine[1].startswith("You reported: ACME-D-1")


async def test_change_severity_button_form_and_permissions(core, clock):
    people = await engagement(core)
    await run(core, people["carol"], "/defect s3 Slow report")
    d = await defect(core)
    r = await click(core, people["dev"], "defect.severity", str(d.id))
    assert "Only the reporter" in reply_text(r)
    r = await click(core, people["victor"], "defect.severity", str(d.id))
    assert r.form and r.form.form_id == "defect.severity" and r.form.inputs[0].initial == "s3"
    r = await submit(core, people["victor"], "defect.severity", {"severity": "s3", "reason": ""}, r.form.state)
    assert set(r.errors) == {"severity", "reason"}
    r = await submit(
        core, people["victor"], "defect.severity", {"severity": "s2", "reason": "core flow"}, {"defect_id": d.id}
    )
    assert "now S2 (was S3)" in reply_text(r)
    r = await run(core, people["carol"], "/defect severity 1 s1")
    assert "Say why" in reply_text(r)
    assert (await defect(core)).severity == "s2"
