"""Issue 20, item 10 and 14 (views): times carry their date when it is another day, zones are named
(Asia/Kathmandu, never +0545), and one date and one timestamp format are used everywhere."""

from __future__ import annotations

import base64
import io
import re
import tokenize
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.features.standups.cards import _answers_section
from bot.kernel.messages import Card
from bot.kernel.text import day_text, moment_text, plural, when
from handlers.console.render import render_card
from storage.models.standups import StandupEntry
from tests.features.change_requests.support import pending_cr
from tests.helpers import advance, click, make_engagement, reply_text, run, sent


def entry(answered_at: datetime, tz: str, day: date) -> StandupEntry:
    return StandupEntry(
        engagement_id=1,
        person_id=1,
        day=day,
        questions=["Done?", "Next?", "Blockers?"],
        answers=["a", "b", None],
        answered_at=answered_at,
        answer_tz=tz,
        late=False,
    )


@pytest.mark.parametrize(
    "answered_at, tz, shown",
    [
        # Given the evening before the standup's day, in New York: the date is shown.
        (
            datetime(2027, 1, 5, 3, 15, tzinfo=UTC),
            "America/New_York",
            "answered Mon 4 Jan 22:15 America/New_York their time",
        ),
        # Given on the day: the time alone, the zone by its name.
        (datetime(2027, 1, 5, 4, 0, tzinfo=UTC), "Asia/Kathmandu", "answered 09:45 Asia/Kathmandu their time"),
    ],
)
def test_a_digest_answer_says_its_day_when_it_is_not_the_standups(answered_at, tz, shown):
    card = _answers_section(entry(answered_at, tz, date(2027, 1, 5)), "Dev", compact=True)
    text = render_card(card, ZoneInfo(tz))
    assert shown in text
    assert "+0545" not in text


@pytest.mark.parametrize("viewer", ["Asia/Kathmandu", "America/New_York", "Asia/Kolkata", "UTC"])
def test_the_console_names_the_viewers_zone_and_uses_one_format(viewer):
    at = datetime(2027, 1, 7, 15, 0, tzinfo=UTC)
    text = render_card(Card(text=f"{when(at)} | {when(at, 'date')} | {when(at, 'time')}"), ZoneInfo(viewer))
    local = at.astimezone(ZoneInfo(viewer))
    assert text.strip() == f"{day_text(local)} {local:%H:%M} {viewer} | {day_text(local)} | {local:%H:%M} {viewer}"
    assert "+05" not in text


def test_one_date_format():
    assert day_text(date(2026, 12, 6)) == "Sun 6 Dec 2026"
    assert moment_text(datetime(2026, 12, 6, 9, 5, tzinfo=ZoneInfo("Asia/Kathmandu"))) == (
        "Sun 6 Dec 2026 09:05 Asia/Kathmandu"
    )


async def test_demo_history_is_in_the_readers_zone(core):
    people = await make_engagement(core)  # home zone: London (Alice's)
    reply = await run(core, people["carol"], "/demo schedule tomorrow 15:00 | Demo A")
    await click(core, people["carol"], "demo.confirm", reply.private[0].buttons[0].value)
    await advance(core, days=2)
    r = await run(core, people["victor"], "/demo history")
    text = render_card(r.private[0], ZoneInfo("Asia/Kolkata"))
    assert "ACME-DEMO-1 · Demo A · Wed 6 Jan 2027 01:30 Asia/Kolkata" in text
    assert "Europe/London" not in text and "America/New_York" not in text


async def test_moving_one_occurrence_of_a_series_says_the_series_is_unchanged(core):
    people = await make_engagement(core)
    r = await run(core, people["carol"], "/demo schedule every other thursday at 3pm | Sprint demo")
    await click(core, people["carol"], "demo.confirm", r.private[0].buttons[0].value)
    await core.drain()
    r = await run(core, people["carol"], "/demo move 1 next fri 10:00")
    assert "the next occurrence" in reply_text(r) and "Repeats" not in reply_text(r)
    await click(core, people["carol"], "demo.confirm", r.private[0].buttons[0].value)
    await core.drain()
    [moved] = [d for d in sent(core) if d.card.title == "Demo moved: Sprint demo"]
    text = moved.card.plain()
    assert "This occurrence is now: Fri 8 Jan 2027 10:00 America/New_York" in text
    assert "Unchanged: every 2 weeks on Thursday at 15:00 America/New_York. Only this occurrence moves." in text
    assert "every 2 weeks on Thursday at 10:00" not in text


async def test_every_timestamp_in_the_export_has_one_format(core, tmp_path):
    core.messengers["console"].files_dir = tmp_path
    people = await make_engagement(core)
    await run(core, people["carol"], "/defect s3 Search is slow")
    await run(core, people["dev"], "/defect ack 1")
    cr = await pending_cr(core, people)
    await click(core, people["alice"], "cr.approve", str(cr.id))
    await advance(core, hours=1)
    await run(core, people["alice"], "/cadence export")
    await core.drain()
    [att] = [a for d in sent(core) for a in d.card.attachments if a.mime == "application/zip"]
    zf = zipfile.ZipFile(io.BytesIO(base64.b64decode(att.content_b64)))
    stamps = [s for name in zf.namelist() for s in STAMP.findall(zf.read(name).decode("utf-8"))]
    assert len(stamps) > 5
    assert {s for s in stamps if not ONE_FORMAT.fullmatch(s)} == set()


STAMP = re.compile(r"\d{4}-\d\d-\d\dT[0-9:+Z-]+(?:\.\d+)?[0-9:+Z-]*")
ONE_FORMAT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")


@pytest.mark.parametrize(
    "n, word, many, shown",
    [
        (1, "day", None, "1 day"),
        (5, "day", None, "5 days"),
        (0, "blocker", None, "0 blockers"),
        (2, "SLA breach", "SLA breaches", "2 SLA breaches"),
    ],
)
def test_counts_are_pluralised_never_written_with_s_in_brackets(n, word, many, shown):
    assert plural(n, word, many) == shown


def test_no_message_writes_a_count_with_s_in_brackets():
    """Every string literal of the core (what people read comes from bot/; docstrings and the expressions
    inside f-strings aside) is free of `day(s)`-style plurals."""
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for folder in ("bot",):
        for path in (root / folder).rglob("*.py"):
            previous = tokenize.NEWLINE
            with path.open("rb") as f:
                for tok in tokenize.tokenize(f.readline):
                    statement_start = previous in (
                        tokenize.NEWLINE,
                        tokenize.INDENT,
                        tokenize.DEDENT,
                        tokenize.ENCODING,
                    )
                    if (
                        tok.type == tokenize.STRING
                        and not statement_start
                        and re.search(r"[a-z]\(s\)", re.sub(r"\{[^{}]*\}", "", tok.string))
                    ):
                        offenders.append(f"{path.relative_to(root)}:{tok.start[0]}")
                    if tok.type not in (tokenize.NL, tokenize.COMMENT):
                        previous = tok.type
    assert offenders == [], offenders
