"""The defect forms: filing (also opened pre-filled by the standup feature), a reason for a step, a severity
change."""

from __future__ import annotations

from bot.features.defects.severity import MEANING, SEVERITIES, label
from bot.kernel.messages import Form, Input, Option
from storage.models.defects import Defect

SEVERITY_OPTIONS = [Option(f"{label(s)} — {MEANING[s]}", s) for s in SEVERITIES]


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


def intake(title: str, description: str, state: dict) -> Form:
    """The filing form opened from elsewhere (a standup blocker): the title, the description as the actual
    result (registered with `registry.add_intake`)."""
    return new_form(initial={"title": title, "actual": description}, state=state)
