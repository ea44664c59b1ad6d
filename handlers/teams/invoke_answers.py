"""The answers given to Action.Execute invokes, kept a few minutes in this process. Teams delivers an invoke
again when the first answer was slow; the work is applied once (its claim is recorded with the work,
`core.claim_event`), and the repeat gets the same answer the first one got, instead of a bare "already done".
Another replica, or this one after a restart, answers a repeat with a short note instead: nothing is applied
twice either way."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any


class InvokeAnswers:
    def __init__(self, ttl: float = 300.0, size: int = 2_000) -> None:
        self.ttl = ttl
        self.size = size
        self._answers: OrderedDict[str, tuple[dict[str, Any], float]] = OrderedDict()

    def get(self, key: str) -> dict[str, Any] | None:
        entry = self._answers.get(key)
        if entry is None or time.monotonic() - entry[1] >= self.ttl:
            return None
        return entry[0]

    def put(self, key: str, body: dict[str, Any]) -> None:
        self._answers[key] = (body, time.monotonic())
        self._answers.move_to_end(key)
        while len(self._answers) > self.size:
            self._answers.popitem(last=False)
