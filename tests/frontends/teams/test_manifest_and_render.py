"""The Teams app package and the Adaptive Card renderer, checked without a server."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from bot.kernel.messages import Attachment, Button, Card, Field, Form, Input
from bot.kernel.text import person, when
from handlers.teams import cards

ROOT = Path(__file__).resolve().parents[3]


def test_manifest_is_consistent_and_icons_have_the_required_sizes():
    folder = ROOT / "manifest" / "teams"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["manifestVersion"] == "1.25"
    # Shared and private channels (another organization's members): Microsoft's app guidance for shared
    # channels; "supportsChannelFeatures" exists from manifest 1.25 on.
    assert manifest["supportsChannelFeatures"] == "tier1"
    assert set(manifest["supportedChannelTypes"]) == {"sharedChannels", "privateChannels"}
    assert manifest["id"] == manifest["bots"][0]["botId"]
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "team", "groupChat"}
    scopes = {s for cl in manifest["bots"][0]["commandLists"] for s in cl["scopes"]}
    assert scopes == {"personal", "team", "groupChat"}
    for cl in manifest["bots"][0]["commandLists"]:
        assert len(cl["commands"]) <= 10
        assert all(len(c["title"]) <= 32 and len(c["description"]) <= 128 for c in cl["commands"])
    assert len(manifest["description"]["short"]) <= 80
    color = Image.open(folder / manifest["icons"]["color"])
    outline = Image.open(folder / manifest["icons"]["outline"])
    assert color.size == (192, 192)
    assert outline.size == (32, 32) and outline.mode == "RGBA"
    # the outline icon is white on transparent
    assert {px[:3] for px in outline.getdata() if px[3]} == {(255, 255, 255)}


def test_time_tokens_become_adaptive_card_date_time_functions():
    at = datetime(2027, 1, 4, 15, 30, tzinfo=UTC)
    assert (
        cards.render_text(f"Demo {when(at)}")
        == "Demo {{DATE(2027-01-04T15:30:00Z, SHORT)}} {{TIME(2027-01-04T15:30:00Z)}}"
    )
    assert cards.render_text(when(at, "date")) == "{{DATE(2027-01-04T15:30:00Z, SHORT)}}"
    assert cards.render_text(when(at, "time")) == "{{TIME(2027-01-04T15:30:00Z)}}"


def test_person_tokens_are_mentions_only_for_people_on_teams():
    mentions = cards.Mentions()
    text = cards.render_text(f"{person(1, 'Asha')} and {person(2, 'Sam')}", {1: ("aad-1", "Asha Rao")}, mentions)
    assert text == "<at>Asha Rao</at> and Sam"
    assert mentions.entities == [
        {"type": "mention", "text": "<at>Asha Rao</at>", "mentioned": {"id": "aad-1", "name": "Asha Rao"}}
    ]


def test_escape_neutralises_links_html_and_template_functions():
    out = cards.escape("[x](http://e) <at>All</at> {{DATE(2030-01-01T00:00:00Z)}} *ok*")
    assert "[x](" not in out and "<at>" not in out and "{{" not in out and "*ok*" in out


def test_card_layout_tone_fields_buttons_and_attachments():
    png = io.BytesIO()
    Image.new("RGB", (4, 4), (255, 0, 0)).save(png, format="PNG")
    card = Card(
        title="ACME-CR-7",
        text="Needs approval",
        tone="warning",
        fields=[Field("Cost", "1,200 EUR"), Field("Description", "Long text", short=False)],
        buttons=[Button("Approve", "cr.approve", "7", "primary"), Button("Reject", "cr.reject", "7", "danger")],
        attachments=[
            Attachment("chart.png", base64.b64encode(png.getvalue()).decode(), "image/png"),
            Attachment("crs.csv", base64.b64encode(b"a,b\n1,2\n").decode(), "text/csv"),
        ],
        footer="Cadence",
    )
    content = cards.render_card(card)
    assert content["body"][0]["style"] == "warning"
    dump = json.dumps(content)
    assert '"FactSet"' in dump and "1,200 EUR" in dump
    assert '"url": "data:image/png;base64,' in dump
    assert "crs.csv" in dump and "no public address for download links" in dump  # without PUBLIC_URL
    approve, reject = content["actions"]
    assert approve == {**approve, "type": "Action.Execute", "verb": "cr.approve", "style": "positive"}
    assert approve["data"] == {"_cadence": {"t": "action", "id": "cr.approve"}, "value": "7"}
    assert reject["style"] == "destructive"
    assert cards.parse_submission(approve["data"], approve["verb"]).id == "cr.approve"
    assert cards.parse_submission(approve["fallback"]["data"]).value == "7"  # Action.Submit


def test_form_submission_round_trip_with_datetime_and_state():
    form = Form(
        "cr.new",
        "New change request",
        [
            Input("title", "Title", max_length=150),
            Input("when", "Wanted by", kind="datetime"),
            Input("hours", "Hours", kind="number", required=False),
        ],
        state={"engagement": 3},
    )
    content = cards.render_form(form)
    data = content["actions"][0]["data"]
    sub = cards.parse_submission(
        {**data, "title": "SSO", "when": "2027-02-01", "when__time": "09:00", "hours": 4.0}, cards.FORM_VERB
    )
    assert sub.kind == "form" and sub.id == "cr.new" and sub.state == {"engagement": 3}
    assert sub.values == {"title": "SSO", "when": "2027-02-01 09:00", "hours": "4"}
    again = cards.render_form(sub.form, errors={"title": "Too vague."}, values=sub.values)
    assert "Too vague." in json.dumps(again) and '"value": "SSO"' in json.dumps(again)
