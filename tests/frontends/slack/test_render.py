"""Card / Form → Block Kit: escaping, tokens and Slack's limits (no server needed)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.kernel.messages import Button, Card, Field, Form, Input, Option
from bot.kernel.text import person, when
from handlers.slack import render


def test_time_tokens_become_date_tokens_with_a_utc_fallback():
    at = datetime(2027, 1, 7, 15, 0, tzinfo=UTC)
    out = render.mrkdwn(f"Demo {when(at)}; day {when(at, 'date')}; at {when(at, 'time')}")
    epoch = int(at.timestamp())
    assert f"<!date^{epoch}^{{date_short_pretty}} {{time}}|Thu 7 Jan 2027 15:00 UTC>" in out
    assert f"<!date^{epoch}^{{date_short_pretty}}|Thu 7 Jan 2027>" in out
    assert f"<!date^{epoch}^{{time}}|15:00 UTC>" in out


def test_person_tokens_mention_known_slack_users_and_escape_others():
    text = f"{person(1, 'Asha')} and {person(2, 'Bob <script>')}"
    assert render.mrkdwn(text, {1: "U0ASHA"}) == "<@U0ASHA> and Bob &lt;script&gt;"
    assert render.person_ids([Card(text=text, sections=[Card(text=person(3, "C"))])]) == {1, 2, 3}


def test_escaping():
    assert render.mrkdwn("<!channel> & <http://x|y>") == "&lt;!channel&gt; &amp; &lt;http://x|y&gt;"


def test_block_kit_limits():
    card = Card(
        title="T" * 300,
        text="x" * 7000,
        fields=[Field(f"f{i}", "v" * 3000) for i in range(25)],
        buttons=[Button("B" * 100, "cr.approve", str(i)) for i in range(30)],
    )
    blocks = render.card_blocks(card)
    assert len(blocks[0]["text"]["text"]) <= 150
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section" and "text" in b)
    assert all(
        len(b["fields"]) <= 10 and all(len(f["text"]) <= 2000 for f in b["fields"]) for b in blocks if "fields" in b
    )
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert len(buttons) == 30 and all(len(e["text"]["text"]) <= 75 for e in buttons)
    assert all(len(b["elements"]) <= 25 for b in blocks if b["type"] == "actions")
    assert len({e["action_id"] for e in buttons}) == 30  # unique, though all are "cr.approve"
    assert {render.decode_action_id(e["action_id"]) for e in buttons} == {"cr.approve"}
    many = render.blocks_for([card] * 10)
    assert len(many) == 50 and many[-1]["type"] == "context"
    actions = [b["block_id"] for b in many if b["type"] == "actions"]
    assert len(actions) == len(set(actions))


def test_message_has_fallback_text():
    msg = render.message(Card(title="CR-7 <approved>", text="by me"))
    assert msg["text"] == "CR-7 &lt;approved&gt;\nby me"
    assert msg["blocks"][0]["type"] == "header"


def test_modal_bounds_and_metadata():
    form = Form(
        "cr.new",
        "A very long modal title indeed",
        [
            Input("kind", "Kind", kind="select", options=[Option("A", "a"), Option("B", "b")], initial="b"),
            Input("when", "When", kind="datetime", initial="2027-01-07T15:00:00+00:00"),
            Input("day", "Day", kind="date", initial="2027-01-07"),
        ],
        submit_label="Submit request now please",
        state={"cr": 7},
    )
    view = render.modal(form, {"f": form.form_id, "s": form.state})
    assert len(view["title"]["text"]) <= 24 and len(view["submit"]["text"]) <= 24
    assert json.loads(view["private_metadata"]) == {"f": "cr.new", "s": {"cr": 7}}
    kind, at, day = [b["element"] for b in view["blocks"]]
    assert kind["initial_option"]["value"] == "b"
    assert at["initial_date_time"] == int(datetime(2027, 1, 7, 15, tzinfo=UTC).timestamp())
    assert day["initial_date"] == "2027-01-07"


def test_form_errors_map_to_blocks_and_are_never_lost():
    assert render.form_errors(["title", "hours"], {"hours": "a number", "other": "bad state"}) == {
        "hours": "a number",
        "title": "bad state",
    }


def test_initial_values_slack_would_refuse_are_left_out_or_bounded():
    form = Form(
        "f",
        "F",
        [
            Input("t", "T", max_length=10, initial="x" * 50),
            Input("n", "N", kind="number", initial="6,000"),
            Input("m", "M", kind="number", initial="lots"),
            Input("s", "S", kind="select", options=[]),
        ],
    )
    t, n, m, sel = [b["element"] for b in render.modal(form, {"f": "f"})["blocks"]]
    assert t["initial_value"] == "x" * 10
    assert n["initial_value"] == "6000" and "initial_value" not in m
    assert sel["type"] == "plain_text_input"
