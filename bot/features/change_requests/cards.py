"""What a change request looks like: the neutral Card shown in the home channel and in approvers' DMs, and the
other cards of the feature (lists, policy, settings). Built from what queries.py gathers; nothing here writes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.change_requests.money import fmt, fmt_hours
from bot.features.change_requests.policy import Group, Policy
from bot.features.change_requests.queries import View, view
from bot.features.change_requests.states import State, label
from bot.kernel.contract import minor_rule_text, minor_threshold_text
from bot.kernel.messages import Button, Card, Field
from bot.kernel.text import day_text, plural, truncate, when
from storage.models import AuditEntry, Engagement
from storage.models.change_requests import ChangeRequest, ChangeRequestDecision

PRIORITIES = ("low", "medium", "high", "critical")
RISKS = ("low", "medium", "high")

TONE = {
    State.SUBMITTED: "info",
    State.ASSESSED: "info",
    State.PENDING_APPROVAL: "warning",
    State.APPROVED: "good",
    State.SCHEDULED: "good",
    State.DELIVERED: "good",
    State.REJECTED: "danger",
    State.WITHDRAWN: "info",
}


def ref(engagement: Engagement, cr: ChangeRequest) -> str:
    return f"{engagement.key}-CR-{cr.number}"


def ref_key(cr: ChangeRequest) -> str:
    """The outbox key of the request's card: every copy (channel, DMs) is edited in place under it."""
    return f"cr:{cr.id}"


def day(d: date | None) -> str:
    return day_text(d) if d else "—"


def decision_line(v: View, d: ChangeRequestDecision) -> str:
    verb = "approved" if d.decision == "approve" else "rejected"
    who = v.who(d.decided_by_id)
    if d.decided_by_id != d.approver_id:
        who += f" on behalf of {v.who(d.approver_id)}"
    line = f"{'✅' if d.decision == 'approve' else '❌'} {who} {verb} — {when(d.at)}"
    if d.comment:
        line += f" — “{truncate(d.comment, 300)}”"
    return line


def approvals_section(v: View) -> Card | None:
    if v.tally is None:
        return None
    by_approver = {d.approver_id: d for d in v.decisions}
    lines = []
    for g in v.tally.groups:
        need = g.group.describe(len(g.eligible))
        status = "✔ quorum reached" if g.met else ("optional" if not g.required else "waiting")
        lines.append(f"{g.group.name.capitalize()} side — {need} must approve ({status})")
        for pid in g.eligible:
            d = by_approver.get(pid)
            if d is not None:
                lines.append("  " + decision_line(v, d))
            else:
                extra = f" ({v.away[pid]})" if pid in v.away else ""
                lines.append(f"  ⏳ {v.who(pid)}{extra}")
        if not g.eligible:
            lines.append("  (nobody)")
    for problem in v.tally.problems:
        lines.append(f"⚠️ {problem}")
    title = "Approvals" + (f" (round {v.cr.round})" if v.cr.round > 1 else "")
    return Card(title=title, text="\n".join(lines))


def minor_section(v: View) -> Card | None:
    """Which rule decides: the minor-change rule when the estimate is under the round's threshold, or a word
    that it no longer is after a revised estimate."""
    minor = v.policy.minor
    if minor is None or v.cr.assessed_at is None:
        return None
    threshold = minor_threshold_text(minor.to_dict())
    if v.policy.minor_applied:
        return Card(text=f"Minor change ({threshold}): {minor_rule_text(minor.to_dict())} decides.", tone="info")
    if v.was_minor:
        return Card(
            text=f"No longer a minor change: the revised estimate is not {threshold}, so each side's own approval "
            "rule applies again.",
            tone="warning",
        )
    return None


def contingency_field(v: View) -> Field:
    c = v.contingency
    if c.fund is None:
        return Field("Contingency", "no budget set (`/cadence settings budget …`)", short=False)
    pct = c.ratio()
    share = f" ({pct * 100:.0f} %)" if pct is not None else ""
    return Field(
        "Contingency",
        f"committed {fmt(c.committed, v.currency)} of {fmt(c.fund, v.currency)}{share}; "
        f"remaining {fmt(c.remaining, v.currency)}",
        short=False,
    )


