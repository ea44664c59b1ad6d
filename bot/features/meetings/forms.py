"""The meeting form (`/meeting new`, or `/meeting schedule` without words): for front ends where typing the whole
line is awkward. Its submission is read like the typed command and answered with the same confirmation."""

from __future__ import annotations

from bot.features.meetings.cards import KIND_LABELS
from bot.features.meetings.settings import DEFAULT_KIND, KINDS
from bot.kernel.messages import Form, Input, Option
from bot.kernel.text import MAX_TITLE

NEW = "meeting.new"


def new_form(*, duration: int, kind: str = DEFAULT_KIND, when_text: str = "", title: str = "") -> Form:
    return Form(
        form_id=NEW,
        title="Schedule a meeting",
        submit_label="Check",
        text="Times are read in your zone unless you name one. I'll show how I understood it before saving.",
        inputs=[
            Input(
                "kind",
                "Kind",
                kind="select",
                initial=kind,
                options=[Option(KIND_LABELS[k], k) for k in KINDS],
            ),
            Input(
                "title",
                "Title",
                initial=title or None,
                required=False,
                max_length=MAX_TITLE,
                placeholder="Weekly sync · Monthly review · Kick-off",
                hint="Left empty: the kind's usual title.",
            ),
            Input(
                "when",
                "When",
                initial=when_text or None,
                max_length=200,
                placeholder="every monday 11:00 · first tuesday of the month 15:00 · next thu 3pm",
                hint="One time, a weekly series (`every other thursday 15:00`) or a monthly one "
                "(`last friday of the month 10:00`).",
            ),
            Input("duration", "Duration (minutes)", kind="number", initial=str(duration), required=False),
        ],
    )
