"""`python app.py demo`: a short engagement played on a virtual clock, printed as a transcript.

Each step is what a person would type in the console; features that are not installed are skipped."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bot.bootstrap import create_core
from bot.kernel.clock import ManualClock
from bot.kernel.text import moment_text
from handlers.console.session import ConsoleSession

START = datetime(2027, 3, 7, 20, 0, tzinfo=UTC)  # Sunday evening before the week the US moves its clocks

# (feature command needed or None, line typed)
SCRIPT: list[tuple[str | None, str]] = [
    (None, "# Sunday evening. Alice (client sponsor, London) sets up the engagement in #general"),
    (None, "as alice Europe/London"),
    (None, "/cadence setup ACME Acme web shop as client_sponsor"),
    (None, "# Everyone says hello once, so Cadence knows their zone"),
    (None, "as carol America/New_York"),
    (None, "/cadence whoami"),
    (None, "as victor Asia/Kolkata"),
    (None, "/cadence whoami"),
    (None, "as dev Asia/Kathmandu"),
    (None, "/cadence whoami"),
    (None, "as quinn America/St_Johns"),
    (None, "/cadence whoami"),
    (None, "as alice"),
    (None, "# Alice seats her PM and the vendor's first admin; from then on each side seats its own people"),
    (None, "/cadence role @carol client_pm"),
    (None, "/cadence role @victor vendor_pm vendor_lead"),
    (None, "as victor"),
    (None, "/cadence role @dev developer"),
    (None, "/cadence role @quinn qa"),
    (None, "as alice"),
    (None, "/cadence settings budget 200000"),
    ("standup", "/standup schedule"),
    ("standup", "# Monday: each vendor member is prompted at 09:30 in their own zone"),
    ("standup", "advance to mon 04:00"),
    ("standup", "as dev"),
    ("standup", "in dm"),
    ("standup", "Finished the login API"),
    ("standup", "Checkout page"),
    ("standup", "Waiting for the payment sandbox keys from Acme"),
    ("standup", "as victor"),
    ("standup", "Planned sprint 4"),
    ("standup", "Demo prep"),
    ("standup", "none"),
    ("standup", "as alice"),
    ("standup", "in #general"),
    ("standup", "advance to mon 14:00"),
    ("standup", "as quinn"),
    ("standup", "in dm"),
    ("standup", "Regression suite for login"),
    ("standup", "Checkout tests"),
    ("standup", "no"),
    ("standup", "as alice"),
    ("standup", "in #general"),
    ("standup", "# Tuesday 10:00 in London: the digest, blockers on top"),
    ("standup", "advance to tue 10:05"),
    ("meeting", "# Victor plans the weekly sync in his zone; anyone on either side can put a point on its agenda"),
    ("meeting", "as victor"),
    ("meeting", "/meeting schedule every wednesday 19:30 | Weekly sync"),
    ("meeting", "click confirm"),
    ("meeting", "as dev"),
    ("meeting", "/meeting agenda add Payment sandbox keys from Acme (my standup blocker)"),
    ("meeting", "as carol"),
    ("meeting", "/meeting agenda add UAT dates for sprint 4"),
    ("meeting", "/meeting agenda"),
    ("meeting", "as alice"),
    ("meeting", "# Wednesday, an hour before the sync: the agenda, built from what is open at that moment"),
    ("meeting", "advance to wed 13:05"),
    ("decision", "# After the sync Victor is asked what was decided; a decision and an action item go on the record"),
    ("decision", "advance to wed 15:05"),
    ("decision", "as victor"),
    ("decision", "/decision Sprint 4 demo on Thursday 11:00 New York time; UAT starts the Monday after"),
    ("action", "/action @carol send the payment sandbox keys by fri"),
    ("decision", "as alice"),
    ("demo", "# Carol schedules the sprint demo in her own zone"),
    ("demo", "as carol"),
    ("demo", "/demo schedule thursday 11am | Sprint 4 demo"),
    ("demo", "click confirm"),
    ("demo", "as alice"),
    ("demo", "advance to thu 10:30"),
    ("demo", "advance to thu 17:30"),
    ("demo", "as carol"),
    ("demo", "click accepted"),
    ("demo", "/demo history"),
    ("cr", "# A change request: filed by Carol, assessed by the vendor; Carol cannot approve her own request,"),
    ("cr", "# Alice approves for the client side and Victor for the vendor side"),
    ("cr", "as carol"),
    ("cr", "/cr new Single sign-on"),
    (
        "cr",
        "fill title=Single sign-on; description=Log in with the corporate IdP; business_reason=Security policy; "
        "priority=high; wanted_by=in 3 weeks",
    ),
    ("cr", "as victor"),
    ("cr", "click assess"),
    ("cr", "fill effort_hours=40; cost=6000; schedule_impact_days=5; risk=medium"),
    ("cr", "as alice"),
    ("cr", "click approve"),
    ("cr", "as carol"),
    ("cr", "click approve"),
    ("cr", "as victor"),
    ("cr", "click approve"),
    ("cr", "/cr show ACME-CR-1"),
    ("defect", "# Friday: checkout is down (S1) — the vendor PM is paged and acknowledges"),
    ("defect", "as alice"),
    ("defect", "advance to fri 09:00"),
    ("defect", "/defect s1 Checkout returns 500 for every order"),
    ("defect", "as victor"),
    ("defect", "advance 20m"),
    ("defect", "/defect ack ACME-D-1"),
    ("defect", "# An S2 nobody acknowledges: warning at 75 %, breach at 4 hours"),
    ("defect", "as carol"),
    ("defect", "/defect s2 Search ignores filters"),
    ("defect", "advance 4h 5m"),
    ("defect", "/defect list open"),
    ("milestone", "# The final milestone: submitted, rejected with two reasons, rectified, resubmitted, accepted"),
    ("milestone", "as victor"),
    ("milestone", "/milestone add Go-live due in 3 weeks final"),
    ("milestone", "/milestone criteria ACME-M-1 | All UAT scripts pass; no open S1"),
    ("milestone", "/milestone submit ACME-M-1 | Release 1.0 on https://staging.acme.example"),
    ("milestone", "as alice"),
    ("milestone", "click reject"),
    ("milestone", "fill reasons=VAT column missing on invoices\\nLogin page not translated"),
    ("milestone", "as victor"),
    ("milestone", "advance 1d"),
    ("milestone", "/milestone done ACME-M-1-R1"),
    ("milestone", "/milestone done ACME-M-1-R2"),
    ("milestone", "/milestone submit ACME-M-1 | Release 1.0.1: VAT column and translated login"),
    ("milestone", "as alice"),
    ("milestone", "click accept"),
    ("milestone", "/milestone settings"),
]


async def run_demo(database_url: str | None = None, *, out: Callable[[str], None] = print) -> int:
    tmp = None
    if database_url is None:
        tmp = tempfile.TemporaryDirectory(prefix="cadence-demo-")
        database_url = f"sqlite:///{Path(tmp.name) / 'demo.db'}"
    core = await create_core(database_url, clock=ManualClock(START))
    session = ConsoleSession(core=core, out=out, virtual=True)
    commands = {cmd for cmd, _ in core.registry.commands}
    try:
        out(f"Cadence demo — virtual clock starts {moment_text(START)}\n")
        for needs, line in SCRIPT:
            if needs and (needs, None) not in core.registry.commands and not any(c == needs for c in commands):
                continue
            if line.startswith("#"):
                out(f"\n{line}")
                continue
            out(f"{session.user}> {line}")
            await session.handle(line)
    finally:
        await core.engine.dispose()
        if tmp is not None:
            tmp.cleanup()
    return 0
