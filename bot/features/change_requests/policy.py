"""Approval policy and quorum rules, pure: who must approve, how many, and whether a request is
approved, rejected, still waiting, or cannot reach its quorum at all."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.features.change_requests.settings import DEFAULTS

RULES = ("all", "any", "n_of_m")
SIDES = ("client", "vendor")

# The approver groups, whether both sides approve and the minor-change rule, from the feature's settings defaults
# (settings.py; the latter two are contract terms, bot/kernel/contract.py).
DEFAULT_POLICY: dict[str, Any] = {k: DEFAULTS[k] for k in ("groups", "both_sides_required", "minor")}


class PolicyError(ValueError):
    """A policy text or document that does not make sense; the message says why."""


@dataclass(frozen=True)
class Group:
    name: str
    roles: tuple[str, ...]
    rule: str = "all"
    n: int | None = None

    def needed(self, eligible: int) -> int:
        """Approvals this group needs when `eligible` people may approve."""
        if self.rule == "any":
            return 1
        if self.rule == "n_of_m":
            return int(self.n or 1)
        return eligible  # all

    def describe(self, eligible: int | None = None) -> str:
        """ "all 2", "1 of 1", "any one", "2 of 3" — read before "must approve"."""
        if self.rule == "any":
            return "any one"
        if self.rule == "n_of_m":
            return f"{self.n} of {eligible}" if eligible is not None else f"{self.n} of them"
        if eligible is None:
            return "all"
        return f"all {eligible}" if eligible > 1 else f"{eligible} of {eligible}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"roles": list(self.roles), "rule": self.rule}
        if self.rule == "n_of_m":
            out["n"] = self.n
        return out


def _amount(value: Any, what: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise PolicyError(f"The minor-change {what} “{value}” is not a number.") from None
    if not amount.is_finite() or amount < 0:
        raise PolicyError(f"The minor-change {what} must be 0 or more.")
    return amount


@dataclass(frozen=True)
class Minor:
    """The contract's minor-change term (`cr.minor`): an estimate strictly under `hours`, with no cost (`cost` 0)
    or a cost below `cost`, is decided by `rule` (with `n` for n_of_m) on each side instead of that side's rule."""

    hours: Decimal
    cost: Decimal
    rule: str = "any"
    n: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Minor:
        rule = data.get("rule", "any")
        if rule not in RULES:
            raise PolicyError(f"Unknown minor-change rule {rule!r}.")
        n = data.get("n")
        if rule == "n_of_m" and (not isinstance(n, int) or n < 1):
            raise PolicyError("The minor-change rule needs a number of approvals (1 or more).")
        return cls(
            hours=_amount(data.get("hours", 0), "hours threshold"),
            cost=_amount(data.get("cost", 0), "cost threshold"),
            rule=rule,
            n=n if rule == "n_of_m" else None,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"hours": str(self.hours), "cost": str(self.cost), "rule": self.rule}
        if self.rule == "n_of_m":
            out["n"] = self.n
        return out

    def applies(self, effort_hours: Decimal | None, cost: Decimal | None) -> bool:
        """Whether an estimate is a minor change: hours known and strictly under the threshold; the cost none or
        zero, or below the cost threshold when there is one."""
        if effort_hours is None or Decimal(effort_hours) >= self.hours:
            return False
        spent = Decimal(cost) if cost is not None else Decimal(0)
        return spent <= 0 or (self.cost > 0 and spent < self.cost)