def who_decides(v: View) -> tuple[int, ...] | None:
    """Who may press Approve / Reject: the approvers of this round and the delegate of each (a delegate
    decides while their approver is away, which can change from one day to the next, so every delegate is
    named). Never the requester. None when the tally is unknown: the buttons are then shown to everyone and
    the server refuses whoever may not decide (`seats_for`), as it always does."""
    if v.tally is None:
        return None
    ids: list[int] = []
    for pid in v.tally.approvers():
        p = v.people.get(pid)
        for who in (pid, p.delegate_id if p is not None else None):
            if who is not None and who != v.cr.requester_id and who not in ids:
                ids.append(who)
    return tuple(ids)


def build(v: View) -> Card:
    """The request's card. Buttons only while they can do something; the server re-checks every click."""
    cr, state = v.cr, State(v.cr.state)
    fields = [
        Field(
            "State", label(state) + (f" (round {cr.round})" if state == State.PENDING_APPROVAL and cr.round > 1 else "")
        ),
        Field("Priority", cr.priority.capitalize()),
        Field("Requested by", f"{v.who(cr.requester_id)} — {when(cr.created_at)}"),
        Field("Wanted by", day(cr.wanted_by)),
    ]
    if cr.business_reason:
        fields.append(Field("Business reason", truncate(cr.business_reason, 1000), short=False))
    if cr.assessed_at is not None:
        fields += [
            Field("Effort", fmt_hours(cr.effort_hours)),
            Field("Cost", fmt(cr.cost, v.currency)),
            Field(
                "Schedule impact",
                plural(cr.schedule_impact_days, "day") if cr.schedule_impact_days is not None else "—",
            ),
            Field("Risk", (cr.risk or "—").capitalize()),
            Field("Assessed by", f"{v.who(cr.assessed_by_id)} — {when(cr.assessed_at)}", short=False),
        ]
        if cr.assessment_notes:
            fields.append(Field("Assessment notes", truncate(cr.assessment_notes, 1000), short=False))
    if cr.scheduled_for:
        fields.append(Field("Scheduled for", day(cr.scheduled_for)))
    if v.milestone:
        fields.append(Field("Milestone", v.milestone, short=False))
    if v.defect:
        fields.append(Field("Converted from", f"defect {v.defect} (filed after the warranty ended)", short=False))
    fields.append(contingency_field(v))

    sections: list[Card] = []
    if state in (State.SUBMITTED, State.ASSESSED, State.PENDING_APPROVAL) and cr.cost is not None:
        over = v.contingency.would_exceed(cr.cost)
        if over is not None:
            sections.append(
                Card(
                    text=f"⚠️ Approving this request would exceed the contingency by {fmt(over, v.currency)} "
                    f"(remaining {fmt(v.contingency.remaining, v.currency)}, cost {fmt(cr.cost, v.currency)}).",
                    tone="danger",
                )
            )
    minor = minor_section(v)
    if minor is not None:
        sections.append(minor)
    approvals = approvals_section(v)
    if approvals is not None:
        sections.append(approvals)
    if state in (State.REJECTED, State.WITHDRAWN) and cr.decision_comment:
        sections.append(
            Card(
                text=f"{label(state)} — {when(cr.decided_at) if cr.decided_at else ''} — "
                f"“{truncate(cr.decision_comment, 500)}”"
            )
        )
    if cr.from_standup_answer_id:
        sections.append(Card(text=f"Raised from a standup blocker (answer #{cr.from_standup_answer_id})."))

    buttons: list[Button] = []
    value = str(cr.id)
    if state == State.SUBMITTED:
        buttons.append(Button("Assess impact", "cr.assess", value, "primary"))
    if state == State.PENDING_APPROVAL:
        deciders = who_decides(v)
        buttons += [
            Button("Approve", "cr.approve", value, "primary", allowed=deciders),
            Button("Reject", "cr.reject", value, "danger", allowed=deciders),
        ]
    if state in (State.SUBMITTED, State.ASSESSED, State.PENDING_APPROVAL):
        buttons.append(Button("Ask a question", "cr.question", value))

    return Card(
        title=f"{ref(v.engagement, cr)} · {cr.title}",
        text=truncate(cr.description, 2000),
        fields=fields,
        sections=sections,
        buttons=buttons,
        footer=f"{ref(v.engagement, cr)} · change request · last change {when(cr.updated_at)}",
        tone=TONE[state],
    )


