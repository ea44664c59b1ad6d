"""Nothing uses naive time. (That the domain stays platform-neutral is import-linter's job: the contracts in
pyproject.toml, run by `lint-imports` in .ci/run, check indirect imports as well as direct ones.)"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_no_naive_now():
    pattern = re.compile(r"datetime\.(utcnow|now)\(\)|datetime\.today\(\)")
    offenders = []
    for folder in ("bot", "handlers", "storage"):
        for p in (ROOT / folder).rglob("*.py"):
            if pattern.search(p.read_text()):
                offenders.append(str(p.relative_to(ROOT)))
    assert offenders == []
