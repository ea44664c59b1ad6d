"""Pure SLA clock computation: pauses, severity changes, stops — no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.features.defects.calendar import AroundTheClock, BusinessHours
from bot.features.defects.severity import parse_severity, split_severity
from bot.features.defects.sla import Policy, elapsed_at, instant_at, parse_duration, resolution_clock, response_clock

UTC = UTC
H = timedelta(hours=1)
T0 = datetime(2027, 1, 4, 8, tzinfo=UTC)  # Monday


def policy(tz="UTC", country=None) -> Policy:
    return Policy.from_settings({}, tz, country)


def test_response_clock_stops_at_acknowledge():
    p = policy()
    c = response_clock(p, "s2", T0, T0 + 3 * H, T0 + 10 * H)
    assert c.due_at == T0 + 4 * H and c.stopped_at == T0 + 3 * H and not c.breached and not c.running
    late = response_clock(p, "s2", T0, T0 + 5 * H, T0 + 10 * H)
    assert late.breached
    running = response_clock(p, "s2", T0, None, T0 + 4 * H)
    assert running.breached and running.running  # at the deadline the target is missed
    assert response_clock(p, "s2", T0, None, T0 + 3 * H).warn_at == T0 + 3 * H


def test_resolution_clock_pauses_stop_and_reopen():
    p = policy()
    pauses = [(T0 + 10 * H, T0 + 20 * H, "waiting")]
    c = resolution_clock(p, "s2", T0, pauses, T0 + 30 * H)
    assert c.elapsed == 20 * H and c.due_at == T0 + 58 * H and c.running
    paused = resolution_clock(p, "s2", T0, [(T0 + 10 * H, None, "waiting")], T0 + 30 * H)
    assert paused.paused and paused.due_at is None and paused.elapsed == 10 * H and paused.remaining == 38 * H
    resolved = resolution_clock(p, "s2", T0, [(T0 + 10 * H, None, "resolved")], T0 + 90 * H)
    assert resolved.stopped_at == T0 + 10 * H and not resolved.breached
    reopened = resolution_clock(p, "s2", T0, [(T0 + 10 * H, T0 + 50 * H, "resolved")], T0 + 60 * H)
    assert reopened.elapsed == 20 * H and reopened.due_at == T0 + 88 * H


def test_severity_change_recomputes_from_filing_with_pauses_kept():
    p = policy()
    pauses = [(T0 + 1 * H, T0 + 3 * H, "waiting")]
    assert resolution_clock(p, "s2", T0, pauses, T0 + 4 * H).due_at == T0 + 50 * H
    assert resolution_clock(p, "s1", T0, pauses, T0 + 4 * H).due_at == T0 + 26 * H
    # In a business-hours calendar the same pause (09:00–11:00 UTC) is measured in business time: the clock
    # runs from 11:00 Monday; 45 business hours later is the next Monday 11:00.
    assert resolution_clock(p, "s3", T0, pauses, T0 + 4 * H).due_at == datetime(2027, 1, 11, 11, tzinfo=UTC)


def test_policy_targets_and_durations():
    p = policy()
    assert p.target("s3", "resolution") == 45 * H and p.target("s4", "response") == 18 * H
    assert p.target("s1", "resolution") == 24 * H
    custom = Policy.from_settings({"s3": {"response": "6h"}, "hours": {"start": "08:00", "end": "17:00"}}, "UTC", None)
    assert custom.target("s3", "response") == 6 * H and custom.target("s3", "resolution") == 45 * H
    assert parse_duration("1 day 4 hours") == "1d4h" and parse_duration("90m") == "1h30m"
    assert Policy.from_snapshot(custom.snapshot()).target("s3", "response") == 6 * H


def test_severity_aliases():
    for text, sev in {
        "S1": "s1",
        "sev1": "s1",
        "SEV-2": "s2",
        "p1": "s1",
        "P3": "s3",
        "critical": "s1",
        "Level 1": "s1",
        "level 2": "s2",
        "s 1": "s1",
        "severity 4": "s4",
        "minor": "s4",
    }.items():
        assert parse_severity(text) == sev, text
    assert parse_severity("s5") is None and parse_severity("banana") is None
    assert split_severity("Level 1: Checkout down") == ("s1", "Checkout down")
    assert split_severity("s 2 Search broken") == ("s2", "Search broken")


pause_lists = st.lists(st.tuples(st.integers(0, 24 * 60 * 20), st.integers(1, 24 * 60 * 3)), max_size=5)


@settings(max_examples=150, deadline=None)
@given(pauses=pause_lists, minutes=st.integers(1, 60 * 24 * 10), business=st.booleans())
def test_due_instant_and_elapsed_agree_with_pauses(pauses, minutes, business):
    cal = BusinessHours(tz="Europe/Berlin", country="DE") if business else AroundTheClock()
    intervals, cursor = [], T0
    for gap, length in sorted(pauses):
        start = max(cursor, T0 + timedelta(minutes=gap))
        intervals.append((start, start + timedelta(minutes=length)))
        cursor = start + timedelta(minutes=length)
    amount = timedelta(minutes=minutes)
    due = instant_at(cal, T0, intervals, amount)
    assert due is not None
    assert elapsed_at(cal, T0, intervals, due) == amount
    assert elapsed_at(cal, T0, intervals, due - timedelta(minutes=1)) < amount
    assert not any(s < due < e for s, e in intervals)  # never due inside a pause
