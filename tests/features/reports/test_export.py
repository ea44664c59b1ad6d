"""`/cadence export`, `/cadence report` on demand, the App Home section, and the report without some
features installed."""

from __future__ import annotations

import base64
import csv
import io
import zipfile
from datetime import UTC

from sqlalchemy import select

from bot.bootstrap import FEATURES, create_core
from bot.features.change_requests import commands as change_requests
from bot.features.defects import commands as defects
from bot.features.reports import figures
from bot.features.reports.chart import chart_data, render_png
from bot.kernel.registry import Registry
from handlers.console.messenger import ConsoleMessenger
from storage.models import Engagement
from tests.features.reports.support import seed
from tests.helpers import make_engagement, place, reply_text, run, sent

UTC = UTC


def unzip(delivered) -> dict[str, list[dict[str, str]] | str]:
    (att,) = delivered.card.attachments
    assert att.mime == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(base64.b64decode(att.content_b64)))
    out: dict = {}
    for name in zf.namelist():
        text = zf.read(name).decode("utf-8")
        out[name] = text if name.endswith(".txt") else list(csv.DictReader(io.StringIO(text)))
    return out


def latest_dm(core, user: str):
    return [d for d in sent(core) if d.op == "dm" and d.address.get("user_id") == user][-1]


async def test_export_report_on_demand_and_home_on_the_seeded_week(sqlite_core, tmp_path):
    core = sqlite_core
    core.messengers["console"].files_dir = tmp_path
    people = await seed(core)

    # The week Mon 4 – Sun 10 Jan (home zone London): everything seeded.
    r = await run(core, people["alice"], "/cadence export 2027-01-04 2027-01-10")
    assert "on its way to you by direct message" in reply_text(r)
    await core.drain()
    d = latest_dm(core, "alice")
    files = unzip(d)
    assert sorted(files) == [
        "README.txt",
        "action_items.csv",
        "change_request_history.csv",
        "change_requests.csv",
        "contract_history.csv",
        "decisions.csv",
        "defects.csv",
        "demo_outcomes.csv",
        "milestone_rounds.csv",
        "milestones.csv",
        "raid.csv",
        "raid_history.csv",
        "rectification_items.csv",
        "standup_answers.csv",
    ]
    # The contract's history: the budget the client proposed and the vendor approved (report_support.seed).
    assert [
        (r["amendment"], r["term"], r["to"], r["status"], r["decided_by"]) for r in files["contract_history.csv"]
    ] == [("ACME-A-1", "Budget", "100,000.00", "approved", "Victor")]
    assert [row["id"] for row in files["change_requests.csv"]] == ["ACME-CR-1", "ACME-CR-2"]
    assert [(row["id"], row["severity"]) for row in files["defects.csv"]] == [("ACME-D-1", "S2"), ("ACME-D-2", "S1")]
    assert [
        (row["demo"], row["starts_at_utc"], row["outcome"], row["remarks"]) for row in files["demo_outcomes.csv"]
    ] == [("ACME-DEMO-1", "2027-01-07T15:00:00+00:00", "Accepted with remarks", "Fix the totals rounding")]
    history = files["change_request_history.csv"]
    assert history and all("2027-01-04" <= row["at_utc"][:10] <= "2027-01-10" for row in history)
    answers = files["standup_answers.csv"]
    # Quinn's Monday (St John's) and Tue–Fri of four participants, three questions each.
    assert len(answers) == 17 * 3
    assert {row["answer"] for row in answers if row["person"] == "Lena" and row["date"] == "2027-01-05"} == {
        "Code review",
        "Deploy",
        "Waiting for VPN access",
    }
    assert [row["blocker"] for row in answers if row["blocker"]] == ["Waiting for VPN access"]
    assert "Range: 2027-01-04 to 2027-01-10 (whole days in Europe/London)" in files["README.txt"]
    # The console wrote the zip to a file and says where.
    (path,) = d.files
    assert path.parent == tmp_path and path.suffix == ".zip" and str(path) in d.text

    # One day (Fri 8 Jan): the two live defects, no demo, four standups.
    await run(core, people["victor"], "/cadence export jan 8 to jan 8")
    await core.drain()
    files = unzip(latest_dm(core, "victor"))
    assert len(files["defects.csv"]) == 2 and files["demo_outcomes.csv"] == []
    assert {row["date"] for row in files["standup_answers.csv"]} == {"2027-01-08"}
    assert len(files["standup_answers.csv"]) == 4 * 3

    # Refusals: unreadable dates, a reversed range, strangers.
    r = await run(core, people["alice"], "/cadence export banana")
    assert "couldn't read" in reply_text(r)
    r = await run(core, people["alice"], "/cadence export 2027-01-10 2027-01-04")
    assert "before it starts" in reply_text(r)
    from tests.helpers import actor

    r = await run(core, actor("mallory"), "/cadence export")
    assert "not a member" in reply_text(r)

    # On demand: posted where asked, with the chart.
    n = len(sent(core))
    r = await run(core, people["carol"], "/cadence report month")
    await core.drain()
    posted = [x for x in sent(core)[n:] if x.op == "post"]
    assert len(posted) == 1 and posted[0].card.title == "ACME health report — last month"
    assert posted[0].channel_id == "general" and posted[0].card.attachments[0].mime == "image/png"
    assert posted[0].files and posted[0].files[0].exists()
    r = await run(core, people["carol"], "/cadence report fortnight")
    assert "Usage" in reply_text(r)

    # App Home: the engagements the person belongs to, same figures (the week to now).
    cards = await core.home(people["victor"])
    mine = [c for c in cards if c.title.startswith("ACME — ")]
    assert len(mine) == 1
    fields = {f.label: f.value for f in mine[0].fields}
    assert fields["Defects"] == "1 open (S1 1) · response 50 % · resolution 50 %"
    assert fields["MTTA / MTTR"] == "1 h 30 min / 2 h 00 min"
    assert fields["Change requests"] == "1 pending approval · 9,000.00 contingency left"
    assert "ACME-CR-2 has waited" in mine[0].text
    stranger = await core.home(actor("mallory"))
    assert not [c for c in stranger if c.title.startswith("ACME — ")]


