"""Helpers for the change-request tests: file, assess, look at rows, decisions and the audit record."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.features.change_requests import forms
from storage.models import AuditEntry, Timer
from storage.models.change_requests import ChangeRequest, ChangeRequestDecision
from tests.helpers import click, reply_text, run, sent, submit

SCOPE = {
    "title": "Single sign-on",
    "description": "Log in with the corporate IdP (SAML).",
    "business_reason": "Security audit finding 12",
    "priority": "high",
    "wanted_by": "march 3",
}
ESTIMATE = {"effort_hours": "40", "cost": "6,000", "schedule_impact_days": "5", "risk": "medium", "notes": ""}


async def file_cr(core, who, **overrides: Any) -> ChangeRequest:
    """`/cr new` then submit the intake form; returns the new request."""
    r = await run(core, who, "/cr new")
    assert r.form is not None and r.form.form_id == forms.NEW, reply_text(r)
    r = await submit(core, who, forms.NEW, {**SCOPE, **overrides}, r.form.state)
    assert not r.errors, r.errors
    assert "Filed" in reply_text(r), reply_text(r)
    await core.drain()
    return await latest(core)


async def assess(core, who, cr: ChangeRequest, **overrides: Any):
    r = await click(core, who, "cr.assess", str(cr.id))
    assert r.form is not None, reply_text(r)
    r = await submit(core, who, forms.ASSESS, {**ESTIMATE, **overrides}, r.form.state)
    await core.drain()
    return r


async def pending_cr(core, people, requester="carol", **estimate: Any) -> ChangeRequest:
    cr = await file_cr(core, people[requester])
    r = await assess(core, people["victor"], cr, **estimate)
    assert "sent for approval" in reply_text(r), reply_text(r)
    return await get(core, cr.id)


async def latest(core) -> ChangeRequest:
    async with core.session_factory() as s:
        return await s.scalar(select(ChangeRequest).order_by(ChangeRequest.id.desc()).limit(1))


async def get(core, cr_id: int) -> ChangeRequest:
    async with core.session_factory() as s:
        return await s.get(ChangeRequest, cr_id)


async def decisions(core, cr_id: int) -> list[ChangeRequestDecision]:
    async with core.session_factory() as s:
        return list(
            await s.scalars(
                select(ChangeRequestDecision)
                .where(ChangeRequestDecision.request_id == cr_id)
                .order_by(ChangeRequestDecision.id)
            )
        )


async def steps(core, cr_id: int) -> list[AuditEntry]:
    async with core.session_factory() as s:
        return list(
            await s.scalars(
                select(AuditEntry)
                .where(AuditEntry.entity_type == "change_request", AuditEntry.entity_id == cr_id)
                .order_by(AuditEntry.id)
            )
        )


async def transitions(core, cr_id: int) -> list[tuple[str | None, str | None]]:
    return [(e.from_state, e.to_state) for e in await steps(core, cr_id) if e.from_state != e.to_state]


async def timers(core, prefix: str, status: str | None = "pending") -> list[Timer]:
    async with core.session_factory() as s:
        q = select(Timer).where(Timer.key.like(prefix + "%")).order_by(Timer.due_at, Timer.id)
        if status:
            q = q.where(Timer.status == status)
        return list(await s.scalars(q))


def dms_to(core, name: str, contains: str = "") -> list:
    return [d for d in sent(core) if d.op == "dm" and d.address.get("user_id") == name and contains in d.text]


def posts(core, contains: str = "") -> list:
    return [d for d in sent(core) if d.op == "post" and contains in d.text]


def updates(core, contains: str = "") -> list:
    return [d for d in sent(core) if d.op == "update" and contains in d.text]


def card_text(card) -> str:
    """A card's text with its sections and buttons (Card.plain() leaves sections out)."""
    parts = [card.plain()] + [card_text(s) for s in card.sections]
    parts += [f"[{b.label}]" for b in card.buttons]
    return "\n".join(p for p in parts if p)


def said(reply) -> str:
    parts = [card_text(c) for c in [*reply.private, *reply.public]]
    if reply.form:
        parts.append(reply.form.title)
    parts.extend(reply.errors.values())
    return "\n".join(parts)
