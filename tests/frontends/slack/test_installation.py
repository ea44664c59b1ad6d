"""Which installation serves a Slack request and who acted, on payloads as Slack sends them in a Slack
Connect channel (shapes from platform-facts.md, section 1)."""

from __future__ import annotations

from handlers.slack.installation import actor, installing_team

VENDOR, CLIENT = "T0VENDOR", "T0CLIENT"


def test_an_event_from_the_other_workspace():
    body = {
        "team_id": CLIENT,
        "authorizations": [{"team_id": VENDOR, "is_bot": True}],
        "context_team_id": VENDOR,
        "is_ext_shared_channel": True,
        "event": {"type": "app_mention", "user": "UPRIYA", "team": CLIENT, "user_team": CLIENT},
    }
    assert installing_team(body) == VENDOR
    who = actor(body)
    assert (who.user_id, who.team_id, who.is_external) == ("UPRIYA", CLIENT, True)


def test_an_enterprise_member_of_the_installing_org_is_not_external():
    body = {
        "team_id": "T0OTHERWS",
        "authorizations": [{"team_id": VENDOR, "enterprise_id": "E0VENDOR"}],
        "event": {"user": "UALICE", "user_team": "E0VENDOR"},
    }
    assert actor(body).is_external is False


def test_a_click_and_a_modal_from_the_other_workspace():
    click = {"type": "block_actions", "team": {"id": VENDOR}, "user": {"id": "USAM", "team_id": CLIENT}}
    assert installing_team(click) == VENDOR and actor(click).is_external
    submit = {
        "type": "view_submission",
        "team": {"id": CLIENT},
        "user": {"id": "USAM", "team_id": CLIENT},
        "view": {"app_installed_team_id": VENDOR},
    }
    assert installing_team(submit) == VENDOR and actor(submit).is_external


def test_a_slash_command_and_our_own_people():
    command = {"team_id": VENDOR, "user_id": "UALICE", "command": "/cr"}
    assert installing_team(command) == VENDOR
    assert actor(command).is_external is False
    click = {"team": {"id": VENDOR}, "user": {"id": "UALICE", "team_id": VENDOR}}
    assert actor(click).is_external is False


def test_malformed_payloads_do_not_raise():
    for body in ({}, {"authorizations": "x", "view": [], "team": "T1"}, {"authorizations": [None], "user": "U1"}):
        assert isinstance(installing_team(body), str)
        assert actor(body).is_external is False
