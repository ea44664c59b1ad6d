"""The change-request state machine: the one table of who may move a request from where to where.

submitted ──assess──▶ assessed ──(automatic)──▶ pending_approval ──▶ approved ─schedule─▶ scheduled ─deliver─▶ delivered
    │                     │                          │        └──▶ rejected (reason required)
    └──────────── withdraw (requester, before a decision) ──▶ withdrawn
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    SUBMITTED = "submitted"
    ASSESSED = "assessed"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    SCHEDULED = "scheduled"
    DELIVERED = "delivered"


# Who may take a step: a role set, or one of these special actors.
REQUESTER = "requester"
APPROVERS = "approvers"  # the quorum of the approval policy
SYSTEM = "system"  # Cadence itself
VENDOR = frozenset({"vendor_pm", "vendor_lead"})


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[State]
    target: State
    who: str | frozenset[str]
    comment_required: bool = False
    verb: str = ""  # "assess", shown in refusals: "ACME-CR-7 is approved; it can't be assessed"


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("assess", frozenset({State.SUBMITTED}), State.ASSESSED, VENDOR, verb="assessed"),
        Transition(
            "request_approval", frozenset({State.ASSESSED}), State.PENDING_APPROVAL, SYSTEM, verb="sent for approval"
        ),
        Transition("approve", frozenset({State.PENDING_APPROVAL}), State.APPROVED, APPROVERS, verb="approved"),
        Transition(
            "reject",
            frozenset({State.PENDING_APPROVAL}),
            State.REJECTED,
            APPROVERS,
            comment_required=True,
            verb="rejected",
        ),
        Transition(
            "withdraw",
            frozenset({State.SUBMITTED, State.ASSESSED, State.PENDING_APPROVAL}),
            State.WITHDRAWN,
            REQUESTER,
            verb="withdrawn",
        ),
        # From scheduled too: a new date corrects a wrong one (the audit keeps both).
        Transition("schedule", frozenset({State.APPROVED, State.SCHEDULED}), State.SCHEDULED, VENDOR, verb="scheduled"),
        Transition("deliver", frozenset({State.SCHEDULED}), State.DELIVERED, VENDOR, verb="delivered"),
    )
}

OPEN = frozenset({State.SUBMITTED, State.ASSESSED, State.PENDING_APPROVAL, State.APPROVED, State.SCHEDULED})
DECIDED = frozenset({State.APPROVED, State.REJECTED, State.SCHEDULED, State.DELIVERED})
FINAL = frozenset({State.REJECTED, State.WITHDRAWN, State.DELIVERED})
# Cost drawn from the contingency.
COMMITTED = frozenset({State.APPROVED, State.SCHEDULED, State.DELIVERED})
# Scope and estimate may still change (a change after an approval resets the approvals).
EDITABLE = frozenset({State.SUBMITTED, State.ASSESSED, State.PENDING_APPROVAL})

LABELS = {
    State.SUBMITTED: "Submitted",
    State.ASSESSED: "Assessed",
    State.PENDING_APPROVAL: "Pending approval",
    State.APPROVED: "Approved",
    State.REJECTED: "Rejected",
    State.WITHDRAWN: "Withdrawn",
    State.SCHEDULED: "Scheduled",
    State.DELIVERED: "Delivered",
}


class IllegalTransition(Exception):
    """A step the state machine does not allow from the current state; the message says why."""


def label(state: str) -> str:
    return LABELS.get(State(state), state)


def _why_not(action: str, state: State) -> str:
    if action == "withdraw" and state in DECIDED:
        return "it has been decided, and a request can only be withdrawn before a decision"
    if action in ("approve", "reject") and state in (State.SUBMITTED, State.ASSESSED):
        return "it has not been assessed by the vendor yet, so it is not waiting for approval"
    if action in ("approve", "reject") and state in DECIDED | {State.WITHDRAWN}:
        return "it has already been decided" if state in DECIDED else "it was withdrawn"
    if action == "assess" and state == State.PENDING_APPROVAL:
        return "it is already waiting for approval (a revised estimate is `/cr assess` on a pending request)"
    if action == "schedule" and state not in (State.APPROVED, State.SCHEDULED):
        return "only an approved request can be scheduled"
    if action == "deliver" and state != State.SCHEDULED:
        return "only a scheduled request can be delivered"
    if state in FINAL:
        return "that is a final state"
    t = TRANSITIONS[action]
    allowed = ", ".join(label(s) for s in sorted(t.sources))
    return f"that is only possible from: {allowed}"


def check(state: str, action: str, *, ref: str = "This request") -> State:
    """The state `action` leads to from `state`; IllegalTransition (with the reason) if none."""
    t = TRANSITIONS.get(action)
    if t is None:
        raise IllegalTransition(f"Unknown step “{action}”.")
    current = State(state)
    if current not in t.sources and current == t.target:
        raise IllegalTransition(f"{ref} is already {label(current).lower()}; nothing was changed.")
    if current not in t.sources:
        raise IllegalTransition(
            f"{ref} is {label(current).lower()}; it can't be {t.verb}: {_why_not(action, current)}."
        )
    return t.target


def allowed_actions(state: str) -> list[str]:
    current = State(state)
    return [a for a, t in TRANSITIONS.items() if current in t.sources]


def who_may(action: str) -> str | frozenset[str]:
    return TRANSITIONS[action].who


def role_allows(action: str, roles: set[str], *, is_requester: bool) -> bool:
    """Whether someone with `roles` may take `action` (approver steps are decided by the policy,
    system steps by Cadence alone)."""
    who = TRANSITIONS[action].who
    if who == REQUESTER:
        return is_requester
    if isinstance(who, frozenset):
        return bool(who & roles)
    return False
