"""Neutral cards of the defects feature (rendered by each front end): the filing card, list entries, the
history, SLA notices, the S1 page, the SLA report, the policy and the export. Built from queries.py; nothing
here writes. The forms are in forms.py."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.defects import states as st
from bot.features.defects.policy import HELP as POLICY_HELP
from bot.features.defects.queries import CONVERTERS, clocks, engagement_policy, open_pause, policy_of, ref, warranty
from bot.features.defects.severity import MEANING, SEVERITIES, label
from bot.features.defects.sla import CAL_BUSINESS, Clock
from bot.kernel.messages import Attachment, Button, ButtonStyle, Card, Field
from bot.kernel.people import members_with_roles
from bot.kernel.text import duration, plural, truncate, when
from bot.kernel.text import person as mention
from storage.models import AuditEntry, Engagement, Person
from storage.models.defects import Defect

WARN, BREACH = "warn", "breach"
CONVERT = "defect.convert"  # an out-of-warranty defect → the change-request intake form, pre-filled
TONE = {"s1": "danger", "s2": "warning", "s3": "info", "s4": "info"}
BUTTONS: dict[str, tuple[str, str, ButtonStyle]] = {
    "ack": ("Acknowledge", "defect.ack", "primary"),
    "start": ("Start work", "defect.start", "default"),
    "wait": ("Waiting on client", "defect.wait", "default"),
    "reply": ("Reply (client)", "defect.reply", "primary"),
    "resolve": ("Resolve", "defect.resolve", "primary"),
    "close": ("Close", "defect.close", "default"),
    "reopen": ("Reopen", "defect.reopen", "danger"),
}


def time_left_text(delta: timedelta) -> str:
    """ "2 h 05 min", "3 d 4 h", "-45 min" (overdue)."""
    return duration(delta)


async def _name(session: AsyncSession, person_id: int | None) -> str:
    if not person_id:
        return "nobody yet"
    p = await session.get(Person, person_id)
    return mention(p.id, p.display_name) if p else "?"


def clock_text(clock: Clock, now: datetime, live: bool = False) -> str:
    """One line per clock: deadline, state, breach mark. `live` adds the time left (only for answers
    read now: a posted card would go stale)."""
    mark = "⛔ BREACHED · " if clock.breached else ""
    if clock.name == "response" and clock.stopped_at is not None:
        return f"{mark}acknowledged {when(clock.stopped_at)} ({'late' if clock.breached else 'met'})"
    if clock.stopped_at is not None:
        return f"{mark}resolved {when(clock.stopped_at)} ({'late' if clock.breached else 'met'})"
    if clock.paused:
        return f"{mark}⏸ paused (waiting on client) · {time_left_text(clock.remaining)} left of {clock.target_text}"
    if clock.due_at is None:
        return mark + "—"
    left = f" · {time_left_text(clock.remaining)} left" if live and not clock.breached else ""
    return f"{mark}due {when(clock.due_at)}{left} (target {clock.target_text})"


def breach_marks(defect: Defect, clocks: tuple[Clock, Clock]) -> list[str]:
    marks = []
    for clock in clocks:
        if clock.breached or getattr(defect, f"{clock.name}_breached_at"):
            marks.append(f"⛔ {clock.name} target breached")
    return marks


def warning_marks(defect: Defect, clocks: tuple[Clock, Clock]) -> list[str]:
    """A clock that was warned about and still runs, not yet breached."""
    return [
        f"⚠ {clock.name}: warned at {when(getattr(defect, f'{clock.name}_warned_at'), 'time')}"
        for clock in clocks
        if clock.running and not clock.breached and getattr(defect, f"{clock.name}_warned_at")
    ]


async def defect_card(
    session: AsyncSession,
    engagement: Engagement,
    defect: Defect,
    now: datetime,
    with_buttons: bool = True,
    live: bool = False,
) -> Card:
    """The filing card: posted in the home channel and edited in place on every change."""
    cl = clocks(defect, now)
    marks = breach_marks(defect, cl)
    lines = [MEANING[defect.severity] + "."]
    w = await warranty(session, engagement, defect)
    if defect.out_of_warranty:
        ended = w.until or engagement.warranty_end or defect.filed_at.date()
        lines.append(
            f"Out of warranty (filed after the warranty ended {ended:%Y-%m-%d})." if ended else "Out of warranty."
        )
    elif w.within and w.until:
        lines.append(f"In warranty until {w.until:%Y-%m-%d}: fixed at no cost on the SLA.")
    if w.change_request:
        lines.append(f"Converted to change request {w.change_request}.")
    if marks:
        lines.append(" · ".join(marks))
    warned = warning_marks(defect, cl)
    if warned:
        lines.append(" · ".join(warned))
    pause = open_pause(defect)
    if pause is not None and pause.kind == "waiting":
        lines.append(f"Waiting on client: {truncate(pause.reason or '', 300)}")
    fields = [
        Field("Severity", label(defect.severity)),
        Field("State", st.LABEL[defect.state]),
        Field("Assignee", await _name(session, defect.assignee_id)),
        Field("Reporter", await _name(session, defect.reporter_id)),
        Field("Filed", when(defect.filed_at)),
        Field("First response", clock_text(cl[0], now, live), short=False),
        Field("Resolution", clock_text(cl[1], now, live), short=False),
    ]
    for label_, value in (
        ("Environment", defect.environment),
        ("Affected users", defect.affected_users),
        ("Steps to reproduce", defect.steps),
        ("Expected", defect.expected),
        ("Actual", defect.actual),
        ("Attachment", defect.attachment_url),
    ):
        if value:
            fields.append(Field(label_, truncate(value, 500), short=label_ in ("Environment", "Affected users")))
    buttons = []
    if with_buttons:
        for action in st.legal_actions(defect.state):
            text, action_id, style = BUTTONS[action]
            if action == "start" and defect.state == st.WAITING:
                text = "Resume work"
            buttons.append(Button(text, action_id, str(defect.id), style))
        if defect.state != st.CLOSED:
            buttons.append(Button("Change severity", "defect.severity", str(defect.id)))
        if defect.out_of_warranty and not w.change_request:
            converters = tuple(p.id for p in await members_with_roles(session, engagement, CONVERTERS))
            buttons.append(Button("Convert to change request", CONVERT, str(defect.id), allowed=converters))
    footer = "From a standup blocker · " if defect.source_standup_answer_id else ""
    footer += f"{engagement.key} · /defect show {ref(engagement, defect)}"
    tone = (
        "danger"
        if marks
        else "warning"
        if warned
        else ("good" if defect.state in (st.RESOLVED, st.CLOSED) else TONE[defect.severity])
    )
    return Card(
        title=f"{ref(engagement, defect)} · {label(defect.severity)} · {truncate(defect.title, 150)}",
        text="\n".join(lines),
        fields=fields,
        buttons=buttons,
        footer=footer,
        tone=tone,
    )


def list_section(engagement: Engagement, defect: Defect, now: datetime) -> Card:
    """One defect in a list: id, severity, state in the title (no tokens there: some platforms show titles
    as plain text); its title and running clock with the time left below."""
    response, resolution = clocks(defect, now)
    head = [ref(engagement, defect), label(defect.severity), st.LABEL[defect.state]]
    breached = bool(
        response.breached or resolution.breached or defect.response_breached_at or defect.resolution_breached_at
    )
    if breached:
        head.append("⛔ breached")
    if defect.out_of_warranty:
        head.append("out of warranty")
    lines = [truncate(defect.title, 150)]
    if response.running:
        lines.append("Response " + clock_text(response, now, live=True))
    elif defect.state in st.ACTIVE:
        lines.append("Resolution " + clock_text(resolution, now, live=True))
    return Card(title=" · ".join(head), text="\n".join(lines), tone="danger" if breached else "info")


def _late_text(lateness: timedelta) -> str:
    return time_left_text(lateness)


def notice_card(
    defect: Defect,
    engagement: Engagement,
    clock_name: str,
    kind: str,
    due: datetime,
    now: datetime,
    lateness: timedelta | None = None,
    assignee: Person | None = None,
    moved_past: bool = False,
) -> Card:
    """A warning or breach notice. `moved_past`: the deadline was already past when this notice was planned
    (a severity change recomputed it from the filing time), so the lateness is not Cadence's downtime."""
    clock = next(c for c in clocks(defect, now) if c.name == clock_name)
    rid = ref(engagement, defect)
    what = "First response" if clock_name == "response" else "Resolution"
    if kind == WARN:
        title = f"{rid} ({label(defect.severity)}): {clock.pct} % of the {clock_name} time used"
        text = f"{what} is due {when(due)} — {time_left_text(clock.remaining)} left (target {clock.target_text})."
        tone = "warning"
    else:
        title = f"{rid} ({label(defect.severity)}): {clock_name} target breached"
        text = f"{what} was due {when(due)} (target {clock.target_text}) and has not happened."
        tone = "danger"
        if moved_past:
            text += (
                f"\nThe severity change to {label(defect.severity)} moved this deadline into the past: the target "
                "counts from when the defect was filed."
            )
        elif lateness and lateness >= timedelta(minutes=1):
            text += f"\nThis notice is {_late_text(lateness)} late: Cadence was not running at the deadline."
    fields = [Field("Defect", defect.title, short=False), Field("State", st.LABEL[defect.state])]
    if assignee is not None:
        fields.append(Field("Assignee", mention(assignee.id, assignee.display_name)))
    else:
        fields.append(Field("Assignee", "nobody yet"))
    buttons = []
    if clock_name == "response" and defect.state in (st.OPEN,):
        buttons.append(Button("Acknowledge", "defect.ack", str(defect.id), "primary"))
    return Card(title=title, text=text, fields=fields, buttons=buttons, tone=tone)


