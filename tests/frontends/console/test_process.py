"""The console, driven the way a person would: a real process, lines typed on its standard input."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def run_app(args: list[str], stdin: str = "", env: dict | None = None, timeout: int = 120) -> str:
    proc = subprocess.run(
        [sys.executable, "app.py", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_console_session_with_virtual_clock(tmp_path):
    script = (
        "\n".join(
            [
                "as alice Europe/London",
                "/cadence setup ACME Acme web shop",
                "as priya Asia/Kolkata",
                "/cadence whoami",
                "as alice",
                "/cadence role @priya developer",
                "/cadence members",
                "/cadense whoami",
                "now",
                "advance 3h",
                "quit",
            ]
        )
        + "\n"
    )
    out = run_app(["console", "--virtual-clock", "--database-url", f"sqlite:///{tmp_path / 'c.db'}"], script)
    assert "Engagement set up" in out
    assert "Priya: developer in ACME." in out
    assert "Did you mean `/cadence`?" in out
    assert "Asia/Kolkata" in out
    assert "⏱" in out


def test_demo_prints_a_transcript():
    out = run_app(["demo"], timeout=300)
    assert "Cadence demo" in out and "Engagement set up" in out
    # A day of standups across zones, digest with the blocker on top.
    assert "Standup digest" in out and "Blocker — @Dev" in out
    assert "answered 09:45 Asia/Kathmandu their time" in out  # Kathmandu, +5:45: a zone name, not +0545
    # The demo scheduled, reminded 24 h and 1 h before, accepted.
    assert "Demo tomorrow: Sprint 4 demo" in out and "Demo in 1 hour: Sprint 4 demo" in out
    assert "Recorded: Accepted for ACME-DEMO-1" in out
    # The change request: the requester cannot approve; both sides approve.
    assert "can't approve or reject it" in out and "ACME-CR-1 is approved" in out
    # S1 acknowledged in time, S2 warned then breached.
    assert "acknowledged" in out and "(met)" in out
    assert "75 % of the response time used" in out and "response target breached" in out
    # The final milestone: rejected with two reasons, rectified, resubmitted, accepted; the warranty's end.
    assert "You rejected ACME-M-1 (round 1); 2 rectification items recorded." in out
    assert "Marked ACME-M-1-R2 done. Every item of round 1 is done" in out
    assert "That is the project acceptance." in out and "Warranty: 6 months, until" in out
    assert "Traceback" not in out and "went wrong" not in out


def test_db_upgrade_command(tmp_path):
    url = f"sqlite:///{tmp_path / 'u.db'}"
    run_app(["db", "upgrade"], env={"DATABASE_URL": url})
    import sqlite3

    names = {r[0] for r in sqlite3.connect(tmp_path / "u.db").execute("select name from sqlite_master")}
    assert {"timers", "outbox", "engagements"} <= names


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_healthz_without_any_platform_credentials(tmp_path):
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"}
    for k in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "MICROSOFT_APP_ID"):
        env.pop(k, None)
    proc = subprocess.Popen(
        [sys.executable, "app.py", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        body = None
        while time.monotonic() < deadline:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read().decode()
                break
            except OSError:
                time.sleep(0.3)
        assert body is not None and '"ok": true' in body
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=40)
    assert proc.returncode == 0, out[-3000:]
    assert "shutting down" in out


def test_console_two_parties(tmp_path):
    """Issue 18 on the console: sides, first admins, outsiders, and a contract change by amendment."""
    script = (
        "\n".join(
            [
                "as victor Asia/Kolkata",
                "/cadence setup ACME Acme web shop",
                "as carol America/New_York",
                "/cadence whoami",
                "as victor",
                "/cadence role @carol client_pm",
                "/cadence role @victor client_sponsor",
                "/defect policy s1 resolution 72h",
                "as mallory UTC",
                "/cr new Free work",
                "as carol",
                "/cadence contract approve 1",
                "/cadence contract",
                "quit",
            ]
        )
        + "\n"
    )
    out = run_app(["console", "--virtual-clock", "--database-url", f"sqlite:///{tmp_path / 'c.db'}"], script)
    assert "seated as vendor pm" in out and "as client_pm" in out
    assert "first admin of their side" in out
    assert "one side only" in out
    assert "Proposed S1 targets" in out and "resolution 24h" in out and "resolution 72h" in out
    assert "not a member of ACME" in out
    assert "You approved amendment #1" in out
    assert "S1 targets: response 1h · resolution 72h · 24×7 (#1, proposed by Victor, approved by Carol" in out
