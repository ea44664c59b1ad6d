"""The record that contracts rely on: the audit log and the decisions cannot be edited or deleted
(the database refuses), the CSV export holds every request and every step, and the contingency is
drawn exactly, with a warning when 80 % is committed."""

from __future__ import annotations

import base64
import csv
import io

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.features.change_requests.support import (
    card_text,
    dms_to,
    file_cr,
    get,
    pending_cr,
    posts,
    said,
    steps,
    timers,
    updates,
)
from tests.helpers import agree, click, dm, make_engagement, run, sent, submit


async def _approve(core, people, cr):
    await click(core, people["alice"], "cr.approve", str(cr.id))
    r = await click(core, people["victor"], "cr.approve", str(cr.id))
    assert "Quorum reached" in said(r), said(r)
    await core.drain()


@pytest.mark.parametrize("table", ["audit_log", "change_request_decisions"])
async def test_records_cannot_be_edited_or_deleted(core, table):
    people = await make_engagement(core)
    cr = await pending_cr(core, people)
    await _approve(core, people, cr)
    column = "comment" if table == "audit_log" else "decision"
    for statement in (f"UPDATE {table} SET {column} = 'reject'", f"DELETE FROM {table}"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with core.session_factory() as s, s.begin():
                await s.execute(text(statement))
    assert len(await steps(core, cr.id)) >= 6


async def test_csv_export(core):
    people = await make_engagement(core)
    cr1 = await pending_cr(core, people)
    await _approve(core, people, cr1)
    cr2 = await pending_cr(core, people, requester="dev")
    r = await click(core, people["carol"], "cr.reject", str(cr2.id))
    await submit(core, people["carol"], r.form.form_id, {"reason": 'Too costly, "for now"\nmaybe Q3'}, r.form.state)
    await file_cr(core, people["dev"], title='=HYPERLINK("http://x")', wanted_by="")

    r = await run(core, people["dev"], "/cr export")
    assert not r.public  # posted through the outbox, in the channel where it was asked
    await core.drain()
    [posted] = [d for d in sent(core) if d.op == "post" and d.card.attachments]
    assert posted.channel_id == "general"
    files = {a.filename.split("-2027")[0]: a for a in posted.card.attachments}
    assert set(files) == {"ACME-change-requests", "ACME-change-request-history"}
    assert all(a.mime == "text/csv" for a in files.values())

    def rows(a):
        return list(csv.DictReader(io.StringIO(base64.b64decode(a.content_b64).decode("utf-8"))))

    requests = rows(files["ACME-change-requests"])
    assert [(x["id"], x["state"]) for x in requests] == [
        ("ACME-CR-1", "approved"),
        ("ACME-CR-2", "rejected"),
        ("ACME-CR-3", "submitted"),
    ]
    first = requests[0]
    assert first["cost"] == "6000.00" and first["effort_hours"] == "40.00" and first["requested_by"] == "Carol"
    assert first["wanted_by"] == "2027-03-03" and first["requested_at_utc"] == "2027-01-04T08:00:00+00:00"
    assert "Alice: approve at 2027-01-04T08:00:00+00:00" in first["decisions_this_round"]
    assert requests[1]["decision_comment"] == 'Too costly, "for now"\nmaybe Q3'
    assert requests[2]["title"] == '\'=HYPERLINK("http://x")'  # no formula in a spreadsheet

    history = rows(files["ACME-change-request-history"])
    cr1_steps = [(h["action"], h["from_state"], h["to_state"], h["by"]) for h in history if h["request"] == "ACME-CR-1"]
    assert cr1_steps == [
        ("submit", "", "submitted", "Carol"),
        ("assess", "submitted", "assessed", "Victor"),
        ("request_approval", "assessed", "pending_approval", "Cadence"),
        ("approve", "pending_approval", "pending_approval", "Alice"),
        ("approve", "pending_approval", "pending_approval", "Victor"),
        ("approve", "pending_approval", "approved", "Victor"),
    ]
    rejected = [h for h in history if h["request"] == "ACME-CR-2" and h["to_state"] == "rejected"]
    assert rejected[0]["comment"] == 'Too costly, "for now"\nmaybe Q3' and rejected[0]["by"] == "Carol"
    assert len(history) == len([e for i in (cr1.id, cr2.id, cr2.id + 1) for e in await steps(core, i)])

    # From a DM the files come to the DM.
    await run(core, people["dev"], "/cr export", where=dm(people["dev"]))
    await core.drain()
    assert [d for d in sent(core) if d.op == "post" and d.card.attachments][-1].channel_id == "dm:dev"


async def test_contingency_drawn_and_warned_at_80_percent(core):
    people = await make_engagement(core)
    # 15 % contingency: 15 000
    await agree(core, people["alice"], "/cadence settings budget 100000", people["victor"])
    cr1 = await pending_cr(core, people, cost="6000")
    text1 = card_text(updates(core, "ACME-CR-1")[-1].card)
    assert "committed 0.00 of 15,000.00 (0 %); remaining 15,000.00" in text1
    await _approve(core, people, cr1)
    assert not posts(core, "contingency is committed")
    cr2 = await pending_cr(core, people, cost="7000")
    assert "committed 6,000.00 of 15,000.00 (40 %); remaining 9,000.00" in card_text(
        updates(core, "ACME-CR-2")[-1].card
    )
    cr3 = await pending_cr(core, people, cost="3000.50")
    await _approve(core, people, cr2)  # 13 000 of 15 000: crosses 80 %
    [warning] = posts(core, "contingency is committed")
    assert "87 %" in warning.card.title and "13,000.00 of the 15,000.00" in warning.text
    # CR-3's card was refreshed: it would now overdraw the fund, and says so before approval.
    text3 = card_text(updates(core, "ACME-CR-3")[-1].card)
    assert "committed 13,000.00 of 15,000.00 (87 %); remaining 2,000.00" in text3
    assert "would exceed the contingency by 1,000.50" in text3
    await _approve(core, people, cr3)
    assert len(posts(core, "contingency is committed")) == 1  # once per crossing
    text3 = card_text(updates(core, "ACME-CR-3")[-1].card)
    assert "remaining -1,000.50" in text3 and "would exceed" not in text3
    assert str((await get(core, cr3.id)).cost) == "3000.50"
    # Rejected or withdrawn requests draw nothing; delivered ones stay drawn.
    await run(core, people["victor"], "/cr schedule 1")
    await run(core, people["victor"], "/cr deliver 1")
    await pending_cr(core, people, cost="100")
    await run(core, people["carol"], "/cr withdraw 4")
    await core.drain()
    assert "committed 16,000.50 of 15,000.00" in card_text(updates(core, "ACME-CR-4")[-1].card)
    assert dms_to(core, "carol", "was approved")


async def test_cr_settings(core):
    people = await make_engagement(core)
    r = await run(core, people["carol"], "/cr settings currency EUR")
    assert "Only the client sponsor or the vendor PM" in said(r)
    r = await run(core, people["alice"], "/cr settings currency eur")
    assert "EUR — shown before amounts" in said(r)
    for bad in ("reminder 25:00", "escalate 0", "warn 101", "currency 12", "colour blue"):
        r = await run(core, people["victor"], f"/cr settings {bad}")
        assert r.private[0].tone == "warning", bad
    await run(core, people["victor"], "/cr settings reminder 9:30")
    await agree(core, people["alice"], "/cadence settings budget 100000", people["victor"])
    # Once a budget was agreed in EUR, one side cannot relabel it in another currency.
    r = await run(core, people["victor"], "/cr settings currency USD")
    assert "would relabel agreed amounts" in said(r) and "Nothing was changed" in said(r)
    cr = await pending_cr(core, people, cost="6000")
    assert "Cost: EUR 6,000.00" in card_text(updates(core, "ACME-CR-1")[-1].card)
    due = sorted(t.due_at.isoformat() for t in await timers(core, f"cr.remind:{cr.id}:"))
    assert due == ["2027-01-05T04:00:00+00:00", "2027-01-05T09:30:00+00:00"]  # 09:30 in Kolkata and London
    r = await run(core, people["dev"], "/cr settings")
    assert "09:30" in said(r)
