"""The change-request forms (intake, scope edit, assessment, rejection, question) and the validation of
what comes back: every value is untrusted; problems come back per field."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.features.change_requests.cards import PRIORITIES, RISKS
from bot.features.change_requests.money import MAX_AMOUNT, MAX_HOURS, parse_days
from bot.kernel.errors import UserError
from bot.kernel.messages import Form, Input, Option
from bot.kernel.text import MAX_TEXT, MAX_TITLE, InputTooLong, clean, day_text
from bot.shared.dates import parse_date
from bot.shared.numbers import parse_money, parse_number
from storage.models.change_requests import ChangeRequest

NEW = "cr.new"
EDIT = "cr.edit"
ASSESS = "cr.assess"
REJECT = "cr.reject"
QUESTION = "cr.question"
# The intake form's state key naming the out-of-warranty defect it converts (bot/features/defects).
FROM_DEFECT = "from_defect"

NO_DATE = {"", "none", "no", "-", "n/a", "na", "whenever", "no date"}


def _opts(values: tuple[str, ...]) -> list[Option]:
    return [Option(v.capitalize(), v) for v in values]


def scope_inputs(
    *, title: str = "", description: str = "", business_reason: str = "", priority: str = "medium", wanted_by: str = ""
) -> list[Input]:
    return [
        Input("title", "Title", initial=title or None, max_length=MAX_TITLE, placeholder="Add single sign-on"),
        Input(
            "description",
            "Description",
            kind="multiline",
            initial=description or None,
            max_length=MAX_TEXT,
            placeholder="What should change, exactly?",
        ),
        Input(
            "business_reason",
            "Business reason",
            kind="multiline",
            initial=business_reason or None,
            max_length=MAX_TEXT,
            placeholder="Why the business needs it",
        ),
        Input("priority", "Priority", kind="select", initial=priority, options=_opts(PRIORITIES)),
        Input(
            "wanted_by",
            "Wanted by",
            required=False,
            initial=wanted_by or None,
            max_length=100,
            placeholder="e.g. end of next month, March 3, in 2 weeks",
            hint="Plain language, read in your own time zone. Leave empty if there is no date.",
        ),
    ]


def new_form(*, title: str = "", state: dict[str, Any] | None = None, description: str = "") -> Form:
    return Form(
        form_id=NEW,
        title="New change request",
        inputs=scope_inputs(title=title, description=description),
        submit_label="Submit",
        state=dict(state or {}),
        text="The vendor will add an impact estimate; then the approvers decide.",
    )


def edit_form(cr: ChangeRequest, ref: str) -> Form:
    return Form(
        form_id=EDIT,
        title=f"Edit {ref}"[:24],
        inputs=scope_inputs(
            title=cr.title,
            description=cr.description,
            business_reason=cr.business_reason,
            priority=cr.priority,
            wanted_by=cr.wanted_by.isoformat() if cr.wanted_by else "",
        ),
        submit_label="Save",
        state={"request_id": cr.id},
        text="Changing the scope after an approval resets the approvals; the approvers are asked again.",
    )


def assess_form(cr: ChangeRequest, ref: str) -> Form:
    def init(v: Any) -> str | None:
        return None if v is None else str(v)

    return Form(
        form_id=ASSESS,
        title=f"Assess {ref}"[:24],
        inputs=[
            Input("effort_hours", "Effort (hours)", kind="number", initial=init(cr.effort_hours), placeholder="40"),
            Input("cost", "Cost", kind="number", initial=init(cr.cost), placeholder="6000"),
            Input(
                "schedule_impact_days",
                "Schedule impact (days)",
                kind="number",
                initial=init(cr.schedule_impact_days),
                placeholder="0",
            ),
            Input("risk", "Risk", kind="select", initial=cr.risk or "medium", options=_opts(RISKS)),
            Input(
                "notes",
                "Notes",
                kind="multiline",
                required=False,
                initial=cr.assessment_notes or None,
                max_length=MAX_TEXT,
            ),
        ],
        submit_label="Save estimate",
        state={"request_id": cr.id},
        text=f"{ref} “{cr.title}”. Saving sends it for approval; a revised estimate resets earlier approvals.",
    )


def reject_form(cr: ChangeRequest, ref: str) -> Form:
    return Form(
        form_id=REJECT,
        title=f"Reject {ref}"[:24],
        inputs=[
            Input("reason", "Reason", kind="multiline", max_length=MAX_TEXT, placeholder="Why is it rejected?"),
        ],
        submit_label="Reject",
        state={"request_id": cr.id, "round": cr.round},
        text=f"Rejecting {ref} “{cr.title}” ends it: one rejection by an approver rejects the request.",
    )


def question_form(cr: ChangeRequest, ref: str) -> Form:
    return Form(
        form_id=QUESTION,
        title=f"Question on {ref}"[:24],
        inputs=[
            Input("question", "Your question", kind="multiline", max_length=MAX_TEXT),
        ],
        submit_label="Ask",
        state={"request_id": cr.id},
        text="Posted in the engagement's channel and sent to the requester and the vendor PM.",
    )


def text_value(
    values: dict[str, str],
    key: str,
    label: str,
    errors: dict[str, str],
    *,
    limit: int,
    required: bool = True,
    multiline: bool = True,
) -> str:
    try:
        value = clean(values.get(key), limit=limit, what=label, multiline=multiline)
    except InputTooLong as exc:
        errors[key] = str(exc)
        return ""
    if required and not value:
        errors[key] = f"{label} is required."
    return value


def wanted_by_value(raw: str, *, now: datetime, tz: ZoneInfo, errors: dict[str, str]) -> date | None:
    raw = " ".join((raw or "").split())
    if raw.lower() in NO_DATE:
        return None
    try:
        day = parse_date(raw, now=now, tz=tz)
    except UserError:
        errors["wanted_by"] = f"I couldn't read “{raw[:60]}” as a date. Try `March 3`, `in 2 weeks` or `2027-03-03`."
        return None
    today = now.astimezone(tz).date()
    if day < today:
        errors["wanted_by"] = (
            f"“{raw[:60]}” is in the past: I read it as {day_text(day)} (today is {day_text(today)} in {tz.key})."
        )
        return None
    return day


def scope_values(values: dict[str, str], *, now: datetime, tz: ZoneInfo) -> tuple[dict[str, Any], dict[str, str]]:
    """Validated scope fields, and per-field errors."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {
        "title": text_value(values, "title", "The title", errors, limit=MAX_TITLE, multiline=False),
        "description": text_value(values, "description", "The description", errors, limit=MAX_TEXT),
        "business_reason": text_value(values, "business_reason", "The business reason", errors, limit=MAX_TEXT),
    }
    priority = (values.get("priority") or "medium").strip().lower()
    if priority not in PRIORITIES:
        errors["priority"] = f"Choose one of: {', '.join(PRIORITIES)}."
    out["priority"] = priority
    out["wanted_by"] = wanted_by_value(values.get("wanted_by", ""), now=now, tz=tz, errors=errors)
    return out, errors


