"""Neutral cards and forms of the defects feature (rendered by each front end)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.defects import states as st
from bot.features.defects.severity import MEANING, SEVERITIES, label
from bot.features.defects.sla import Clock
from bot.kernel.messages import Button, ButtonStyle, Card, Field, Form, Input, Option
from bot.kernel.text import person as mention
from bot.kernel.text import truncate, when
from storage.models import Engagement, Person
from storage.models.defects import Defect

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
SEVERITY_OPTIONS = [Option(f"{label(s)} — {MEANING[s]}", s) for s in SEVERITIES]


async def _name(session: AsyncSession, person_id: int | None) -> str:
    if not person_id:
        return "nobody yet"
    p = await session.get(Person, person_id)
    return mention(p.id, p.display_name) if p else "?"


def clock_text(clock: Clock, now: datetime, live: bool = False) -> str:
    """One line per clock: deadline, state, breach mark. `live` adds the time left (only for answers
    read now: a posted card would go stale)."""
    from bot.features.defects.service import time_left_text

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
    from bot.features.defects.service import clocks, open_pause, ref

    cl = clocks(defect, now)
    marks = breach_marks(defect, cl)
    lines = [MEANING[defect.severity] + "."]
    if defect.out_of_warranty:
        lines.append(f"Out of warranty (filed after the warranty ended {engagement.warranty_end:%Y-%m-%d}).")
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


def new_form(*, initial: dict[str, str] | None = None, state: dict | None = None) -> Form:
    initial = initial or {}
    return Form(
        form_id="defect.new",
        title="File a defect",
        submit_label="File",
        state=dict(state or {}),
        inputs=[
            Input(
                "title", "Title", max_length=150, initial=initial.get("title"), placeholder="Login fails for SSO users"
            ),
            Input("severity", "Severity", kind="select", options=SEVERITY_OPTIONS, initial=initial.get("severity")),
            Input(
                "environment",
                "Environment",
                required=False,
                max_length=200,
                initial=initial.get("environment"),
                placeholder="production, v2.3.1, Chrome 120",
            ),
            Input(
                "steps",
                "Steps to reproduce",
                kind="multiline",
                required=False,
                max_length=3000,
                initial=initial.get("steps"),
            ),
            Input(
                "expected",
                "Expected result",
                kind="multiline",
                required=False,
                max_length=1500,
                initial=initial.get("expected"),
            ),
            Input(
                "actual",
                "Actual result",
                kind="multiline",
                required=False,
                max_length=1500,
                initial=initial.get("actual"),
            ),
            Input(
                "affected_users",
                "Affected users",
                required=False,
                max_length=200,
                initial=initial.get("affected_users"),
                placeholder="all EU customers / about 40 users",
            ),
            Input(
                "attachment",
                "Attachment link",
                required=False,
                max_length=2000,
                initial=initial.get("attachment"),
                placeholder="https://…",
                hint="A link to a screenshot, log or recording (http or https).",
            ),
        ],
    )


def reason_form(
    form_id: str,
    title: str,
    label_: str,
    defect_id: int,
    *,
    required: bool = True,
    submit: str = "Save",
    text: str = "",
) -> Form:
    return Form(
        form_id=form_id,
        title=title,
        submit_label=submit,
        state={"defect_id": defect_id},
        text=text,
        inputs=[Input("reason", label_, kind="multiline", required=required, max_length=1500)],
    )


def severity_form(defect: Defect, ref_text: str) -> Form:
    return Form(
        form_id="defect.severity",
        title=f"Severity of {ref_text}",
        submit_label="Change",
        state={"defect_id": defect.id},
        text="Both deadlines are recomputed from the original filing time.",
        inputs=[
            Input("severity", "New severity", kind="select", options=SEVERITY_OPTIONS, initial=defect.severity),
            Input("reason", "Why", kind="multiline", required=True, max_length=1500),
        ],
    )
