"""The console, as a real process: the report's chart and the export's zip are written to files
under ./reports and their paths printed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_console_writes_report_chart_and_export_zip(tmp_path):
    script = (
        "\n".join(
            [
                "as alice Europe/London",
                "/cadence setup ACME Acme web shop",
                "/cadence report",
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
    assert "ACME health report — last week" in out
    written = [Path(p) for p in re.findall(r"written to (\S+)", out)]
    png = [p for p in written if p.suffix == ".png"]
    zips = [p for p in written if p.suffix == ".zip"]
    assert png and zips, out[-2000:]
    assert png[0].parent == (tmp_path / "reports").resolve()
    assert png[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    names = zipfile.ZipFile(zips[0]).namelist()
    assert "README.txt" in names and "defects.csv" in names
