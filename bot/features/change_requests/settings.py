"""The defaults of the change-request settings, their one place (registered by commands.register; an
engagement's values: `service.settings(engagement)`)."""

from __future__ import annotations

from typing import Any

from bot.kernel.people import REMINDER_AT

FEATURE = "cr"

DEFAULTS: dict[str, Any] = {
    # Approver groups, each with a rule (all | any | n_of_m with "n").
    "groups": {
        # The client approves scope and cost; the vendor confirms capacity.
        "client": {"roles": ["client_sponsor", "client_pm"], "rule": "all"},
        "vendor": {"roles": ["vendor_pm"], "rule": "any"},
    },
    "both_sides_required": True,  # a contract term (bot/kernel/contract.py)
    # Minor changes (a contract term, `cr.minor`): a request whose estimate is under `hours` (strictly) and whose
    # cost is zero — or below `cost` when it is above zero — is decided by `rule` on each side instead of that
    # side's own rule. Amounts as text: exact decimals, never floats.
    "minor": {"hours": "8", "cost": "0", "rule": "any"},
    "reminder_time": f"{REMINDER_AT:%H:%M}",  # approver's local time, on their work days
    "escalate_after_workdays": 3,  # in the engagement's home calendar
    "contingency_warn_pct": 80,
    "currency": "",  # shown before amounts, e.g. "EUR"
}
