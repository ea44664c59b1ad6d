"""Driving a `python app.py serve` process from a benchmark: signed Slack requests, RSS, timings."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from tests.reliability.cluster import SIGNING_SECRET
from tests.standins.slack_api import WORKSPACE_ID

_verifier = SignatureVerifier(SIGNING_SECRET)


def signed(body: str, content_type: str = "application/x-www-form-urlencoded") -> dict[str, str]:
    ts = str(int(time.time()))
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": _verifier.generate_signature(timestamp=ts, body=body),
        "Content-Type": content_type,
    }


def command_body(
    text: str,
    *,
    command: str = "/cadence",
    user: str = "UM0000001",
    channel: str = "C000001",
    n: int = 0,
    response_url: str = "http://127.0.0.1:9/respond/x",
) -> str:
    return urlencode(
        {
            "token": "legacy",
            "team_id": WORKSPACE_ID,
            "team_domain": "bench",
            "channel_id": channel,
            "channel_name": "bench",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0CADENCE",
            "response_url": response_url,
            "trigger_id": f"trig.{n}",
        }
    )


def rss_mb(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) of a process in MB, from /proc."""
    cur = peak = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            cur = int(line.split()[1]) / 1024
        elif line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    return cur, peak


async def stop_and_report_errors(rep, show: int = 3) -> list[str]:
    """SIGTERM the serve process, wait for it, and print the ERROR lines of its log (a figure of each run)."""
    import signal

    from _common import emit

    rep.signal(signal.SIGTERM)
    try:
        await rep.wait_exit(60)
    except AssertionError:
        pass
    errors = [line for line in rep.log().splitlines() if " ERROR " in line]
    emit("errors_logged", len(errors))
    for line in errors[:show]:
        print("  " + line[:300])
    return errors
