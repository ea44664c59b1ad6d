"""The shared command grammar and help, including hostile input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.bootstrap import default_registry
from bot.kernel.grammar import parse
from bot.kernel.text import InputTooLong, clean, person, when
from tests.helpers import actor, make_engagement, reply_text, run

GROUPS = default_registry().groups  # the command groups the features declared


@pytest.mark.parametrize(
    "text,cmd,sub,rest",
    [
        ("/cr new Add SSO", "cr", "new", "Add SSO"),
        ("cr new Add SSO", "cr", "new", "Add SSO"),
        ("  /DEFECT  s1   Login down ", "defect", "s1", "Login down"),
        ("/standup", "standup", None, ""),
        ("help", "help", None, ""),
        ("", "help", None, ""),
        ("/cadence role <@U123|bob> qa", "cadence", "role", "<@U123|bob> qa"),
    ],
)
def test_parse(text, cmd, sub, rest):
    p = parse(text, GROUPS)
    assert (p.cmd, p.sub, p.rest) == (cmd, sub, rest)


def test_unknown_command_suggests_the_closest():
    p = parse("/defekt s1 x", GROUPS)
    assert p.cmd is None and p.suggestion == "defect"


def test_too_long_input_is_refused():
    with pytest.raises(InputTooLong):
        parse("cr new " + "x" * 10_000, GROUPS)


def test_clean_strips_controls_bidi_and_token_delimiters():
    forged = "hi \ue000person:1|boss\ue001 \u202eevil\x00"
    assert clean(forged) == "hi person:1|boss evil"


def test_tokens_cannot_be_forged_from_user_text():
    from bot.kernel.text import TOKEN_RE

    assert TOKEN_RE.search(clean(when.__doc__ or "") + clean("\ue000time:1|x\ue001")) is None
    assert TOKEN_RE.search(person(1, "A|B")) is not None


async def test_help_and_corrections(sqlite_core):
    core = sqlite_core
    a = actor("alice")
    r = await run(core, a, "help")
    assert "/cadence" in reply_text(r)
    r = await run(core, a, "/cadence help")
    assert "/cadence setup" in reply_text(r)
    r = await run(core, a, "/cadence flurb")
    assert "has no “flurb”" in reply_text(r)
    r = await run(core, a, "/cadense setup")
    assert "Did you mean `/cadence`" in reply_text(r)


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "/",
        "//",
        "x" * 10_000,
        "<!channel> ping",
        "<!here|here>",
        "*bold* _it_ `code`",
        "<script>alert(1)</script>",
        "🙂" * 500,
        "\x00\x01\x02",
        "cr new \u202e\u2066",
        "/cadence setup",
        "/cadence setup !!!",
        "/cadence role",
        "/cadence tz Mars/Olympus",
        "/cadence ooo yesterday to blah",
    ],
)
async def test_hostile_input_gets_an_answer_and_changes_nothing(sqlite_core, text):
    core = sqlite_core
    r = await run(core, actor("mallory"), text)
    assert r.private or r.form, "every input gets an answer"
    assert "Traceback" not in reply_text(r)
    from sqlalchemy import func, select

    from storage.models import Engagement

    async with core.session_factory() as s:
        assert await s.scalar(select(func.count()).select_from(Engagement)) == 0


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_parse_never_raises_on_random_text(text):
    try:
        p = parse(text, GROUPS)
    except InputTooLong:
        return
    assert p.cmd is None or p.cmd in ("help", "standup", "demo", "cr", "defect", "cadence")


async def test_setup_refuses_a_channel_already_bound(sqlite_core):
    core = sqlite_core
    people = await make_engagement(core)
    r = await run(core, people["alice"], "/cadence setup OTHER Other")
    assert "already the home of" in reply_text(r) or "already the home channel" in reply_text(r)
