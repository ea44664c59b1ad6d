"""The registry's agenda sections: declared once, read in their order (the meetings feature builds every agenda
from them at the moment it is posted)."""

from __future__ import annotations

import pytest

from bot.kernel.registry import Registry


async def _lines(session, engagement, now, kind):  # pragma: no cover - never called here
    return []


def test_agenda_sections_are_read_in_their_order():
    registry = Registry()
    registry.add_agenda_section("raid", order=60, title="RAID", lines=_lines)
    registry.add_agenda_section("cr", order=10, title="Change requests", lines=_lines)
    registry.add_agenda_section("actions", order=40, title="Action items", lines=_lines)
    assert [s.name for s in registry.agenda_sections] == ["cr", "actions", "raid"]
    assert registry.agenda_sections[0].title == "Change requests"


def test_an_agenda_section_is_declared_once():
    registry = Registry()
    registry.add_agenda_section("cr", order=10, title="Change requests", lines=_lines)
    with pytest.raises(ValueError, match="agenda section cr registered twice"):
        registry.add_agenda_section("cr", order=11, title="Again", lines=_lines)
