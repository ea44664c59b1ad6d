"""The pure rules of change requests: the state table, quorum rules, money and contingency."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.features.change_requests.money import Contingency, parse_amount, parse_days
from bot.features.change_requests.policy import Policy, PolicyError, parse_rule, tally
from bot.features.change_requests.states import (
    TRANSITIONS,
    IllegalTransition,
    State,
    allowed_actions,
    check,
    role_allows,
)

# The domain page, edge by edge: (from, action) → to. Everything else is refused.
EDGES = {
    ("submitted", "assess"): "assessed",
    ("assessed", "request_approval"): "pending_approval",
    ("pending_approval", "approve"): "approved",
    ("pending_approval", "reject"): "rejected",
    ("submitted", "withdraw"): "withdrawn",
    ("assessed", "withdraw"): "withdrawn",
    ("pending_approval", "withdraw"): "withdrawn",
    ("approved", "schedule"): "scheduled",
    ("scheduled", "schedule"): "scheduled",  # a new date corrects a wrong one
    ("scheduled", "deliver"): "delivered",
}


@pytest.mark.parametrize("state", [s.value for s in State])
@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_every_transition_and_refusal(state, action):
    if (state, action) in EDGES:
        assert check(state, action) == State(EDGES[(state, action)])
    else:
        with pytest.raises(IllegalTransition) as exc:
            check(state, action, ref="ACME-CR-7")
        assert str(exc.value).startswith("ACME-CR-7 is ")
        # Already in the state the step leads to: say so, not "it can't be withdrawn: that is a final state".
        if State(state) == TRANSITIONS[action].target:
            assert str(exc.value) == f"ACME-CR-7 is already {state.replace('_', ' ')}; nothing was changed."
        else:
            assert "can't be" in str(exc.value)


def test_refusal_reasons_say_why():
    with pytest.raises(IllegalTransition, match="only be withdrawn before a decision"):
        check("approved", "withdraw", ref="ACME-CR-7")
    with pytest.raises(IllegalTransition, match="not been assessed"):
        check("submitted", "approve")
    with pytest.raises(IllegalTransition, match="only an approved request can be scheduled"):
        check("pending_approval", "schedule")
    with pytest.raises(IllegalTransition, match="only a scheduled request can be delivered"):
        check("approved", "deliver")
    with pytest.raises(IllegalTransition, match="final state"):
        check("withdrawn", "assess")


def test_final_states_have_no_way_out():
    for s in ("rejected", "withdrawn", "delivered"):
        assert allowed_actions(s) == []


def test_who_may():
    assert role_allows("assess", {"vendor_lead"}, is_requester=False)
    assert not role_allows("assess", {"client_pm"}, is_requester=True)
    assert role_allows("withdraw", set(), is_requester=True)
    assert not role_allows("withdraw", {"client_sponsor", "vendor_pm"}, is_requester=False)
    assert not role_allows("approve", {"client_sponsor"}, is_requester=False)  # the policy decides that
    assert not role_allows("request_approval", {"vendor_pm"}, is_requester=False)  # Cadence only


# -- quorum -----------------------------------------------------------------------------------------

MEMBERS = {
    1: ["client_sponsor"],
    2: ["client_pm"],
    3: ["client_pm"],
    4: ["vendor_pm"],
    5: ["developer"],
    6: ["vendor_pm"],
}


def pol(client="all", vendor="any", n_client=None, n_vendor=None, both=True) -> Policy:
    def g(roles, rule, n):
        return {"roles": roles, "rule": rule, **({"n": n} if n else {})}

    return Policy.from_dict(
        {
            "groups": {
                "client": g(["client_sponsor", "client_pm"], client, n_client),
                "vendor": g(["vendor_pm"], vendor, n_vendor),
            },
            "both_sides_required": both,
        }
    )


def test_all_rule_needs_every_client_approver_and_the_vendor():
    p = pol()
    t = tally(p, MEMBERS, requester_id=5, decisions={1: "approve", 2: "approve", 4: "approve"})
    assert not t.approved and t.waiting_for() == [3]
    t = tally(p, MEMBERS, requester_id=5, decisions={1: "approve", 2: "approve", 3: "approve", 4: "approve"})
    assert t.approved


def test_any_rule():
    p = pol(client="any")
    assert tally(p, MEMBERS, 5, {2: "approve", 6: "approve"}).approved
    assert not tally(p, MEMBERS, 5, {2: "approve"}).approved  # vendor side still missing


def test_two_of_three():
    p = pol(client="n_of_m", n_client=2)
    assert not tally(p, MEMBERS, 5, {1: "approve", 4: "approve"}).approved
    assert tally(p, MEMBERS, 5, {1: "approve", 3: "approve", 4: "approve"}).approved


def test_two_sided_and_both_off():
    one_side = {1: "approve", 2: "approve", 3: "approve"}
    assert not tally(pol(), MEMBERS, 5, one_side).approved
    assert tally(pol(both=False), MEMBERS, 5, one_side).approved
    # With both sides off the vendor alone never approves, and a vendor rejection still rejects.
    assert not tally(pol(both=False), MEMBERS, 5, {4: "approve"}).approved
    assert tally(pol(both=False), MEMBERS, 5, {**one_side, 4: "reject"}).rejected


def test_one_rejection_rejects():
    t = tally(pol(client="any"), MEMBERS, 5, {1: "approve", 4: "approve", 2: "reject"})
    assert t.rejected and not t.approved


def test_requester_never_counts_and_unreachable_quorum_is_explained():
    p = pol(client="n_of_m", n_client=3)
    t = tally(p, MEMBERS, requester_id=2, decisions={2: "approve", 1: "approve", 3: "approve", 4: "approve"})
    assert 2 not in t.groups[0].eligible and not t.approved
    assert "needs 3 approvals and only 2 approvers besides the requester" in t.problems[0]
    # A vendor PM requesting with no other vendor PM: the vendor side has nobody.
    t = tally(pol(), {1: ["client_sponsor"], 4: ["vendor_pm"]}, requester_id=4, decisions={1: "approve"})
    assert not t.approved and "nobody besides the requester" in t.problems[0]
    # Decisions by non-approvers are ignored.
    assert not tally(pol(client="any"), MEMBERS, 5, {5: "approve", 4: "approve"}).approved


def test_parse_rule():
    assert parse_rule("any") == ("any", None)
    assert parse_rule("all") == ("all", None)
    assert parse_rule("2of3") == ("n_of_m", 2)
    assert parse_rule("2 of 3") == ("n_of_m", 2)
    assert parse_rule("3") == ("n_of_m", 3)
    for bad in ("0of3", "most", "", "-1"):
        with pytest.raises(PolicyError):
            parse_rule(bad)


@given(
    decisions=st.dictionaries(st.sampled_from(list(MEMBERS)), st.sampled_from(["approve", "reject"])),
    requester=st.sampled_from(list(MEMBERS)),
    rule=st.sampled_from(["all", "any", "n_of_m"]),
    n=st.integers(1, 3),
    both=st.booleans(),
)
def test_quorum_invariants(decisions, requester, rule, n, both):
    p = pol(client=rule, n_client=n if rule == "n_of_m" else None, both=both)
    t = tally(p, MEMBERS, requester, decisions)
    assert not (t.approved and t.rejected)
    for g in t.groups:
        assert requester not in g.eligible
        assert set(g.approvals) <= set(g.eligible)
    if t.approved:
        assert all(g.met for g in t.groups if g.required)
        assert all(decisions.get(pid) != "reject" for g in t.groups for pid in g.eligible)


# -- money ------------------------------------------------------------------------------------------


def test_amounts_are_exact_decimals():
    assert parse_amount("12,500") == Decimal("12500.00")
    assert parse_amount("$12 500.50") == Decimal("12500.50")
    assert parse_amount("0.10") + parse_amount("0.20") == Decimal("0.30")
    assert parse_amount("99,5") == Decimal("99.50")
    for bad in ("", "abc", "-5", "1.234", "1e9999", "NaN"):
        with pytest.raises(ValueError):
            parse_amount(bad)
    assert parse_days("5 days") == 5
    with pytest.raises(ValueError):
        parse_days("2.5")


def test_contingency():
    c = Contingency.of(Decimal("100000"), 15.0, Decimal("10000"))
    assert c.fund == Decimal("15000.00") and c.remaining == Decimal("5000.00")
    assert c.would_exceed(Decimal("6000")) == Decimal("1000.00")
    assert c.would_exceed(Decimal("5000")) is None
    assert c.crosses(Decimal("2000"), 80)  # 10 000 → 12 000 of 15 000 (80 %)
    assert not c.crosses(Decimal("1999.99"), 80)
    assert not Contingency.of(Decimal("100000"), 15, Decimal("12000")).crosses(Decimal("1"), 80)  # already above
    assert Contingency.of(None, 15, Decimal(0)).fund is None
