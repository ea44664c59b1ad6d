"""Growth: the other benchmarks at 1,000×, 100× and 10× smaller loads (and the full load with --full), one
table per database, so the cost per unit of work can be compared across sizes. A figure whose cost per
unit rises with the load grows worse than linearly.

    python bench/growth.py --db sqlite|postgres [--full] [--only timer_lateness,memory,restart,standup_fanout]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIGURES = {
    "timer_lateness": [
        "pending_timers",
        "due_in_same_second",
        "lateness_median",
        "lateness_p99",
        "throughput",
        "serve_cpu_per_message",
    ],
    "memory": ["members", "pending_timers", "open_defects", "rss_peak"],
    "restart": ["pending_timers", "start_to_healthz_median"],
    "standup_fanout": [
        "members",
        "schedule_planning_seconds",
        "prompts_due_in_window",
        "total_seconds_from_window_start",
        "rate_allows_seconds",
        "duplicates",
    ],
}


def run(bench: str, db: str, scale: int) -> dict[str, str]:
    out = subprocess.run(
        [sys.executable, str(HERE / f"{bench}.py"), "--db", db, "--scale", str(scale)],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    figures = {}
    for line in out.stdout.splitlines():
        name, sep, value = line.partition(": ")
        if sep:
            figures[name.strip()] = value.strip()
    if out.returncode != 0:
        figures["error"] = (out.stderr or out.stdout).strip().splitlines()[-1][:120]
    return figures


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--full", action="store_true", help="include the full load (scale 1)")
    p.add_argument("--only", default=",".join(FIGURES))
    args = p.parse_args()
    scales = [1000, 100, 10] + ([1] if args.full else [])
    for bench in args.only.split(","):
        print(f"== {bench} ({args.db})")
        print("scale | " + " | ".join(FIGURES[bench]))
        for scale in scales:
            f = run(bench, args.db, scale)
            row = [f.get(k, "-") for k in FIGURES[bench]]
            print(f"1/{scale} | " + " | ".join(row) + (f" | error: {f['error']}" if "error" in f else ""), flush=True)


if __name__ == "__main__":
    main()
