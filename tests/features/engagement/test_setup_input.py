"""Issue 20, items 7, 8 and 14 (set-up input): zone abbreviations are asked about, UTC offsets are
accepted the same way everywhere a zone is set, a long absence is taken only with its years, and work
days echo as typed. Refusals change nothing."""

from __future__ import annotations

import pytest

from bot.kernel.errors import UserError
from bot.kernel.zones import resolve_zone
from tests.helpers import make_engagement, reply_text, run


@pytest.mark.parametrize(
    "text, suggested",
    [
        ("EST", "America/New_York"),
        ("cst", "Asia/Shanghai"),
        ("IST", "Asia/Kolkata"),
        ("MST", "America/Phoenix"),
        ("BST", "Europe/London"),
    ],
)
def test_an_ambiguous_abbreviation_is_asked_about_with_iana_zones(text, suggested):
    with pytest.raises(UserError) as exc:
        resolve_zone(text)
    assert f"`{suggested}`" in exc.value.message and "won't guess" in exc.value.message


@pytest.mark.parametrize(
    "text, zone",
    [
        ("UTC+5:45", "Asia/Kathmandu"),
        ("utc+05:45", "Asia/Kathmandu"),
        ("GMT+0545", "Asia/Kathmandu"),
        ("UTC-5", "Etc/GMT+5"),
        ("UTC+0", "UTC"),
        ("JST", "Asia/Tokyo"),
        ("kathmandu", "Asia/Kathmandu"),
    ],
)
def test_offsets_and_unique_abbreviations_name_a_zone(text, zone):
    assert resolve_zone(text) == zone


@pytest.mark.parametrize("text, why", [("UTC+5:30", "Asia/Kolkata"), ("UTC+15", "not a UTC offset")])
def test_an_offset_several_places_share_or_none_has_is_refused(text, why):
    with pytest.raises(UserError) as exc:
        resolve_zone(text)
    assert why in exc.value.message


async def test_tz_est_asks_and_changes_nothing_and_offsets_agree_everywhere(core):
    people = await make_engagement(core)
    r = await run(core, people["carol"], "/cadence tz EST")
    assert "America/New_York" in reply_text(r) and "won't guess" in reply_text(r)
    r = await run(core, people["carol"], "/cadence tz")
    assert "Your time zone is America/New_York" in reply_text(r)
    r = await run(core, people["dev"], "/cadence tz UTC+5:45")
    assert "Your time zone is now Asia/Kathmandu" in reply_text(r)
    r = await run(core, people["alice"], "/cadence settings home_tz UTC+5:45")
    r = await run(core, people["alice"], "/cadence settings")
    assert "Asia/Kathmandu" in reply_text(r)


async def test_a_long_absence_is_taken_only_with_its_years(core):
    people = await make_engagement(core)  # Mon 4 Jan 2027
    r = await run(core, people["carol"], "/cadence ooo feb 2 to dec 24")
    text = reply_text(r)
    assert "326 days away (Tue 2 Feb 2027 – Fri 24 Dec 2027)" in text
    assert "`/cadence ooo 2027-02-02 to 2027-12-24`" in text
    r = await run(core, people["carol"], "/cadence ooo list")
    assert "none planned" in reply_text(r)
    r = await run(core, people["carol"], "/cadence ooo 2027-02-02 to 2027-12-24")
    assert "Out of office Tue 2 Feb 2027 – Fri 24 Dec 2027 (326 days)" in reply_text(r)
    r = await run(core, people["carol"], "/cadence ooo jan 7 to jan 8")
    assert "(2 days)" in reply_text(r)


@pytest.mark.parametrize(
    "typed, echoed",
    [
        ("sun-thu", "sun, mon, tue, wed, thu"),
        ("mon-fri", "mon, tue, wed, thu, fri"),
        ("thu,mon", "thu, mon"),
        ("fri-mon", "fri, sat, sun, mon"),
    ],
)
async def test_work_days_echo_as_typed(core, typed, echoed):
    people = await make_engagement(core)
    r = await run(core, people["victor"], f"/cadence workdays {typed}")
    assert f"Your work days: {echoed}" in reply_text(r)
