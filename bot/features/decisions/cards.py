"""The neutral cards of decisions and action items: a decision's card (with its Dispute button while it may be
disputed), an action item's card (with Done), a meeting's minutes (every decision and action item recorded
from it, in one card), and the lists. Times are inline tokens: each reader sees their own zone."""

from __future__ import annotations

from datetime import date

from bot.features.decisions.queries import action_ref, decision_ref
from bot.kernel.messages import Button, Card, Field
from bot.kernel.text import day_text, truncate, when
from bot.kernel.text import person as mention
from storage.models import Engagement, Person
from storage.models.decisions import ActionItem, Decision

DISPUTE = "decision.dispute"
DONE = "action.done"
MINUTES = "decision.minutes"


def _who(people: dict[int, Person], person_id: int | None) -> str:
    p = people.get(person_id or 0)
    return mention(p.id, p.display_name) if p else "someone no longer known"


def decision_fields(eng: Engagement, d: Decision, people: dict[int, Person]) -> list[Field]:
    fields = [Field("Decided by", _who(people, d.decided_by_id)), Field("When", when(d.decided_at))]
    if d.meeting_ref:
        fields.append(Field("Meeting", d.meeting_ref))
    if d.link_ref:
        fields.append(Field("Link", d.link_ref))
    if d.disputed_at is not None:
        fields.append(
            Field(
                "⚠️ Disputed",
                f"by {_who(people, d.disputed_by_id)} {when(d.disputed_at)}: {d.dispute_reason or ''}",
                short=False,
            )
        )
    return fields


def dispute_button(d: Decision) -> Button:
    return Button("Dispute", DISPUTE, str(d.id))


def decision_card(eng: Engagement, d: Decision, people: dict[int, Person]) -> Card:
    disputed = d.disputed_at is not None
    return Card(
        title=f"Decision {decision_ref(eng, d)}" + (" · disputed" if disputed else ""),
        text=d.text,
        fields=decision_fields(eng, d, people),
        buttons=[] if disputed else [dispute_button(d)],
        footer="" if disputed else f"Either side may dispute it until {when(d.dispute_closes_at)}.",
        tone="warning" if disputed else "info",
    )


def done_allowed(item: ActionItem, admins: tuple[int, ...]) -> tuple[int, ...]:
    """Who may mark it done: the owner, the creator and the admins of either side."""
    ids = [item.owner_id, *([item.created_by_id] if item.created_by_id else []), *admins]
    return tuple(dict.fromkeys(ids))


def action_fields(item: ActionItem, people: dict[int, Person], today: date) -> list[Field]:
    due = day_text(item.due_date) + (" · overdue" if item.state == "open" and item.due_date < today else "")
    fields = [Field("Owner", _who(people, item.owner_id)), Field("Due", due)]
    if item.meeting_ref:
        fields.append(Field("Meeting", item.meeting_ref))
    if item.from_standup_answer_id:
        fields.append(Field("From", "a standup blocker"))
    if item.state == "done" and item.done_at is not None:
        fields.append(Field("✅ Done", f"by {_who(people, item.done_by_id)} {when(item.done_at)}"))
    return fields


def action_card(
    eng: Engagement, item: ActionItem, people: dict[int, Person], today: date, admins: tuple[int, ...]
) -> Card:
    done = item.state == "done"
    return Card(
        title=f"Action {action_ref(eng, item)}" + (" · done" if done else ""),
        text=item.text,
        fields=[*action_fields(item, people, today), Field("Recorded by", _who(people, item.created_by_id))],
        buttons=[] if done else [Button("Done", DONE, str(item.id), allowed=done_allowed(item, admins))],
        tone="good" if done else "info",
    )


def minutes_card(
    eng: Engagement,
    meeting: str,
    decisions: list[Decision],
    items: list[ActionItem],
    people: dict[int, Person],
    today: date,
    admins: tuple[int, ...],
) -> Card:
    """Everything recorded from one meeting, in one card: each decision and each action item a section with
    its own button."""
    sections = [
        Card(
            title=f"Decision {decision_ref(eng, d)}" + (" · disputed" if d.disputed_at else ""),
            text=d.text,
            fields=[f for f in decision_fields(eng, d, people) if f.label not in ("Meeting", "When")],
            buttons=[] if d.disputed_at else [dispute_button(d)],
        )
        for d in decisions
    ]
    sections += [
        Card(
            title=f"Action {action_ref(eng, i)}" + (" · done" if i.state == "done" else ""),
            text=i.text,
            fields=[f for f in action_fields(i, people, today) if f.label != "Meeting"],
            buttons=[] if i.state == "done" else [Button("Done", DONE, str(i.id), allowed=done_allowed(i, admins))],
        )
        for i in items
    ]
    closes = min((d.dispute_closes_at for d in decisions), default=None)
    return Card(
        title=f"Decisions and action items · {meeting}",
        text=f"{len(decisions)} decisions, {len(items)} action items.",
        sections=sections,
        footer=f"Either side may dispute a decision until {when(closes)}." if closes else "",
    )


def decision_line(eng: Engagement, d: Decision, people: dict[int, Person]) -> str:
    flag = " · ⚠️ disputed" if d.disputed_at else ""
    return (
        f"{decision_ref(eng, d)}{flag} · {truncate(d.text, 120)} — {_who(people, d.decided_by_id)}, "
        f"{when(d.decided_at, 'date')}"
    )


def action_line(eng: Engagement, item: ActionItem, people: dict[int, Person], today: date) -> str:
    if item.state == "done":
        state = "done"
    elif item.due_date < today:
        state = f"⚠️ overdue since {day_text(item.due_date)}"
    else:
        state = f"due {day_text(item.due_date)}"
    return f"{action_ref(eng, item)} · {truncate(item.text, 120)} — {_who(people, item.owner_id)}, {state}"


def reminder_card(eng: Engagement, item: ActionItem, admins: tuple[int, ...]) -> Card:
    return Card(
        title=f"Action {action_ref(eng, item)} is due {day_text(item.due_date)}",
        text=f"{item.text}\nMark it done with the button or `/action done {action_ref(eng, item)}`.",
        buttons=[Button("Done", DONE, str(item.id), allowed=done_allowed(item, admins))],
        tone="warning",
    )


def overdue_card(eng: Engagement, item: ActionItem, people: dict[int, Person]) -> Card:
    return Card(
        text=f"⚠️ Action {action_ref(eng, item)} is overdue: “{truncate(item.text, 300)}”, owned by "
        f"{_who(people, item.owner_id)}, was due {day_text(item.due_date)}.",
        tone="danger",
    )
