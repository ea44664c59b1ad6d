"""The domain stays platform-neutral, and nothing uses naive time."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bot_imports_no_platform_sdk():
    pattern = re.compile(r"^\s*(from|import)\s+(slack_bolt|slack_sdk|botbuilder|botframework|aiohttp)\b", re.M)
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "bot").rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


def test_no_naive_now():
    pattern = re.compile(r"datetime\.(utcnow|now)\(\)|datetime\.today\(\)")
    offenders = []
    for folder in ("bot", "handlers", "storage"):
        for p in (ROOT / folder).rglob("*.py"):
            if pattern.search(p.read_text()):
                offenders.append(str(p.relative_to(ROOT)))
    assert offenders == []