def history_card(v: View, entries: list[AuditEntry]) -> Card:
    """Every recorded step of the request (the append-only audit), oldest first."""
    lines = []
    for e in entries:
        step = e.action.replace("_", " ")
        if e.from_state != e.to_state and e.to_state:
            step += f": {label(e.from_state).lower() if e.from_state else '—'} → {label(e.to_state).lower()}"
        who = v.who(e.actor_id) if e.actor_id else e.actor_label
        if e.on_behalf_of_id:
            who += f" on behalf of {v.who(e.on_behalf_of_id)}"
        line = f"{when(e.at)} · {who} · {step}"
        if e.comment:
            line += f" — “{truncate(e.comment, 200)}”"
        lines.append(line)
    return Card(title="History", text="\n".join(lines) or "Nothing recorded yet.")


async def card(session: AsyncSession, cr: ChangeRequest, engagement: Engagement, now: datetime) -> Card:
    """The request's card as of `now`."""
    return build(await view(session, cr, engagement, now))


def decision_buttons(cr: ChangeRequest) -> list[Button]:
    """The buttons of a reminder or an escalation: decide, or ask first."""
    v = str(cr.id)
    return [
        Button("Approve", "cr.approve", v, "primary"),
        Button("Reject", "cr.reject", v, "danger"),
        Button("Ask a question", "cr.question", v),
    ]


LIST_TITLES = {
    "open": "Open change requests",
    "mine": "Your change requests",
    "pending-me": "Change requests waiting for your decision",
    "all": "All change requests",
}


def list_card(engagement: Engagement, which: str, rows: list[tuple[ChangeRequest, list[str]]]) -> Card:
    """`/cr list`: one line per request (at most 50), with whom a waiting one waits for."""
    lines = []
    for cr, names in rows:
        extra = f" — waiting for {', '.join(names)}" if names else ""
        lines.append(f"{ref(engagement, cr)} · {truncate(cr.title, 80)} — {label(cr.state)} ({cr.priority}){extra}")
    title = LIST_TITLES[which]
    if len(lines) > 50:
        more = len(lines) - 50
        lines = [*lines[:50], f"… and {more} more (`/cr export` has them all)."]
    return Card(title=f"{title} — {engagement.key}", text="\n".join(lines) or "None.")


def policy_card(engagement: Engagement, pol: Policy, holders: list[tuple[Group, list[str], int]]) -> Card:
    """`/cr policy`: who must approve on each side (with who holds those roles now)."""
    fields = []
    for g, names, count in holders:
        fields.append(
            Field(
                f"{g.name.capitalize()} side",
                f"{', '.join(r.replace('_', ' ') for r in g.roles)} — {g.describe(count)} must "
                f"approve ({', '.join(names) or 'nobody has these roles yet'})",
                short=False,
            )
        )
    fields.append(
        Field(
            "Both sides required",
            "yes"
            if pol.both_sides_required
            else "no (the client side decides; vendor decisions are recorded, a rejection still rejects)",
            short=False,
        )
    )
    if pol.minor is not None:
        m = pol.minor.to_dict()
        fields.append(
            Field(
                "Minor changes (a contract term)",
                f"{minor_threshold_text(m)}: {minor_rule_text(m)} decides, instead of each side's own rule",
                short=False,
            )
        )
    return Card(
        title=f"{engagement.key} approval policy",
        fields=fields,
        footer=(
            "The requester never counts as an approver of their own request. Change with `/cr policy client any`, "
            "`/cr policy vendor 2of3`, `/cr policy both off`, `/cr policy client roles client_sponsor client_pm`, "
            "`/cr policy minor hours 8 | cost 500 | rule any | off` (the other side approves a contract term)."
        ),
    )


CR_SETTINGS = {
    "currency": ("currency", "shown before amounts, an ISO 4217 code, e.g. `EUR` (`none` for no currency)"),
    "reminder": ("reminder_time", "approvers' local reminder time, e.g. `10:00`"),
    "escalate": ("escalate_after_workdays", "work days without a decision before escalation, e.g. `3`"),
    "warn": ("contingency_warn_pct", "warn when this % of the contingency is committed, e.g. `80`"),
}


def settings_card(engagement: Engagement, s: dict[str, object]) -> Card:
    """`/cr settings`: each setting's value and what it does."""
    fields = [
        Field(name, f"{s[key] if s[key] not in ('', None) else 'none'} — {what}", short=False)
        for name, (key, what) in CR_SETTINGS.items()
    ]
    return Card(
        title=f"{engagement.key} change-request settings",
        fields=fields,
        footer="Change one with `/cr settings <name> <value>`; the approval rule is `/cr policy`.",
    )
