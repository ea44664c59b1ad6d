"""What a statement's result says beyond its rows."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy.engine import CursorResult, Result


def rowcount(result: Result[Any]) -> int:
    """How many rows an UPDATE, DELETE or INSERT touched. `Session.execute` is typed to return any Result;
    for those statements it is a CursorResult, which is where the count lives."""
    return cast(CursorResult[Any], result).rowcount