def page_card(defect: Defect, engagement: Engagement, now: datetime) -> Card:
    """An S1 page to the vendor PM and lead."""
    response, resolution = clocks(defect, now)
    return Card(
        title=f"S1 filed: {ref(engagement, defect)} — {defect.title}",
        text=(
            f"System down, no workaround. First response due {when(response.due_at)}, "
            f"resolution due {when(resolution.due_at)}."
            if response.due_at and resolution.due_at
            else "System down, no workaround."
        ),
        buttons=[Button("Acknowledge", "defect.ack", str(defect.id), "primary")] if defect.state == st.OPEN else [],
        tone="danger",
    )


HISTORY_WORDS = {
    "filed": "filed",
    "ack": "acknowledged",
    "start": "started work",
    "wait": "waiting on client",
    "resolve": "resolved",
    "close": "closed",
    "reopen": "reopened",
    "assigned": "assigned",
    "severity_changed": "changed severity",
    "s1_paged": "paged the vendor PM and lead",
    "response_breach": "response target breached",
    "resolution_breach": "resolution target breached",
}


def add_history(card: Card, defect: Defect, entries: list[AuditEntry], assignees: dict[int, Person]) -> None:
    """`/defect show`: the last 20 steps and the waiting-on-client intervals, as sections of the card."""
    lines = []
    for e in entries[-20:]:
        move = (
            f" ({st.LABEL.get(e.from_state, e.from_state)} → {st.LABEL.get(e.to_state, e.to_state)})"
            if e.from_state and e.to_state and e.from_state != e.to_state
            else ""
        )
        note = f" — {truncate(e.comment, 200)}" if e.comment and e.action != "filed" else ""
        if e.action == "severity_changed":
            note = f" {label(e.data.get('from', '?'))} → {label(e.data.get('to', '?'))}{note}"
        assignee_id = e.data.get("to") if e.action == "assigned" else e.data.get("assigned_to")
        if assignee_id is not None:
            assignee = assignees.get(int(assignee_id))
            if assignee is not None:
                to_whom = (
                    f"to {assignee.display_name}"
                    if e.action == "assigned"
                    else f"(assigned to {assignee.display_name})"
                )
                note = f" {to_whom}{note}"
        if e.action in ("response_warning", "resolution_warning"):
            # The threshold the defect was filed under (its policy snapshot), not a fixed 75 %.
            words = f"warning: {e.action.split('_')[0]} time {policy_of(defect).warn_pct:g} % used"
        else:
            words = HISTORY_WORDS.get(e.action, e.action.replace("_", " "))
        lines.append(f"{when(e.at)} {e.actor_label}: {words}{move}{note}")
    if lines:
        card.sections.append(Card(title="History", text="\n".join(lines)))
    pauses = [p for p in defect.pauses if p.kind == "waiting"]
    if pauses:
        card.sections.append(
            Card(
                title="Waiting on client",
                text="\n".join(
                    f"{when(p.started_at)} → {when(p.ended_at) if p.ended_at else 'now'}: "
                    f"{truncate(p.reason or '', 200)}"
                    for p in pauses
                ),
            )
        )


