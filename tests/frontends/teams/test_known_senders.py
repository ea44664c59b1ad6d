"""handlers/teams/store.py: the senders a replica already stored (KnownSenders)."""

from __future__ import annotations

from handlers.teams.store import KnownSenders


def test_known_senders_skip_only_unchanged_fresh_entries() -> None:
    known = KnownSenders(ttl=60, size=2)
    assert not known.is_current("t", "u1", "29:u1", "Asha", "https://s/")
    known.note("t", "u1", "29:u1", "Asha", "https://s/")
    assert known.is_current("t", "u1", "29:u1", "Asha", "https://s/")
    assert not known.is_current("t", "u1", "29:u1", "Asha Rao", "https://s/")  # renamed: store again
    assert not known.is_current("t", "u1", "29:u1", "Asha", "https://other/")  # moved tenant region
    known.forget("t", "u1")
    assert not known.is_current("t", "u1", "29:u1", "Asha", "https://s/")
    for n in range(3):
        known.note("t", f"x{n}", "b", None, None)
    assert not known.is_current("t", "x0", "b", None, None)  # bounded: the oldest went
    expired = KnownSenders(ttl=0)
    expired.note("t", "u", "b", None, None)
    assert not expired.is_current("t", "u", "b", None, None)
