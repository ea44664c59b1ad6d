"""Engagement health at a glance: the weekly report with its chart, `/cadence report`, `/cadence export`
and the App Home section. Platform-neutral; each feature's figures are optional (bot/reports/figures.py)."""

from __future__ import annotations

from bot.registry import Registry


def register(registry: Registry) -> None:
    from bot.reports.commands import register as _register

    _register(registry)
