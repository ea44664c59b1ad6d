"""One owner per fact (issue 19): a feature's settings defaults are declared once (its DEFAULTS, registered with
`registry.add_settings`), `feature_settings` hands them to a fresh engagement, the sanitisers fall back to them,
and the modules that used to repeat them as literals no longer do."""

from __future__ import annotations

import ast
from datetime import time, timedelta
from pathlib import Path

from bot.bootstrap import default_registry
from bot.features.change_requests import settings as cr_settings
from bot.features.change_requests import timers as cr_timers
from bot.features.demos import service as demo_service
from bot.features.demos import settings as demo_settings
from bot.features.reports import schedule as report_schedule
from bot.features.reports import settings as report_settings
from bot.features.standups import settings as standup_settings
from bot.kernel.engagements import feature_settings, new_engagement
from bot.kernel.people import REMINDER_AT, WORK_DAYS

ROOT = Path(__file__).resolve().parents[2]


def _fresh():
    registry = default_registry()
    return registry, new_engagement(registry, key="ACME", name="Acme", home_tz="Europe/Berlin", settings={})


def test_a_fresh_engagement_reads_every_registered_default():
    registry, eng = _fresh()
    assert registry.settings, "no feature registered settings"
    for feature, defaults in registry.settings.items():
        assert feature_settings(eng, feature) == defaults, feature


def test_the_sanitisers_fall_back_to_the_owner():
    _, eng = _fresh()
    demo = demo_service.settings(eng)
    for key in ("reminder_minutes", "agenda_hours_before", "duration_minutes", "default_title", "stale_check"):
        assert demo[key] == demo_settings.DEFAULTS[key], key
    eng.settings = {"demo": {"agenda_hours_before": "x", "reminder_minutes": ["x"], "default_title": ""}}
    demo = demo_service.settings(eng)
    assert demo["agenda_hours_before"] == demo_settings.DEFAULTS["agenda_hours_before"]
    assert demo["duration_minutes"] == demo_settings.DEFAULTS["duration_minutes"]
    assert demo["reminder_minutes"] == demo_settings.DEFAULTS["reminder_minutes"]
    assert demo["default_title"] == demo_settings.DEFAULTS["default_title"]

    eng.settings = {"report": {"weekday": "x", "time": "soon"}}
    report = report_schedule.settings(eng)
    assert report["weekday"] == report_settings.DEFAULTS["weekday"]
    assert f"{report['time']:%H:%M}" == report_settings.DEFAULTS["time"]

    # The change-request reminder default is the kernel's reminder time, the one contract amendments use.
    assert cr_settings.DEFAULTS["reminder_time"] == f"{REMINDER_AT:%H:%M}"
    assert cr_timers.reminder_time({"reminder_time": None}) == REMINDER_AT
    assert (
        cr_timers.escalate_after({"escalate_after_workdays": None}) == cr_settings.DEFAULTS["escalate_after_workdays"]
    )

    eng.settings = {}
    conf = standup_settings.settings(eng)
    assert f"{conf.prompt_time:%H:%M}" == standup_settings.DEFAULTS["prompt_time"]
    assert conf.enabled is standup_settings.DEFAULTS["enabled"]
    assert conf.reminder == timedelta(minutes=standup_settings.DEFAULTS["reminder_minutes"])
    assert WORK_DAYS == (0, 1, 2, 3, 4)


# The modules that repeated a default, and the defaults' values: none of them may spell one again.
FIXED = [
    "bot/features/demos/service.py",
    "bot/features/demos/commands.py",
    "bot/features/demos/timers.py",
    "bot/features/reports/schedule.py",
    "bot/features/change_requests/timers.py",
    "bot/features/change_requests/service.py",
    "bot/features/change_requests/settings.py",
    "bot/features/defects/sla.py",
    "bot/features/standups/commands.py",
    "bot/features/standups/service.py",
    "bot/features/standups/cards.py",
    "bot/kernel/contract.py",
]
COPIES = {"Sprint demo", "09:00", "10:00", "09:30", "18:00"}
OWNERS = {"bot/features/defects/sla.py": {"09:00", "18:00"}}  # DEFAULT_POLICY: the support hours' one place


def test_no_literal_copy_of_a_default():
    offenders = []
    for rel in FIXED:
        tree = ast.parse((ROOT / rel).read_text())
        allowed = OWNERS.get(rel, set())
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in COPIES - allowed:
                offenders.append(f"{rel}:{node.lineno}: {node.value!r}")
            # `x or 24`: a fallback spelled as a number (a guard against a stored None reads the owner instead).
            if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
                last = node.values[-1]
                if isinstance(last, ast.Constant) and isinstance(last.value, int) and last.value not in (0, 1):
                    offenders.append(f"{rel}:{node.lineno}: or {last.value}")
                if isinstance(last, ast.List) and any(isinstance(e, ast.Constant) and e.value for e in last.elts):
                    offenders.append(f"{rel}:{node.lineno}: or [...]")
            # time(10, 0): a clock time spelled again.
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "time"
                and node.args
                and all(isinstance(a, ast.Constant) for a in node.args)
            ):
                offenders.append(f"{rel}:{node.lineno}: time{tuple(a.value for a in node.args)}")
    assert offenders == []
    assert time(10, 0) == REMINDER_AT  # the one place it is spelled: bot/kernel/people.py
