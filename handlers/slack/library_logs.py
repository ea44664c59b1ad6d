"""Loggers handed to slack_sdk and slack-bolt objects.

Both libraries guard their debug lines with `logger.level <= logging.DEBUG`, not `isEnabledFor`. A logger
left at NOTSET (level 0) passes that test whatever logging is configured to show, so every Web API call
formatted its whole request and response into debug strings that were then dropped: a sixth of the CPU a
delivery cost (bench/timer_lateness.py). The loggers we hand them carry an explicit level instead: the
level they effectively have when the front end is built (so debug lines are still built, and shown, when
LOG_LEVEL=DEBUG). A later change to the root logger's level does not reach them."""

from __future__ import annotations

import logging


def library_logger(name: str) -> logging.Logger:
    logger = logging.getLogger(name)
    if logger.level == logging.NOTSET:
        logger.setLevel(logger.getEffectiveLevel())
    return logger
