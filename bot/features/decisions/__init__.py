"""Decisions and action items: `/decision`, `/action`, the after-meeting form and the blocker's client action."""