async def test_report_and_export_without_some_features(db_url, clock, tmp_path):
    """A Cadence without defects and change requests (a registry where those features are not registered): the
    report has no section and the export no file for them; the rest works."""
    registry = Registry()
    for feature in FEATURES:
        if feature not in (change_requests, defects):
            feature.register(registry)
    names = ["standups", "court", "demos", "milestones", "decisions", "raid"]
    assert [s.name for s in registry.report_sections] == names
    core = await create_core(db_url, clock=clock, registry=registry, migrate=False, sqlite_synchronous="NORMAL")
    core.messengers["console"] = ConsoleMessenger(files_dir=tmp_path)
    try:
        people = await make_engagement(core)
        async with core.session_factory() as s:
            eng = await s.scalar(select(Engagement))
            f = await figures.gather(s, registry.report_sections, eng, core.clock.now())
            assert f["defects"] is None and f["change_requests"] is None and "defects" not in f.trends
            assert f["standups"] is not None and f["demos"] is not None
            png = render_png(chart_data(f))
            assert png[:8] == b"\x89PNG\r\n\x1a\n"
        n = len(sent(core))
        await run(core, people["alice"], "/cadence report", place("general"))
        await run(core, people["alice"], "/cadence export")
        await core.drain()
        report = next(d for d in sent(core)[n:] if d.op == "post")
        assert [s.title for s in report.card.sections] == [
            "Standups",
            "Ball in court",
            "Demos",
            "Milestones",
            "Decisions and action items",
            "RAID log",
        ]
        files = unzip(latest_dm(core, "alice"))
        assert sorted(files) == [
            "README.txt",
            "action_items.csv",
            "contract_history.csv",
            "decisions.csv",
            "demo_outcomes.csv",
            "milestone_rounds.csv",
            "milestones.csv",
            "raid.csv",
            "raid_history.csv",
            "rectification_items.csv",
            "standup_answers.csv",
        ]
        assert "defects" not in files["README.txt"] and "change_request" not in files["README.txt"]
    finally:
        await core.engine.dispose()
