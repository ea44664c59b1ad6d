"""The forms: a dispute's reason, a meeting's minutes (decisions and action items, one per line), and the
action item intake opened from a standup blocker (`registry.add_intake("action.new", intake)`)."""

from __future__ import annotations

from typing import Any

from bot.features.decisions.queries import decision_ref
from bot.kernel.messages import Form, Input, Option
from bot.kernel.text import MAX_TEXT, truncate
from storage.models import Engagement
from storage.models.decisions import Decision

DISPUTE = "decision.dispute"
MINUTES = "decision.minutes"
ACTION_NEW = "action.new"
# The blocker's intake passes the client side's members in its state under this key: (person id, name) pairs.
OWNERS = "owners"
# A form's minutes are bounded: more lines than this is a paste gone wrong.
MAX_LINES = 40


def dispute_form(eng: Engagement, d: Decision) -> Form:
    return Form(
        form_id=DISPUTE,
        title=f"Dispute {decision_ref(eng, d)}",
        text=truncate(d.text, 500),
        state={"decision_id": d.id, "engagement_id": eng.id},
        submit_label="Dispute",
        inputs=[Input("reason", "Why is it disputed?", kind="multiline", max_length=1500)],
    )


def minutes_form(eng: Engagement, occurrence_id: int, meeting: str) -> Form:
    return Form(
        form_id=MINUTES,
        title="Decisions and action items",
        text=f"{meeting}: one decision per line, one action item per line.",
        state={"occurrence_id": occurrence_id, "engagement_id": eng.id},
        submit_label="Record",
        inputs=[
            Input(
                "decisions",
                "Decisions",
                kind="multiline",
                required=False,
                max_length=MAX_TEXT,
                placeholder="Ship the beta without SSO | CR-7",
            ),
            Input(
                "actions",
                "Action items",
                kind="multiline",
                required=False,
                max_length=MAX_TEXT,
                placeholder="Asha: send the sandbox keys by fri",
                hint="owner: what, by when",
            ),
        ],
    )


def intake(title: str, description: str, state: dict[str, Any]) -> Form:
    """The action item form opened from a standup blocker: the blocker as the text, an owner among the client
    side's members (passed by the opener in `state["owners"]`, re-checked on submission), a due date."""
    owners = state.get(OWNERS) or []
    options = [Option(truncate(str(name), 75), str(pid)) for pid, name in owners if str(pid).isdigit()]
    kept = {k: v for k, v in state.items() if k != OWNERS}
    return Form(
        form_id=ACTION_NEW,
        title="Action for the client",
        text="A dependency on the client, tracked with an owner and a due date.",
        state=kept,
        submit_label="Create",
        inputs=[
            Input("text", "What is needed", kind="multiline", initial=title or description, max_length=1500),
            Input("owner", "Owner (client side)", kind="select", options=options),
            Input("due", "Due date", kind="date"),
        ],
    )