@dataclass(frozen=True)
class Policy:
    groups: tuple[Group, ...]
    both_sides_required: bool = DEFAULT_POLICY["both_sides_required"]
    # The minor-change term the round was started under (None: a round started before the term existed).
    minor: Minor | None = None
    # This policy is the minor rule in force for one estimate (`for_estimate`), not each side's own rule.
    minor_applied: bool = False

    def for_estimate(self, effort_hours: Decimal | None, cost: Decimal | None) -> Policy:
        """The rule that decides a request with this estimate: each side's own, or the minor-change rule on every
        side when the estimate is under the minor threshold."""
        if self.minor is None or not self.minor.applies(effort_hours, cost):
            return self
        groups = tuple(replace(g, rule=self.minor.rule, n=self.minor.n) for g in self.groups)
        return replace(self, groups=groups, minor_applied=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Policy:
        data = dict(data or DEFAULT_POLICY)
        raw_groups = data.get("groups") or DEFAULT_POLICY["groups"]
        groups = []
        for name, g in raw_groups.items():
            rule = g.get("rule", "all")
            if rule not in RULES:
                raise PolicyError(f"Unknown rule {rule!r} for the {name} side.")
            n = g.get("n")
            if rule == "n_of_m" and (not isinstance(n, int) or n < 1):
                raise PolicyError(f"The {name} side's rule needs a number of approvals (1 or more).")
            groups.append(
                Group(name=name, roles=tuple(g.get("roles", ())), rule=rule, n=n if rule == "n_of_m" else None)
            )
        minor = data.get("minor")
        return cls(
            groups=tuple(groups),
            both_sides_required=bool(data.get("both_sides_required", DEFAULT_POLICY["both_sides_required"])),
            minor=Minor.from_dict(minor) if minor else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """The policy as a round keeps it: each side's own rule (never the minor rule applied to one estimate,
        which is worked out again from the estimate in force) and the minor-change term."""
        out: dict[str, Any] = {
            "groups": {g.name: g.to_dict() for g in self.groups},
            "both_sides_required": self.both_sides_required,
        }
        if self.minor is not None:
            out["minor"] = self.minor.to_dict()
        return out

    def group(self, name: str) -> Group:
        for g in self.groups:
            if g.name == name:
                return g
        raise PolicyError(f"There is no {name} side in the approval policy.")

    def required(self) -> tuple[Group, ...]:
        """Groups whose quorum is needed: every side, or the client side alone when both sides are
        not required (vendor decisions are then still recorded, and a vendor rejection still rejects)."""
        if self.both_sides_required:
            return self.groups
        client = [g for g in self.groups if g.name == "client"]
        return tuple(client or self.groups[:1])

    def all_roles(self) -> set[str]:
        return {r for g in self.groups for r in g.roles}


def parse_rule(text: str) -> tuple[str, int | None]:
    """ "all", "any", "2of3", "2 of 3", "2" → (rule, n)."""
    t = " ".join(text.lower().split())
    if t in ("all", "every", "everyone", "unanimous"):
        return "all", None
    if t in ("any", "one", "anyone", "1", "1of", "any one"):
        return "any", None
    m = re.fullmatch(r"(\d+)\s*(?:of\s*(\d+)|/\s*(\d+))?", t) or re.fullmatch(r"n_?of_?m\s+(\d+)()()", t)
    if m:
        n = int(m.group(1))
        if n < 1:
            raise PolicyError("A quorum needs at least 1 approval.")
        return "n_of_m", n
    raise PolicyError(f"I don't understand the rule “{text}”. Use `all`, `any` or a number like `2of3`.")


@dataclass
class GroupTally:
    group: Group
    required: bool
    eligible: list[int]  # person ids that may approve for this group (requester excluded)
    requester_excluded: bool
    approvals: list[int] = field(default_factory=list)
    rejections: list[int] = field(default_factory=list)

    @property
    def needed(self) -> int:
        return self.group.needed(len(self.eligible))

    @property
    def reachable(self) -> bool:
        return len(self.eligible) > 0 and self.needed <= len(self.eligible)

    @property
    def met(self) -> bool:
        return self.reachable and len(self.approvals) >= self.needed

    @property
    def waiting_for(self) -> list[int]:
        decided = set(self.approvals) | set(self.rejections)
        return [p for p in self.eligible if p not in decided]

    def problem(self) -> str | None:
        """Why this group can't reach its quorum, in words, or None."""
        if self.reachable:
            return None
        side = self.group.name
        roles = ", ".join(r.replace("_", " ") for r in self.group.roles)
        besides = " besides the requester" if self.requester_excluded else ""
        if not self.eligible:
            return (
                f"The {side} side can't reach its quorum: nobody{besides} has the role {roles}. "
                f"Add an approver or change the policy (`/cr policy`)."
            )
        return (
            f"The {side} side can't reach its quorum: it needs {self.needed} approvals and only "
            f"{len(self.eligible)} approver{'' if len(self.eligible) == 1 else 's'}{besides} can give one. "
            "Add an approver or change the "
            f"policy (e.g. `/cr policy {side} any`)."
        )


@dataclass
class Tally:
    groups: list[GroupTally]

    @property
    def rejected(self) -> bool:
        return any(g.rejections for g in self.groups)

    @property
    def approved(self) -> bool:
        required = [g for g in self.groups if g.required]
        return bool(required) and not self.rejected and all(g.met for g in required)

    @property
    def problems(self) -> list[str]:
        return [p for g in self.groups if g.required and (p := g.problem())]

    def waiting_for(self) -> list[int]:
        """Approvers whose decision could still matter (required groups not yet met)."""
        out: list[int] = []
        for g in self.groups:
            if g.required and not g.met:
                out += [p for p in g.waiting_for if p not in out]
        return out

    def approvers(self) -> list[int]:
        out: list[int] = []
        for g in self.groups:
            out += [p for p in g.eligible if p not in out]
        return out


def tally(
    policy: Policy, members: Mapping[int, Iterable[str]], requester_id: int, decisions: Mapping[int, str]
) -> Tally:
    """Count `decisions` ({person_id: "approve"|"reject"}) against `policy`, given the engagement's
    members and their roles ({person_id: roles}). The requester never counts as an approver."""
    required = {g.name for g in policy.required()}
    out = []
    for g in policy.groups:
        holders = [pid for pid, roles in members.items() if set(roles) & set(g.roles)]
        eligible = [pid for pid in holders if pid != requester_id]
        gt = GroupTally(
            group=g, required=g.name in required, eligible=eligible, requester_excluded=requester_id in holders
        )
        for pid in eligible:
            d = decisions.get(pid)
            if d == "approve":
                gt.approvals.append(pid)
            elif d == "reject":
                gt.rejections.append(pid)
        out.append(gt)
    return Tally(groups=out)


def seat_holders(policy: Policy, members: Mapping[int, Iterable[str]], requester_id: int) -> list[int]:
    """Everyone who may decide on a request (in any group), requester excluded."""
    return tally(policy, members, requester_id, {}).approvers()
