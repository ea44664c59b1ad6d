"""The warranty on a defect's card (from the milestones' project acceptance): in warranty until its end;
filed after it, out of warranty, and the client's admins may convert it to a change request — the intake form
pre-filled, the request and the defect linked both ways, audited."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.features.change_requests import forms as cr_forms
from storage.models import AuditEntry
from storage.models.change_requests import ChangeRequest
from tests.features.defects.support import defect, engagement
from tests.features.milestones.support import card_text, person_id, said
from tests.helpers import click, run, submit


async def test_in_warranty_then_out_and_converted_to_a_change_request(core, clock):
    people = await engagement(core)
    alice, carol, victor = people["alice"], people["carol"], people["victor"]
    await run(core, carol, "/defect s3 Typo before the acceptance")
    assert "warranty" not in card_text((await run(core, carol, "/defect show 1")).private[0]).lower()
    await run(core, victor, "/milestone add Go-live due feb 26 final")
    await run(core, victor, "/milestone submit 1 | Release 1.0")
    await run(core, alice, "/milestone accept 1")  # Mon 4 Jan 2027 (London): warranty until 4 Jul 2027
    await run(core, carol, "/defect s3 Typo on the invoice")
    card = (await run(core, carol, "/defect show 2")).private[0]
    assert "In warranty until 2027-07-04" in card_text(card), card_text(card)
    assert "Convert to change request" not in card_text(card)
    d2 = await defect(core, 2)
    r = await click(core, carol, "defect.convert", str(d2.id))
    assert r.refused and "not filed after the warranty ended" in said(r)

    clock.set(datetime(2027, 7, 5, 12, 0, tzinfo=UTC))
    await run(core, carol, "/defect s3 Export is slow")
    d3 = await defect(core, 3)
    assert d3.out_of_warranty
    card = (await run(core, carol, "/defect show 3")).private[0]
    assert "Out of warranty (filed after the warranty ended 2027-07-04)" in card_text(card)
    button = next(b for b in card.buttons if b.label == "Convert to change request")
    assert set(button.allowed) == {await person_id(core, "alice"), await person_id(core, "carol")}
    r = await click(core, victor, "defect.convert", button.value)
    assert r.refused and "Only the client sponsor or client PM" in said(r)

    r = await click(core, carol, "defect.convert", button.value)
    assert r.form is not None and r.form.form_id == cr_forms.NEW
    initial = {i.id: i.initial for i in r.form.inputs}
    assert initial["title"] == "Export is slow" and "Converted from ACME-D-3" in initial["description"]
    values = {
        "title": "Faster export",
        "description": initial["description"],
        "business_reason": "Month end",
        "priority": "medium",
        "wanted_by": "",
    }
    r = await submit(core, carol, cr_forms.NEW, values, r.form.state)
    assert "Filed ACME-CR-1" in said(r), said(r)
    async with core.session_factory() as s:
        cr = await s.scalar(select(ChangeRequest))
        assert cr.defect_id == d3.id
        actions = list(await s.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "defect")))
        assert "converted_to_change_request" in actions
    card = (await run(core, carol, "/defect show 3")).private[0]
    assert "Converted to change request ACME-CR-1" in card_text(card)
    assert "Convert to change request" not in card_text(card)
    assert "Converted from: defect ACME-D-3" in said(await run(core, carol, "/cr show ACME-CR-1"))
    # The form's hidden state is not trusted: a second conversion of the same defect is refused.
    r = await submit(core, carol, cr_forms.NEW, values, {cr_forms.FROM_DEFECT: d3.id})
    assert r.refused and "already converted to ACME-CR-1" in said(r), said(r)