def estimate_values(values: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Validated estimate: effort (hours), cost (exact decimal, and `currency` when the cost named one),
    schedule impact (days), risk, notes."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    try:
        out["effort_hours"] = parse_number(values.get("effort_hours"), what="Effort", maximum=MAX_HOURS, example="40")
    except ValueError as exc:
        errors["effort_hours"] = str(exc)
    try:
        cost = parse_money(values.get("cost"), what="Cost", maximum=MAX_AMOUNT)
        out["cost"], out["currency"] = cost.amount, cost.currency
    except ValueError as exc:
        errors["cost"] = str(exc)
    try:
        out["schedule_impact_days"] = parse_days(values.get("schedule_impact_days"))
    except ValueError as exc:
        errors["schedule_impact_days"] = str(exc)
    risk = (values.get("risk") or "").strip().lower()
    if risk not in RISKS:
        errors["risk"] = f"Choose one of: {', '.join(RISKS)}."
    out["risk"] = risk
    notes = text_value(values, "notes", "The notes", errors, limit=MAX_TEXT, required=False)
    out["assessment_notes"] = notes or None
    return out, errors


def request_id(state: dict[str, Any]) -> int:
    """The request id a form was opened for (state comes back from the client: only an id is trusted,
    and everything about it is re-checked)."""
    try:
        return int(str(state.get("request_id")))
    except (TypeError, ValueError):
        raise UserError("This form has lost track of its change request; open it again.") from None


def intake(title: str, description: str, state: dict[str, Any]) -> Form:
    """The new-request form opened from elsewhere (a standup blocker), pre-filled (`registry.add_intake`)."""
    return new_form(title=title, description=description, state=state)
