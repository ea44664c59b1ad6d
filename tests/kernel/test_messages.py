"""The neutral message model survives its stored form unchanged (every outgoing message is stored as
Card.to_dict() in the outbox and rebuilt with Card.from_dict() to be delivered)."""

import json
from dataclasses import asdict

from bot.kernel.messages import Attachment, Button, Card, Field


def full_card() -> Card:
    return Card(
        title="CR-7 approved",
        text="by *both* sides",
        fields=[Field("Cost", "3 days"), Field("Risk", "low", False)],
        buttons=[Button("Open", "cr.open", "7", "primary")],
        sections=[Card(title="History", fields=[Field("a", "b")], buttons=[Button("x", "y")])],
        footer="audit #12",
        tone="good",
        attachments=[Attachment("cr.csv", "YSxi", "text/csv", "CR export")],
        image_url="https://example.test/chart.png",
    )


def test_to_dict_holds_every_field_of_the_dataclasses():
    # to_dict is written by hand for speed; a field added to Card (or Field, Button, Attachment) and not
    # to to_dict would be silently dropped from every stored message. asdict is the reference.
    card = full_card()
    assert card.to_dict() == asdict(card)


def test_round_trip_through_the_stored_form():
    card = full_card()
    assert Card.from_dict(card.to_dict()) == card
    assert Card.from_dict(Card().to_dict()) == Card()


def test_to_dict_is_a_copy():
    card = full_card()
    stored = card.to_dict()
    stored["fields"][0]["value"] = "changed"
    assert card.fields[0].value == "3 days"


def test_who_may_press_a_button_survives_the_stored_json_form():
    card = Card(buttons=[Button("Approve", "cr.approve", "7", "primary", allowed=(3, 5)), Button("Open", "x")])
    again = Card.from_dict(json.loads(json.dumps(card.to_dict())))  # the outbox stores JSON: a list comes back
    assert again == card and again.buttons[0].allowed == (3, 5) and again.buttons[1].allowed is None
