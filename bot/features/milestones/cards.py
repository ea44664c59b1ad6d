"""What milestones look like: the acceptance card of a round, the rectification items, a due-date proposal,
the project acceptance, and `/milestone show`. Pure: everything a card shows is passed in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from bot.features.milestones.queries import Readiness, item_ref, ref
from bot.features.milestones.window import ClientCalendar
from bot.kernel.messages import Button, Card, Field
from bot.kernel.text import day_text, plural, truncate, when
from bot.kernel.text import person as mention
from storage.models import AuditEntry, Engagement, Person
from storage.models.milestones import (
    Milestone,
    MilestoneChange,
    MilestoneRound,
    ProjectAcceptance,
    RectificationItem,
)

STATE_LABEL = {
    "planned": "Planned",
    "submitted": "Submitted — waiting for the client's decision",
    "rejected": "Rejected — rectification, then resubmission",
    "accepted": "Accepted",
    "deemed_accepted": "Deemed accepted",
}
OUTCOME_LABEL = {
    "accepted": "Accepted",
    "accepted_with_remarks": "Accepted with remarks",
    "rejected": "Rejected",
    "deemed_accepted": "Deemed accepted (the window ended without a decision)",
}


def acceptance_key(milestone: Milestone, round_: int) -> str:
    return f"milestone:{milestone.id}:{round_}"


def items_key(milestone: Milestone, round_: int) -> str:
    return f"milestone_items:{milestone.id}:{round_}"


def change_key(change: MilestoneChange) -> str:
    return f"milestone_change:{change.id}"


def _who(people: dict[int, Person], pid: int | None) -> str:
    p = people.get(pid or 0)
    return mention(p.id, p.display_name) if p else "Cadence"


def window_text(calendar: ClientCalendar, rnd: MilestoneRound, skipped: list[tuple[date, str]]) -> str:
    # The window closes at the local midnight after its last business day.
    last = calendar.local_date(rnd.window_ends_at) - timedelta(days=1)
    text = (
        f"{plural(rnd.window_days, 'business day')} in the client's calendar ({calendar.tz}"
        + (f", {calendar.country} holidays off" if calendar.country else "")
        + f"): decide by {when(rnd.window_ends_at)}"
    )
    text += f" (the end of {day_text(last)})"
    if skipped:
        text += ". Skipped: " + ", ".join(f"{name} ({day_text(day)})" for day, name in skipped)
    return text


@dataclass
class AcceptanceView:
    engagement: Engagement
    milestone: Milestone
    round: MilestoneRound
    readiness: Readiness
    calendar: ClientCalendar
    skipped: list[tuple[date, str]] = field(default_factory=list)
    approvers: tuple[int, ...] = ()
    people: dict[int, Person] = field(default_factory=dict)
    open_items: list[RectificationItem] = field(default_factory=list)
    warranty_months: int = 6


def acceptance_card(v: AcceptanceView) -> Card:
    m, rnd, eng = v.milestone, v.round, v.engagement
    r = ref(eng, m)
    fields = [
        Field("Delivered", rnd.delivered, short=False),
        Field("Acceptance criteria", m.criteria or "none recorded (`/milestone criteria`)", short=False),
    ]
    if m.deliverables:
        fields.append(Field("Planned deliverables", m.deliverables, short=False))
    fields.append(Field("Readiness", v.readiness.text(), short=False))
    fields.append(Field("Acceptance window", window_text(v.calendar, rnd, v.skipped), short=False))
    if v.open_items:
        fields.append(
            Field(
                "Rectification items still open",
                "\n".join(f"{item_ref(eng, m, i)} {truncate(i.text, 120)}" for i in v.open_items),
                short=False,
            )
        )
    fields.append(
        Field("Submitted", f"{_who(v.people, rnd.submitted_by_id)}, {when(rnd.submitted_at)} · round {rnd.round}")
    )
    text = ""
    if m.final:
        text = (
            f"This is the final milestone: accepting it is the project acceptance and starts the "
            f"{v.warranty_months}-month warranty."
        )
    buttons: list[Button] = []
    if rnd.outcome is None:
        value = f"{m.id}:{rnd.round}"
        allowed = v.approvers or None
        buttons = [
            Button("Accept", "milestone.accept", value, "primary", allowed=allowed),
            Button("Accept with remarks", "milestone.remarks", value, allowed=allowed),
            Button("Reject", "milestone.reject", value, "danger", allowed=allowed),
        ]
        status = "Waiting for the client sponsor or client PM (one decision settles the round)"
        tone = "warning"
    else:
        status = OUTCOME_LABEL.get(rnd.outcome, rnd.outcome)
        if rnd.decided_by_id:
            status += f" by {_who(v.people, rnd.decided_by_id)}"
        if rnd.decided_at:
            status += f", {when(rnd.decided_at)}"
        if rnd.remarks:
            status += f"\n“{rnd.remarks}”"
        tone = "danger" if rnd.outcome == "rejected" else "good"
    fields.append(Field("Status", status, short=False))
    return Card(
        title=f"Acceptance: {r} · {truncate(m.title, 80)} (round {rnd.round})",
        text=text,
        fields=fields,
        buttons=buttons,
        tone=tone,
        footer="Only the client sponsor or client PM can decide." if rnd.outcome is None else "",
    )


def items_card(
    eng: Engagement, m: Milestone, round_: int, items: list[RectificationItem], vendor: tuple[int, ...]
) -> Card:
    lines, buttons = [], []
    for i in items:
        state = f"done {when(i.done_at, 'date')}" if i.done_at else f"due {day_text(i.due_date)}"
        lines.append(f"{item_ref(eng, m, i)} — {i.text} ({state})")
        if i.done_at is None:
            buttons.append(Button(f"Done: R{i.number}", "milestone.done", str(i.id), allowed=vendor or None))
    left = sum(1 for i in items if i.done_at is None)
    return Card(
        title=f"Rectification: {ref(eng, m)} · {truncate(m.title, 80)} (round {round_})",
        text="\n".join(lines),
        buttons=buttons,
        tone="warning" if left else "good",
        footer=(
            f"{plural(left, 'item')} open. The vendor marks each done (`/milestone done {ref(eng, m)}-R1`) and "
            f"resubmits with `/milestone submit {ref(eng, m)} | what changed`."
            if left
            else f"All done. Resubmit with `/milestone submit {ref(eng, m)} | what changed`."
        ),
    )


def change_card(
    eng: Engagement,
    m: Milestone,
    change: MilestoneChange,
    proposer: Person | None,
    deciding: tuple[int, ...] = (),
    proposing: tuple[int, ...] = (),
) -> Card:
    other = "vendor" if change.proposed_side == "client" else "client"
    status = {
        "pending": f"Waiting for the {other} side's admins",
        "approved": "Approved",
        "rejected": "Rejected",
        "withdrawn": "Withdrawn",
    }.get(change.status, change.status)
    who = mention(proposer.id, proposer.display_name) if proposer else "Cadence"
    buttons = []
    if change.status == "pending":
        v = str(change.id)
        buttons = [
            Button("Approve", "milestone.change_approve", v, "primary", allowed=deciding or None),
            Button("Reject", "milestone.change_reject", v, "danger", allowed=deciding or None),
            Button("Withdraw", "milestone.change_withdraw", v, allowed=proposing or None),
        ]
    return Card(
        title=f"Due date of {ref(eng, m)} · {truncate(m.title, 80)} — proposal #{change.id}",
        fields=[
            Field("Change", f"{day_text(change.old_due)} → {day_text(change.new_due)}", short=False),
            Field("Proposed by", f"{who} ({change.proposed_side} side), {when(change.proposed_at)}"),
            Field("Status", status),
        ],
        buttons=buttons,
        tone="warning" if change.status == "pending" else ("good" if change.status == "approved" else "info"),
        footer="No effect until the other side approves." if change.status == "pending" else "",
    )


def acceptance_record_card(eng: Engagement, m: Milestone, record: ProjectAcceptance, by: Person | None) -> Card:
    who = "deemed accepted (the window ended without a decision)" if record.deemed else ""
    if by is not None:
        who = f"accepted by {mention(by.id, by.display_name)}"
    fields = [
        Field("Final milestone", f"{ref(eng, m)} · {m.title}", short=False),
        Field(
            "Project acceptance",
            f"{who}, {when(record.accepted_at)} (acceptance date {day_text(record.accepted_on)})",
        ),
        Field("Warranty", f"{record.warranty_months} months, until {day_text(record.warranty_until)}"),
    ]
    if record.remarks:
        fields.append(Field("Remarks", record.remarks, short=False))
    return Card(
        title=f"{eng.key}: project accepted — the warranty has started",
        fields=fields,
        tone="good",
        footer="During the warranty, faults are fixed at no cost on the agreed SLA. A warranty review is held "
        "before it ends.",
    )


def show_card(
    eng: Engagement,
    m: Milestone,
    rounds: list[MilestoneRound],
    items: list[RectificationItem],
    pending: MilestoneChange | None,
    history: list[AuditEntry],
    people: dict[int, Person],
) -> Card:
    fields = [
        Field("State", STATE_LABEL.get(m.state, m.state)),
        Field("Due", day_text(m.due_date) + (" · final milestone" if m.final else "")),
        Field("Deliverables", m.deliverables or "not set (`/milestone deliverables`)", short=False),
        Field("Acceptance criteria", m.criteria or "not set (`/milestone criteria`)", short=False),
        Field("Rounds", plural(len(rounds), "round"), short=True),
    ]
    sections = []
    for rnd in rounds:
        line = (
            f"Submitted by {_who(people, rnd.submitted_by_id)} {when(rnd.submitted_at)}; window "
            f"{plural(rnd.window_days, 'business day')}, until {when(rnd.window_ends_at)}."
        )
        if rnd.outcome:
            line += f"\n{OUTCOME_LABEL.get(rnd.outcome, rnd.outcome)}"
            if rnd.decided_by_id:
                line += f" by {_who(people, rnd.decided_by_id)}"
            if rnd.decided_at:
                line += f" {when(rnd.decided_at)}"
            if rnd.remarks:
                line += f": “{truncate(rnd.remarks, 300)}”"
        else:
            line += "\nOpen: waiting for the client's decision."
        sections.append(Card(title=f"Round {rnd.round}", text=line))
    if items:
        sections.append(
            Card(
                title="Rectification items",
                text="\n".join(
                    f"{item_ref(eng, m, i)} (round {i.round}) — {truncate(i.text, 150)} — "
                    + (f"done {when(i.done_at, 'date')}" if i.done_at else f"due {day_text(i.due_date)}")
                    for i in items
                ),
            )
        )
    if pending is not None:
        sections.append(
            Card(
                title=f"Pending proposal #{pending.id}",
                text=f"Due date {day_text(pending.old_due)} → {day_text(pending.new_due)}, waiting for the other "
                "side's admins.",
            )
        )
    if history:
        sections.append(
            Card(
                title="History",
                text="\n".join(
                    f"{when(e.at)} {e.actor_label}: {e.action}"
                    + (f" ({e.from_state} → {e.to_state})" if e.from_state != e.to_state else "")
                    + (f" — {truncate(e.comment, 120)}" if e.comment else "")
                    for e in history[-25:]
                ),
            )
        )
    return Card(title=f"{ref(eng, m)} · {m.title}", fields=fields, sections=sections)
