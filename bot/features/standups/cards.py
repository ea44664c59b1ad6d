"""What people see: the prompt, each question, the reminder, the answer form, the summary."""

from __future__ import annotations

from bot.kernel.messages import Button, Card, Form, Input
from bot.kernel.text import MAX_TEXT, day_text
from storage.models import Engagement
from storage.models.standups import StandupEntry

FORM_ID = "standup.answer"
OPEN_FORM = "standup.open_form"


def _day(entry: StandupEntry) -> str:
    return day_text(entry.day)


def question_text(entry: StandupEntry) -> str:
    i = entry.position
    return f"*{i + 1}/{len(entry.questions)}* {entry.questions[i]}"


def prompt_card(engagement: Engagement, entry: StandupEntry, *, reminder: bool = False) -> Card:
    intro = (
        "Reminder: your standup is still waiting."
        if reminder
        else f"Good morning! Time for the {engagement.name} standup."
    )
    return Card(
        title=f"Standup · {engagement.key} · {_day(entry)}",
        text=f"{intro}\n\n{question_text(entry)}",
        footer="Reply here, one message per question (`skip` skips one) — or answer everything in a form.",
        buttons=[Button("Answer in a form", OPEN_FORM, str(entry.id), "primary")],
        tone="warning" if reminder else "info",
    )


def next_question_card(entry: StandupEntry) -> Card:
    return Card(text=question_text(entry))


def thanks_card(engagement: Engagement, entry: StandupEntry, *, late: bool, edited: bool = False) -> Card:
    lines = []
    for q, a in zip(entry.questions, entry.answers or [], strict=False):
        lines.append(f"*{q}*\n{a if a else '_skipped_'}")
    note = "Updated." if edited else "Thanks — recorded."
    if late:
        note += " The digest was already posted; it now shows your answer, marked late."
    else:
        note += " You can change it with `/standup edit` until the digest is posted."
    return Card(
        title=f"Standup · {engagement.key} · {_day(entry)}", text=note + "\n\n" + "\n\n".join(lines), tone="good"
    )


def answer_form(engagement: Engagement, entry: StandupEntry, *, edit: bool = False) -> Form:
    inputs = []
    for i, q in enumerate(entry.questions):
        current = (entry.answers or [None] * len(entry.questions))[i] if i < len(entry.answers or []) else None
        inputs.append(
            Input(
                id=f"q{i}",
                label=q[:150],
                kind="multiline",
                required=False,
                initial=current,
                max_length=MAX_TEXT,
                hint="“none” if nothing blocks you" if i == entry.blocker_index else None,
            )
        )
    return Form(
        form_id=FORM_ID,
        title=f"Standup {engagement.key} · {entry.day.strftime('%d %b')}"[:24],
        inputs=inputs,
        submit_label="Save" if edit else "Send",
        state={"entry_id": entry.id},
        text=f"{engagement.name} — your standup for {_day(entry)}. Leave a question empty to skip it.",
    )
