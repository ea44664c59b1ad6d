"""Hostile input, property-based: random text, unicode, control characters, huge inputs and malformed
values through the command grammar (core.handle_command), every registered form handler
(core.registry.forms) and every registered button action (core.registry.actions).

The bot must answer with a clear message or ignore — never crash (the core's catch-all "Something went
wrong on our side" counts as a crash) — and when it refuses, nothing in the database may have changed
(every table is fingerprinted before and after)."""

from __future__ import annotations

import asyncio
import hashlib
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from bot.kernel.clock import ManualClock
from bot.kernel.messages import Reply
from storage.models import Base
from tests.conftest import START
from tests.helpers import actor, dm, make_engagement, place, reply_text

ROOT = Path(__file__).resolve().parents[2]
CRASH = "Something went wrong on our side"
VOLATILE = {("identities", "last_seen_at"), ("identities", "dm_channel_id"), ("identities", "conversation_ref")}


def _source_names(pattern: str) -> list[str]:
    found: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        found.update(re.findall(pattern, path.read_text()))
    return sorted(found)


# Input ids and state keys the features really use, read from their source, plus some nobody uses.
INPUT_IDS = [*_source_names(r"Input\(\s*(?:id=)?[\"']([a-z_0-9]+)[\"']"), "", "x", "__class__", "id"]
STATE_KEYS = [*_source_names(r"state(?:\.get\(|\[)[\"']([a-z_0-9]+)[\"']"), "engagement_id", "id", ""]

CONTROL = st.characters(min_codepoint=0, max_codepoint=0x1F) | st.sampled_from(
    ["\u202e", "\u2066", "\u200b", "\ufeff", "\ue000", "\uf8ff", "\x7f", "\u0085", "\u2028"]
)
HOSTILE_TEXT = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=CONTROL, max_size=20),
    st.text(alphabet=st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF), max_size=30),
    st.sampled_from(
        [
            "<!channel>",
            "<!here|here>",
            "<@U123|boss>",
            "@everyone",
            "*x* _y_ `z`",
            "<script>",
            "'; DROP TABLE engagements; --",
            "%s %(x)s {0}",
            "\\",
            "null",
            "None",
            "NaN",
            "-1",
            "0",
            "1e309",
            "2027-02-30",
            "tomorrow 25:00",
            "every 0 days",
            "1.5",
            "١٢",
            "Ⅻ",
            "0x1f",
            "${jndi:ldap://x}",
            "../../etc/passwd",
        ]
    ),
    # Ids beyond 64 bits crash today's handlers: see test_ids_beyond_64_bits_are_refused_not_crashed.
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(str),
    st.builds(
        lambda c, n: c * n,
        st.sampled_from(["x", "é", "🙂", "\u0301", " ", "\n"]),
        st.sampled_from([300, 3_001, 20_000, 120_000]),
    ),
)
WORDS = st.sampled_from(
    [
        "new",
        "list",
        "show",
        "help",
        "setup",
        "role",
        "tz",
        "ooo",
        "approve",
        "reject",
        "assess",
        "ack",
        "close",
        "s1",
        "s2",
        "s4",
        "config",
        "join",
        "leave",
        "when",
        "report",
        "export",
        "use",
        "delegate",
        "agenda",
        "outcome",
        "edit",
        "withdraw",
        "link",
        "",
    ]
)
COMMAND_TEXT = st.builds(
    lambda slash, cmd, sub, args: f"{slash}{cmd} {sub} {args}",
    st.sampled_from(["/", "", "//", " /"]),
    st.sampled_from(["standup", "demo", "cr", "defect", "cadence", "help", "CR", "Cadence", "crr"]),
    WORDS | HOSTILE_TEXT,
    HOSTILE_TEXT | st.lists(HOSTILE_TEXT, max_size=4).map(" ".join),
)
WHO = st.sampled_from(["alice", "dev", "victor", "mallory"])
WHERE = st.sampled_from(["home", "dm", "elsewhere"])


class World:
    """One engagement with a change request, a defect and a demo, on its own SQLite copy and loop."""

    def __init__(self, template: Path, tmp: Path) -> None:
        target = tmp / "hostile.db"
        shutil.copy(template, target)
        self.loop = asyncio.new_event_loop()
        self.core = self.run(self._make(f"sqlite:///{target}"))
        self.people = self.run(make_engagement(self.core))
        self.people["mallory"] = actor("mallory")
        for line in ("/cr new Export to PDF", "/defect s3 Search is slow", "/demo new Sprint 1 demo next friday 3pm"):
            self.run(self.core.handle_command(self.people["carol"], place(), line))
        self.run(self.core.drain())

    @staticmethod
    async def _make(url: str):
        from bot.bootstrap import create_core
        from handlers.console.messenger import ConsoleMessenger

        core = await create_core(url, clock=ManualClock(START), migrate=False)
        core.messengers["console"] = ConsoleMessenger()
        return core

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    def where(self, name: str, who: str):
        return {"home": place(), "dm": dm(self.people[who]), "elsewhere": place("random")}[name]

    async def fingerprint(self) -> dict[str, str]:
        out = {}
        async with self.core.engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                cols = [c for c in table.columns if (table.name, c.name) not in VOLATILE]
                rows = (await conn.execute(select(*cols).order_by(*table.primary_key.columns))).all()
                out[table.name] = hashlib.sha1(repr(rows).encode()).hexdigest()
        return out

    def check(self, call) -> Reply:
        before = self.run(self.fingerprint())
        reply = self.run(call)
        after = self.run(self.fingerprint())
        if reply is None:  # ignored
            assert before == after, "ignored input changed state"
            return reply
        body = reply_text(reply)
        assert CRASH not in body, f"the handler crashed: {body}"
        assert reply.private or reply.public or reply.form or reply.update or reply.errors, "no answer at all"
        refused = bool(reply.errors) or (
            reply.private
            and all(c.tone == "warning" for c in reply.private)
            and not reply.public
            and not reply.form
            and not reply.update
        )
        if refused:
            changed = [t for t in before if before[t] != after[t]]
            assert not changed, f"refused ({body[:200]!r}) but changed {changed}"
        return reply

    def close(self) -> None:
        self.run(self.core.engine.dispose())
        self.loop.close()


@pytest.fixture
def world(sqlite_template, tmp_path):
    w = World(sqlite_template, tmp_path)
    yield w
    w.close()


FAST = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FAST
@given(line=COMMAND_TEXT, who=WHO, where=WHERE)
def test_commands_answer_or_refuse_and_refusals_change_nothing(world, line, who, where):
    world.check(world.core.handle_command(world.people[who], world.where(where, who), line))


@FAST
@given(
    form_id=st.sampled_from(sorted(__import__("bot.bootstrap", fromlist=["x"]).default_registry().forms)),
    values=st.dictionaries(st.sampled_from(INPUT_IDS), HOSTILE_TEXT | st.none(), max_size=8),
    state=st.dictionaries(
        st.sampled_from(STATE_KEYS),
        HOSTILE_TEXT | st.integers(-(2**63), 2**63 - 1) | st.none() | st.lists(st.integers(), max_size=3),
        max_size=4,
    ),
    who=WHO,
    where=WHERE,
)
def test_every_form_handler_survives_malformed_submissions(world, form_id, values, state, who, where):
    assert form_id in world.core.registry.forms
    world.check(world.core.handle_form(world.people[who], world.where(where, who), form_id, values, state))


@FAST
@given(
    action_id=st.sampled_from(sorted(__import__("bot.bootstrap", fromlist=["x"]).default_registry().actions)),
    value=HOSTILE_TEXT | st.sampled_from(["1", "2", "3", "1:1", "1|approve", '{"id": 1}', "[]", "{}"]),
    who=WHO,
    where=WHERE,
)
def test_every_action_handler_survives_malformed_values(world, action_id, value, who, where):
    assert action_id in world.core.registry.actions
    world.check(world.core.handle_action(world.people[who], world.where(where, who), action_id, value))


def test_every_registered_handler_is_covered():
    """If a feature adds a form or action, the property tests above pick it up from the registry."""
    from bot.bootstrap import default_registry

    reg = default_registry()
    assert reg.forms and reg.actions and len(reg.commands) > 10
    assert len(INPUT_IDS) > 10 and len(STATE_KEYS) > 3
    _ = text  # (sqlalchemy.text imported to make sure no raw SQL helper is needed here)


OUT_OF_RANGE = ["9223372036854775808", "-9223372036854775809", "99999999999999999999999"]


@pytest.mark.slow
def test_ids_beyond_64_bits_are_refused_not_crashed(world):
    crashed = []
    for action_id in sorted(world.core.registry.actions):
        for value in OUT_OF_RANGE:
            reply = world.run(world.core.handle_action(world.people["alice"], place(), action_id, value))
            if reply is not None and CRASH in reply_text(reply):
                crashed.append(action_id)
                break
    for form_id in sorted(world.core.registry.forms):
        for key in STATE_KEYS:
            reply = world.run(world.core.handle_form(world.people["alice"], place(), form_id, {}, {key: 2**63}))
            if reply is not None and CRASH in reply_text(reply):
                crashed.append(f"{form_id}[{key}]")
                break
    assert crashed == [], f"crashed on out-of-range ids: {crashed}"
