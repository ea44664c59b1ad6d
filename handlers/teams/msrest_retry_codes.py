"""Make msrest's retry-policy construction cheap. botbuilder builds two msrest clients for every Teams turn
(the ConnectorClient that sends the reply and a UserTokenClient) and one per proactive send; each builds a
`ClientRetryPolicy`, whose constructor computes its retryable status codes as
`[i for i in range(999) if i not in self.safe_codes]` with `safe_codes` a 501-item *list*: half a million
comparisons, about 3.7 ms of CPU per client, 7–9 ms per turn (profiled with py-spy under
bench/teams_ack.py; the largest single cost of a Teams turn).

Turning the class attribute into a frozenset makes that membership test O(1). The result is the same list
of codes, so retries behave exactly as before. msrest is in maintenance; if a release changes this class,
`apply()` leaves it alone.
"""

from __future__ import annotations


def apply() -> None:
    """Idempotent; called when the Teams adapter is built."""
    try:
        from msrest.universal_http.requests import ClientRetryPolicy
    except ImportError:  # a future msrest without this module: nothing to fix
        return
    codes = getattr(ClientRetryPolicy, "safe_codes", None)
    if isinstance(codes, list):
        ClientRetryPolicy.safe_codes = frozenset(codes)  # type: ignore[assignment]  # a set where msrest says list
