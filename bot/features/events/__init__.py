"""Calendar events, the part demos and meetings share: a one-off or an RFC 5545 series, materialised one
occurrence at a time, with invites (.ics), confirmation drafts, moves and cancellations (one occurrence or the
whole series). Not a job (no commands of its own, not in bootstrap.FEATURES): each job passes its `EventKind`
(its tables and words) and its `plan_timers`, and keeps what only it does. It imports no job (pyproject.toml's
import-linter contract)."""
