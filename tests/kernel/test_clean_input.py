"""Clean text and checked numbers (issue 17 item 5, issue 20 item 6), as the core and the console see them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.kernel.text import clean
from bot.shared.numbers import NumberError, currency_code, parse_money, parse_number
from tests.features.change_requests.support import assess, file_cr, get, said
from tests.helpers import click, make_engagement, run

ROOT = Path(__file__).resolve().parents[2]
INVISIBLE = (
    [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200b", "\u200c", "\u200e", "\u200f", "\u2060", "\u2061", "\u2062", "\u2063", "\u2064"]
    + ["\u061c", "\u180e", "\ufeff", "\U000e0001", "\U000e0041", "\U000e007f"]
)


@pytest.mark.parametrize("ch", INVISIBLE, ids=[f"U+{ord(c):04X}" for c in INVISIBLE])
def test_every_invisible_or_bidi_character_is_removed(ch):
    assert clean(f"Pay{ch}ment {ch}due") == "Payment due"


@given(st.text(alphabet=st.sampled_from([*INVISIBLE, "\u200d", "a", " ", "é"]), max_size=40))
def test_nothing_invisible_survives_any_mix(text):
    out = clean(text)
    assert not any(ch in out for ch in INVISIBLE)
    assert "\u200d" not in out  # a joiner between letters (not emoji) goes too


@pytest.mark.parametrize(
    "emoji",
    [
        "👩\u200d💻",  # woman technologist (ZWJ sequence)
        "👨🏽\u200d🦰",  # with a skin tone
        "❤️\u200d🔥",  # with the emoji variation selector
        "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # flag of Scotland (tag sequence)
    ],
)
def test_emoji_sequences_keep_their_joiners_and_tags(emoji):
    assert clean(f"Done {emoji} ok") == f"Done {emoji} ok"


def test_a_broken_tag_sequence_keeps_the_flag_only():
    assert clean("🏴\U000e0067\U000e0062 x") == "🏴 x"


@pytest.mark.parametrize(
    "text, message",
    [
        ("NaN", "not a number"),
        ("nan", "not a number"),
        ("Infinity", "not a number"),
        ("-inf", "not a number"),
        ("1e3", "not a number"),
        ("-5", "can't be negative"),
        ("1000.001", "more than 2 decimal places"),
        ("1000000000000", "too large"),
        ("", "is required"),
    ],
)
def test_one_number_parser_refuses_what_no_column_should_hold(text, message):
    with pytest.raises(NumberError, match=message):
        parse_number(text, what="The budget", maximum=Decimal("999999999999.99"))


def test_numbers_people_write_are_read():
    big = Decimal("999999999999.99")
    assert parse_number("12,500.50", what="x", maximum=big) == Decimal("12500.50")
    assert parse_number("12 500", what="x", maximum=big) == Decimal("12500.00")
    assert parse_number("12,5", what="x", maximum=big) == Decimal("12.50")
    assert parse_money("USD 6,000.50", what="Cost", maximum=big).currency == "USD"
    assert parse_money("6000.50 inr", what="Cost", maximum=big).currency == "INR"
    assert parse_money("€12 500", what="Cost", maximum=big).currency == "EUR"
    assert parse_money("$300", what="Cost", maximum=big).currency is None  # "$" names several currencies
    with pytest.raises(NumberError, match="two currencies"):
        parse_money("EUR £5", what="Cost", maximum=big)


@pytest.mark.parametrize("code", ["XYZ", "EURO", "US", "€€", "12"])
def test_currencies_are_iso_4217(code):
    with pytest.raises(NumberError, match="ISO 4217"):
        currency_code(code)
    assert currency_code("jpy") == "JPY" and currency_code("£") == "GBP"


async def test_a_cost_keeps_its_currency(core):
    """`USD 6,000.50` is not read as a bare 6,000.50: the engagement's amounts become USD, and a cost in
    another currency is refused on the form (nothing changes)."""
    people = await make_engagement(core)
    cr = await file_cr(core, people["carol"])
    r = await assess(core, people["victor"], cr, cost="USD 6,000.50")
    assert "sent for approval" in said(r), said(r)
    assert (await get(core, cr.id)).cost == Decimal("6000.50")
    r = await run(core, people["alice"], "/cr settings")
    assert "USD" in said(r)
    r = await run(core, people["alice"], f"/cr show {(await get(core, cr.id)).number}")
    assert "USD 6,000.50" in said(r)
    other = await file_cr(core, people["carol"], title="Another")
    r = await assess(core, people["victor"], other, cost="EUR 10")
    assert "are in USD" in r.errors.get("cost", ""), r.errors
    assert (await get(core, other.id)).cost is None
    r = await assess(core, people["victor"], other, effort_hours="NaN")
    assert "not a number" in r.errors.get("effort_hours", "")


async def test_form_values_are_cleaned_before_they_are_stored(core):
    people = await make_engagement(core)
    cr = await file_cr(core, people["carol"], title="Move\u202e the\u200b button")
    assert (await get(core, cr.id)).title == "Move the button"


async def test_a_tampered_button_value_is_cleaned(core):
    people = await make_engagement(core)
    cr = await file_cr(core, people["carol"])
    r = await click(core, people["alice"], "cr.approve", f"{cr.id}\u202e")
    assert "went wrong" not in said(r)


def test_console_cleans_text_checks_numbers_and_writes_every_export(tmp_path):
    script = "\n".join(
        [
            "as alice Europe/London",
            "/cadence setup ACME Acme web shop",
            "/cadence role @alice client_sponsor",
            "/cadence settings budget NaN",
            "/cadence settings budget -5",
            "/cr settings currency XYZ",
            "/defect s2 Pay\u202egnp.exe\u2066 now",
            "/defect export",
            "/cr export",
            "/cadence export",
            "quit",
        ]
    )
    proc = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "console", "--virtual-clock", "--database-url", "sqlite:///c.db"],
        input=script + "\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "\u202e" not in out and "\u2066" not in out and "Paygnp.exe now" in out
    assert "“NaN” is not a number" in out and "can't be negative" in out and "not an ISO 4217" in out
    written = [Path(p) for p in re.findall(r"written to (\S+)", out)]
    names = [p.name for p in written]
    assert any(n.endswith(".csv") and "defects" in n for n in names), out[-3000:]
    assert any(n.endswith(".zip") for n in names), names
    assert sum(n.endswith(".csv") for n in names) >= 3, names  # the defects CSV and /cr export's two
    reports = (tmp_path / "reports").resolve()
    assert all(p.parent == reports and p.stat().st_size > 0 for p in written)
    defects_csv = next(p for p in written if "defects" in p.name and p.suffix == ".csv")
    assert "Paygnp.exe now" in defects_csv.read_text(encoding="utf-8")


async def test_whole_number_settings_refuse_digits_int_cannot_read(core):
    """`"²".isdigit()` is True but int("²") fails: such a value used to be an error on our side."""
    people = await make_engagement(core)
    for line, says in [
        ("/cadence settings iteration_days ²", "between 1 and 90"),
        ("/cadence settings iteration_days 1e1", "between 1 and 90"),
        ("/cr settings escalate ³", "whole number from 1 to 30"),
        ("/cr settings warn NaN", "whole number from 1 to 100"),
    ]:
        r = await run(core, people["alice"], line)
        assert says in said(r) and "went wrong" not in said(r), (line, said(r))
    r = await run(core, people["alice"], "/cadence settings iteration_days 21")
    assert "21" in said(r)
