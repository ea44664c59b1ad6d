"""The RAID log on the console, as a real process on a virtual clock: an item added with an @name owner and a
review date, red (said in the channel), listed, updated, shown with its history, the owner's reminder on the
review date, and its files in `/cadence export`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_raid_log_on_the_console(tmp_path):
    script = (
        "\n".join(
            [
                "as alice Europe/London",
                "/cadence setup ACME Acme web shop as client_pm",
                "as bob Asia/Kolkata",
                "/cadence whoami",
                "as alice Europe/London",
                "/cadence role @bob vendor_pm",
                "/raid add dependency Sandbox keys from Acme owner @bob review in 2 days red",
                "/raid add risk Late design sign-off owner @alice",
                "/raid list",
                "as bob Asia/Kolkata",
                "/raid update ACME-R-1 amber note keys requested again",
                "/raid show ACME-R-1",
                "advance 3d",
                "/cadence export",
                "quit",
            ]
        )
        + "\n"
    )
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "app.py"),
            "console",
            "--virtual-clock",
            "--database-url",
            f"sqlite:///{tmp_path / 'c.db'}",
        ],
        input=script,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "Added ACME-R-1 dependency “Sandbox keys from Acme”, owner Bob, red" in out, out[-3000:]
    assert "ACME-R-1 dependency raised" in out
    assert "Added ACME-R-2 risk “Late design sign-off”, owner Alice, amber, no review date." in out
    assert "ACME-R-1 updated: red → amber; note added." in out
    assert "note “keys requested again”" in out
    assert "Review today: ACME-R-1 dependency" in out
    zips = [Path(p) for p in re.findall(r"written to (\S+)", out) if p.endswith(".zip")]
    assert zips, out[-2000:]
    names = zipfile.ZipFile(zips[0]).namelist()
    assert "raid.csv" in names and "raid_history.csv" in names
