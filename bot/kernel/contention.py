"""Retrying a whole transaction that lost a race on PostgreSQL (a deadlock or a serialization failure).

PostgreSQL picks one transaction of a deadlock (SQLSTATE 40P01) or a serialization conflict (40001) and
aborts it; the work itself was fine and succeeds when run again from the start. So the unit retried is
the whole transaction, never a statement inside it, and nobody is told anything until it has either
committed or run out of attempts. tenacity does the looping (attempts, jittered backoff, re-raising the
last error) so the rule stays a few declarative lines here.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_random_exponential

log = logging.getLogger("cadence.contention")

T = TypeVar("T")

# deadlock_detected, serialization_failure (SQLSTATE class 40: transaction rollback).
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
ATTEMPTS = 6
# Random waits up to 50 ms, 100 ms, 200 ms … capped at 1 s: jitter spreads the losers so they do not
# collide again in lock step.
WAIT = wait_random_exponential(multiplier=0.05, max=1.0)


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE behind a SQLAlchemy error, whichever driver raised it (asyncpg, psycopg)."""
    if not isinstance(exc, DBAPIError):
        return None
    seen: BaseException | None = exc.orig
    for _ in range(4):  # the driver error, then what it wraps
        if seen is None:
            return None
        code = getattr(seen, "sqlstate", None) or getattr(seen, "pgcode", None)
        if isinstance(code, str) and code:
            return code
        seen = seen.__cause__
    return None


def is_contention(exc: BaseException) -> bool:
    return sqlstate(exc) in RETRYABLE_SQLSTATES


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    log.info("transaction lost a race (%s); running it again (attempt %d)", exc and sqlstate(exc), state.attempt_number)


async def retry_transaction(work: Callable[[], Awaitable[T]], *, attempts: int = ATTEMPTS) -> T:
    """`await work()` again from the start while it fails with a deadlock or serialization failure.
    `work` must open (and end) its own transaction, so each attempt starts clean."""
    async for attempt in AsyncRetrying(
        stop=stop_after_attempt(attempts),
        wait=WAIT,
        retry=retry_if_exception(is_contention),
        before_sleep=_log_retry,
        reraise=True,
    ):
        with attempt:
            return await work()
    raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover
