"""Security properties that hold across the code base: SQL only through bound parameters; a person who is
not in the engagement can change nothing whatever ids they put in a button or a form; oversized input is
refused with a clear message. (Slack signatures: tests/frontends/slack/test_security.py; secrets in logs and
Teams JWT: test_lifecycle.py.)"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import place, reply_text
from tests.reliability.test_hostile_input import CRASH, World

ROOT = Path(__file__).resolve().parents[2]
# Migration DDL names tables it owns (no user data): the one place allowed to build SQL text.
ALLOWED = {ROOT / "storage" / "migrations" / "helpers.py"}
SQL_CALLS = {"text", "execute", "exec_driver_sql", "scalar", "scalars", "exec_sql"}


def _dynamic_string(node: ast.AST) -> bool:
    """An f-string, a `%`/`+` concatenation involving a string, or a .format() call."""
    if isinstance(node, ast.JoinedStr):
        first = node.values[0] if node.values else None
        if isinstance(first, ast.Constant) and str(first.value).startswith("PRAGMA "):
            return False  # a PRAGMA takes no bound parameters; its value must be checked against a list
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return (
            any(
                isinstance(side, (ast.Constant, ast.JoinedStr)) and isinstance(getattr(side, "value", ""), str)
                for side in (node.left, node.right)
            )
            or _dynamic_string(node.left)
            or _dynamic_string(node.right)
        )
    return bool(isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format")


def sql_built_from_strings(paths: list[Path]) -> list[str]:
    found = []
    for path in paths:
        if path in ALLOWED:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in SQL_CALLS and _dynamic_string(node.args[0]):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_sql_only_through_bound_parameters():
    paths = [p for d in ("bot", "storage", "handlers") for p in (ROOT / d).rglob("*.py")]
    assert len(paths) > 40
    assert sql_built_from_strings(paths) == []


def test_the_scanner_catches_what_it_should(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "session.execute(text(f\"SELECT * FROM t WHERE k = '{key}'\"))\n"
        'conn.exec_driver_sql("DELETE FROM t WHERE id = %s" % ident)\n'
        'conn.execute("SELECT " + col)\n'
        'session.execute(text("SELECT * FROM t WHERE k = :k"), {"k": key})\n'
    )
    assert [x.rsplit(":", 1)[1] for x in sql_built_from_strings_abs(bad)] == ["1", "2", "3"]


def sql_built_from_strings_abs(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in SQL_CALLS and _dynamic_string(node.args[0]):
                out.append(f"{path.name}:{node.lineno}")
    return sorted(set(out), key=lambda s: int(s.rsplit(":", 1)[1]))


def test_a_stranger_can_change_nothing_with_any_button_or_form(sqlite_template, tmp_path):
    """Authorisation is server-side: mallory (in no engagement) replays every button with real ids and
    submits every form with real-looking state; nothing changes, and nothing crashes."""
    world = World(sqlite_template, tmp_path)
    try:
        mallory = world.people["mallory"]
        world.run(world.core.handle_command(mallory, place(), "/cadence whoami"))  # first sight creates her
        for action_id in sorted(world.core.registry.actions):
            for value in ("1", "2", "1:approve"):
                before = world.run(world.fingerprint())
                reply = world.run(world.core.handle_action(mallory, place(), action_id, value))
                after = world.run(world.fingerprint())
                changed = [t for t in before if before[t] != after[t]]
                assert not changed, f"{action_id}({value}) by a stranger changed {changed}: {reply_text(reply)}"
                assert reply is None or CRASH not in reply_text(reply)
        for form_id in sorted(world.core.registry.forms):
            state = {"engagement_id": 1, "request_id": 1, "defect_id": 1, "occ": 1, "entry_id": 1}
            values = {"title": "x", "description": "y", "reason": "z", "severity": "S1", "outcome": "accepted"}
            before = world.run(world.fingerprint())
            reply = world.run(world.core.handle_form(mallory, place(), form_id, values, state))
            after = world.run(world.fingerprint())
            changed = [t for t in before if before[t] != after[t]]
            assert not changed, f"form {form_id} by a stranger changed {changed}: {reply_text(reply)}"
    finally:
        world.close()


def test_oversized_input_is_refused_clearly(sqlite_template, tmp_path):
    world = World(sqlite_template, tmp_path)
    try:
        for line in ("/cr new " + "x" * 200_000, "/defect s1 " + "é" * 50_000, "/cadence tz " + "A" * 10_000):
            reply = world.check(world.core.handle_command(world.people["carol"], place(), line))
            body = reply_text(reply).lower()
            assert "too long" in body or "longer" in body or "limit" in body or "characters" in body, body[:300]
    finally:
        world.close()
