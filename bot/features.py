"""The features Cadence runs. Each module has `register(registry)`."""

from __future__ import annotations

import importlib

from bot.registry import Registry

FEATURES = [
    "bot.engagement_commands",
    "bot.contract",
    "bot.linking",
    "bot.notices",
    "bot.delivery_failures",
    "bot.zone_ask",
    "bot.standups",
    "bot.demos",
    "bot.change_requests.commands",
    "bot.defects.commands",
    "bot.reports",
]


def register_all(registry: Registry) -> None:
    for name in FEATURES:
        importlib.import_module(name).register(registry)
