"""The milestones' forms (rejection reasons, acceptance remarks, what was delivered) and the checks of what
comes back: every value is untrusted, problems come back per field."""

from __future__ import annotations

from typing import Any

from bot.features.milestones.queries import ref
from bot.kernel.messages import Form, Input
from bot.kernel.text import MAX_TEXT, InputTooLong, clean
from storage.models import Engagement
from storage.models.milestones import Milestone

REJECT = "milestone.reject"
REMARKS = "milestone.remarks"
SUBMIT = "milestone.submit"
MAX_REASONS = 30
MAX_REASON = 500


def _state(eng: Engagement, m: Milestone) -> dict[str, Any]:
    # The engagement is named so the core checks it before the handler runs (docs/two-party.md); the round
    # makes a form opened for an earlier round stale.
    return {"engagement_id": eng.id, "milestone_id": m.id, "round": m.round}


def reject_form(eng: Engagement, m: Milestone, rectify_days: int) -> Form:
    return Form(
        form_id=REJECT,
        title=f"Reject {ref(eng, m)}"[:24],
        inputs=[
            Input(
                "reasons",
                "Reasons, one per line",
                kind="multiline",
                max_length=MAX_TEXT,
                placeholder="Export misses the VAT column\nLogin page not translated",
                hint=f"Each line becomes a rectification item due in {rectify_days} business days.",
            )
        ],
        submit_label="Reject",
        state=_state(eng, m),
        text=f"Rejecting round {m.round} of {ref(eng, m)} “{m.title}”.",
    )


def remarks_form(eng: Engagement, m: Milestone) -> Form:
    return Form(
        form_id=REMARKS,
        title=f"Accept {ref(eng, m)}"[:24],
        inputs=[Input("remarks", "Remarks", kind="multiline", max_length=MAX_TEXT)],
        submit_label="Accept",
        state=_state(eng, m),
        text=f"Accepting round {m.round} of {ref(eng, m)} “{m.title}” with remarks.",
    )


def submit_form(eng: Engagement, m: Milestone) -> Form:
    return Form(
        form_id=SUBMIT,
        title=f"Submit {ref(eng, m)}"[:24],
        inputs=[
            Input(
                "delivered",
                "What is delivered (links welcome)",
                kind="multiline",
                max_length=MAX_TEXT,
                placeholder="Release 1.2 on staging: https://staging.example.com — release notes: https://…",
            )
        ],
        submit_label="Submit for acceptance",
        state={"engagement_id": eng.id, "milestone_id": m.id},
        text=f"Submitting {ref(eng, m)} “{m.title}” for the client's acceptance.",
    )


def reason_lines(text: str) -> tuple[str, ...]:
    """Reasons typed one per line: each non-empty line, whitespace folded, a list bullet dropped. The one rule
    for a rejection's reasons and a demo's "not accepted" remarks (bot/features/demos/service.py)."""
    lines = (" ".join(line.split()).lstrip("-•* ").strip() for line in text.splitlines())
    return tuple(line for line in lines if line)


def reasons(values: dict[str, str]) -> tuple[tuple[str, ...], dict[str, str]]:
    """The rejection's reasons, one per non-empty line; per-field errors instead when they are unusable."""
    try:
        raw = clean(values.get("reasons"), limit=MAX_TEXT, what="The reasons")
    except InputTooLong as exc:
        return (), {"reasons": str(exc)}
    lines = reason_lines(raw)
    if not lines:
        return (), {"reasons": "A rejection needs its reasons, one per line."}
    if len(lines) > MAX_REASONS:
        return (), {"reasons": f"At most {MAX_REASONS} reasons; group related ones on one line."}
    long = next((line for line in lines if len(line) > MAX_REASON), None)
    if long:
        return (), {"reasons": f"A reason is at most {MAX_REASON} characters: “{long[:40]}…”."}
    return lines, {}


def text_value(values: dict[str, str], key: str, what: str) -> tuple[str, dict[str, str]]:
    try:
        text = clean(values.get(key), limit=MAX_TEXT, what=what)
    except InputTooLong as exc:
        return "", {key: str(exc)}
    if not text:
        return "", {key: f"{what} can't be empty."}
    return text, {}
