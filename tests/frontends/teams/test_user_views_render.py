"""The Teams renderer's user-specific views (handlers/teams/cards.py `Views`): buttons only some people may
press are left out of the card everyone sees and come back in each allowed person's own view, within Teams'
limit of 60 users a card refreshes for."""

from __future__ import annotations

import json

from bot.kernel.messages import Button, Card
from handlers.teams.cards import DATA_KEY, MAX_REFRESH_USERS, REFRESH_VERB, Views, render_card


def decision_card(allowed: tuple[int, ...]) -> Card:
    return Card(
        title="ACME-CR-7 · Add SSO",
        buttons=[
            Button("Approve", "cr.approve", "7", "primary", allowed=allowed),
            Button("Reject", "cr.reject", "7", "danger", allowed=allowed),
            Button("Ask a question", "cr.question", "7"),
        ],
    )


def titles(content: dict) -> list[str]:
    return [a["title"] for a in content.get("actions", [])]


def people(n: int) -> tuple[dict[int, str], dict[int, str]]:
    return {i: f"29:user-{i}" for i in range(1, n + 1)}, {i: f"Person {i}" for i in range(1, n + 1)}


def test_the_base_card_names_the_deciders_and_lists_them_for_a_refresh():
    mris, names = people(3)
    content = render_card(decision_card((1, 2)), views=Views(mris=mris, names=names, ref={"o": 42}))
    assert titles(content) == ["Ask a question"]
    assert "Approve / Reject: for Person 1 and Person 2" in json.dumps(content)
    refresh = content["refresh"]
    assert refresh["userIds"] == ["29:user-1", "29:user-2"]
    assert refresh["action"]["type"] == "Action.Execute" and refresh["action"]["verb"] == REFRESH_VERB
    assert refresh["action"]["data"] == {DATA_KEY: {"t": "refresh", "o": 42}}
    # The buttons a viewer may press carry the same reference, so the card a press makes keeps its refresh.
    assert content["actions"][0]["data"][DATA_KEY]["o"] == 42


def test_each_persons_own_view():
    mris, names = people(3)
    card = decision_card((1, 2))
    mine = render_card(card, views=Views(mris=mris, names=names, viewer=1, ref={"o": 42}))
    assert titles(mine) == ["Approve", "Reject", "Ask a question"] and "Approve / Reject: for" not in json.dumps(mine)
    assert mine["refresh"]["userIds"] == ["29:user-1", "29:user-2"]
    theirs = render_card(card, views=Views(mris=mris, names=names, viewer=3, ref={"o": 42}))
    assert titles(theirs) == ["Ask a question"] and "Approve / Reject: for Person 1 and Person 2" in json.dumps(theirs)
    # A 1:1 chat: the reader's view, nothing to refresh.
    dm = render_card(card, views=Views(mris=mris, names=names, viewer=1))
    assert titles(dm) == ["Approve", "Reject", "Ask a question"] and "refresh" not in dm


def test_more_than_60_deciders_keep_the_buttons_and_refresh_without_a_list():
    n = MAX_REFRESH_USERS + 1
    mris, names = people(n)
    content = render_card(decision_card(tuple(range(1, n + 1))), views=Views(mris=mris, names=names, ref={"o": 9}))
    assert titles(content) == ["Approve", "Reject", "Ask a question"]  # the server refuses whoever may not
    assert "userIds" not in content["refresh"] and content["refresh"]["action"]["verb"] == REFRESH_VERB
    assert "Approve / Reject: for" not in json.dumps(content)
    # Exactly 60: still one list, and the buttons are theirs alone.
    mris, names = people(MAX_REFRESH_USERS)
    content = render_card(
        decision_card(tuple(range(1, MAX_REFRESH_USERS + 1))), views=Views(mris=mris, names=names, ref={"o": 9})
    )
    assert titles(content) == ["Ask a question"] and len(content["refresh"]["userIds"]) == MAX_REFRESH_USERS
    assert "Person 1, Person 2, Person 3, Person 4, Person 5 and 55 others" in json.dumps(content)


def test_a_decider_whose_teams_id_is_unknown_keeps_the_buttons_for_everyone():
    mris, names = people(1)
    views = Views(mris=mris, names={**names, 2: "Nina"}, unreachable=frozenset({2}), ref={"o": 5})
    content = render_card(decision_card((1, 2)), views=views)
    assert titles(content) == ["Approve", "Reject", "Ask a question"]
    assert content["refresh"]["userIds"] == ["29:user-1"]


def test_without_views_or_restrictions_the_card_is_as_before():
    card = decision_card((1, 2))
    plain = render_card(card)
    assert titles(plain) == ["Approve", "Reject", "Ask a question"] and "refresh" not in plain
    free = Card(title="x", buttons=[Button("Acknowledge", "defect.ack", "3")])
    assert "refresh" not in render_card(free, views=Views(ref={"o": 1}))


def test_restricted_buttons_of_a_section_and_names_are_escaped():
    card = Card(
        title="Contract",
        sections=[Card(title="#2", buttons=[Button("Withdraw", "contract.withdraw", "2", allowed=(1,))])],
    )
    content = render_card(card, views=Views(mris={1: "29:a"}, names={1: "<at>Eve</at> [x](y)"}, ref={"o": 3}))
    shown = json.dumps(content)
    assert "Withdraw" in shown and "Action.Execute" not in json.dumps(content["body"])  # the line, no button
    assert "<at>" not in shown and "[x](y)" not in shown
    assert content["refresh"]["userIds"] == ["29:a"]
