"""The defect lifecycle: one table of what is legal, from which state, by which side.

    open ──ack──> acknowledged ──start──> in_progress ──wait──> waiting_on_client
                       │                     │    ^                │
                       └──────resolve────────┴────┼───resolve──────┘
                                                  └──start (resume)
    resolved ──close──> closed          resolved ──reopen──> reopened ──start/ack/wait/resolve──> …

Clocks: acknowledge stops the response clock; waiting_on_client pauses the resolution clock (a reason
is required); resolve stops it; reopen starts it again from where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass

OPEN = "open"
ACKNOWLEDGED = "acknowledged"
IN_PROGRESS = "in_progress"
WAITING = "waiting_on_client"
RESOLVED = "resolved"
CLOSED = "closed"
REOPENED = "reopened"

STATES = (OPEN, ACKNOWLEDGED, IN_PROGRESS, WAITING, RESOLVED, REOPENED, CLOSED)
ACTIVE = (OPEN, ACKNOWLEDGED, IN_PROGRESS, WAITING, REOPENED)  # the vendor still owes something

VENDOR = "vendor"
CLIENT = "client"

VENDOR_ROLES = frozenset({"vendor_pm", "vendor_lead", "developer", "qa"})
CLIENT_ROLES = frozenset({"client_sponsor", "client_pm", "client_member"})
# Who may change a severity (it moves contractual deadlines) besides the reporter.
SEVERITY_ROLES = frozenset({"vendor_pm", "vendor_lead", "client_sponsor", "client_pm"})
ASSIGN_ROLES = frozenset({"vendor_pm", "vendor_lead"})
POLICY_ROLES = ("vendor_pm", "client_sponsor")

LABEL = {
    OPEN: "Open",
    ACKNOWLEDGED: "Acknowledged",
    IN_PROGRESS: "In progress",
    WAITING: "Waiting on client",
    RESOLVED: "Resolved",
    REOPENED: "Reopened",
    CLOSED: "Closed",
}


@dataclass(frozen=True)
class Transition:
    action: str  # "ack", "start", "wait", "resolve", "close", "reopen"
    source: str
    target: str
    side: str  # VENDOR or CLIENT: who may do it (CLIENT also admits the reporter)
    needs_reason: bool = False


# The one table. Anything not listed is refused.
TRANSITIONS: tuple[Transition, ...] = (
    Transition("ack", OPEN, ACKNOWLEDGED, VENDOR),
    Transition("ack", REOPENED, ACKNOWLEDGED, VENDOR),
    Transition("start", ACKNOWLEDGED, IN_PROGRESS, VENDOR),
    Transition("start", WAITING, IN_PROGRESS, VENDOR),
    Transition("start", REOPENED, IN_PROGRESS, VENDOR),
    Transition("wait", ACKNOWLEDGED, WAITING, VENDOR, needs_reason=True),
    Transition("wait", IN_PROGRESS, WAITING, VENDOR, needs_reason=True),
    Transition("wait", REOPENED, WAITING, VENDOR, needs_reason=True),
    # The client side answers what it was asked: the clock runs again (both sides own a pause).
    Transition("reply", WAITING, IN_PROGRESS, CLIENT, needs_reason=True),
    Transition("resolve", ACKNOWLEDGED, RESOLVED, VENDOR),
    Transition("resolve", IN_PROGRESS, RESOLVED, VENDOR),
    Transition("resolve", WAITING, RESOLVED, VENDOR),
    Transition("resolve", REOPENED, RESOLVED, VENDOR),
    Transition("close", RESOLVED, CLOSED, CLIENT),
    Transition("reopen", RESOLVED, REOPENED, CLIENT, needs_reason=True),
)

ACTIONS = ("ack", "start", "wait", "reply", "resolve", "close", "reopen")
VERB = {
    "ack": "acknowledge",
    "start": "start work on",
    "wait": "set waiting on client",
    "reply": "answer for the client on",
    "resolve": "resolve",
    "close": "close",
    "reopen": "reopen",
}
# Already-there answers: the action's target state, for "it's already acknowledged".
DONE_WORD = {
    "ack": "acknowledged",
    "start": "in progress",
    "wait": "waiting on the client",
    "reply": "in progress",
    "resolve": "resolved",
    "close": "closed",
    "reopen": "reopened",
}


def find(action: str, source: str) -> Transition | None:
    for t in TRANSITIONS:
        if t.action == action and t.source == source:
            return t
    return None


def legal_actions(state: str) -> list[str]:
    """Actions legal from `state`, in button order."""
    return [a for a in ACTIONS if find(a, state) is not None]


def why_not(action: str, state: str) -> str:
    """A reason an action is illegal from a state (for the refusal message)."""
    if action == "ack" and state != OPEN:
        return "It has already been acknowledged." if state != CLOSED else "It is closed."
    if state == CLOSED:
        return "It is closed."
    if action in ("close", "reopen"):
        return f"Only a resolved defect can be {DONE_WORD[action]}; this one is {LABEL[state].lower()}."
    if state == RESOLVED:
        return "It is resolved; reopen it first."
    if action == "start" and state == IN_PROGRESS:
        return "Work has already started."
    if action == "wait" and state == WAITING:
        return "It is already waiting on the client."
    if action == "reply":
        return "It is not waiting on the client."
    if state == OPEN:
        return "Acknowledge it first."
    return f"That is not possible while it is {LABEL[state].lower()}."


def side_of(roles: set[str] | frozenset[str]) -> set[str]:
    sides = set()
    if roles & VENDOR_ROLES:
        sides.add(VENDOR)
    if roles & CLIENT_ROLES:
        sides.add(CLIENT)
    return sides