def export_card(engagement: Engagement, text: str, count: int, now: datetime) -> Card:
    """`/defect export`: the CSV as an attachment."""
    name = f"{engagement.key}-defects-{now:%Y%m%d}.csv"
    return Card(
        title=f"{engagement.key} defects export",
        text=f"{plural(count, 'defect')}, times in UTC.",
        attachments=[
            Attachment(
                filename=name,
                content_b64=base64.b64encode(text.encode("utf-8")).decode("ascii"),
                mime="text/csv",
                title=name,
            )
        ],
    )


def _pct(block: dict[str, Any]) -> str:
    if block["pct"] is None:
        return "— (nothing due)"
    return f"{block['pct']:g} % met ({block['met']} met, {block['missed']} missed)"


def _dur(value: timedelta | None) -> str:
    return time_left_text(value) if value is not None else "—"


def report_card(stats: dict[str, Any], period_word: str) -> Card:
    counts = ", ".join(f"{label(s)} {stats['open_by_severity'][s]}" for s in SEVERITIES)
    fields = [
        Field("Period", f"{when(stats['start'], 'date')} – {when(stats['end'], 'date')}"),
        Field("Filed", str(stats["filed"])),
        Field("Open now", counts, short=False),
        Field("Response compliance", _pct(stats["response"])),
        Field("Resolution compliance", _pct(stats["resolution"])),
        Field("MTTA", _dur(stats["mtta"])),
        Field("MTTR", _dur(stats["mttr"])),
    ]
    sections = []
    if stats["open"]:
        lines = []
        for o in stats["open"]:
            left = ("paused, " if o["paused"] else "") + (
                "⛔ breached"
                if o["breached"] and o["time_left"] <= timedelta(0)
                else f"{time_left_text(o['time_left'])} left"
            )
            oow = " · out of warranty" if o["out_of_warranty"] else ""
            mark = " · ⛔" if o["breached"] and "breached" not in left else ""
            lines.append(f"{o['ref']} {label(o['severity'])} {o['title'][:80]} — {o['clock']} {left}{mark}{oow}")
        sections.append(Card(title="Open defects", text="\n".join(lines)))
    if stats["breaches"]:
        sections.append(
            Card(
                title="Breaches",
                tone="danger",
                text="\n".join(
                    f"{b['ref']} {label(b['severity'])} {b['clock']} target missed {when(b['at'])}"
                    + (" · out of warranty" if b["out_of_warranty"] else "")
                    for b in stats["breaches"]
                ),
            )
        )
    if stats["out_of_warranty"]:
        sections.append(Card(title="Filed after the warranty end", text=", ".join(stats["out_of_warranty"])))
    return Card(
        title=f"{stats['engagement']} defect SLA report — last {period_word}",
        fields=fields,
        sections=sections,
        tone="danger" if stats["breaches"] else "info",
    )


def policy_card(engagement: Engagement) -> Card:
    """`/defect policy`: the engagement's SLA policy (what new defects are filed under)."""
    policy = engagement_policy(engagement)
    hours = policy.business_hours()
    fields = []
    for sev in SEVERITIES:
        entry = policy.data[sev]
        cal = "business hours" if entry.get("calendar") == CAL_BUSINESS else "24×7"
        fields.append(
            Field(
                f"{label(sev)} — {MEANING[sev]}",
                f"response {entry['response']} · resolution {entry['resolution']} · {cal}",
                short=False,
            )
        )
    fields.append(Field("Business hours", hours.describe(), short=False))
    fields.append(Field("Warning at", f"{policy.warn_pct} % of a target"))
    return Card(
        title=f"{engagement.key} SLA policy",
        fields=fields,
        text="Business days are one business-hours window long. Changes apply to defects filed afterwards.",
        footer=POLICY_HELP,
    )
