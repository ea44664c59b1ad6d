"""The loggers handed to slack_sdk / slack-bolt carry an explicit level (handlers/slack/library_logs.py)."""

from __future__ import annotations

import logging

from handlers.slack.library_logs import library_logger
from handlers.slack.messenger import SlackMessenger


def test_a_library_logger_takes_the_level_in_effect_so_debug_lines_are_not_built(monkeypatch):
    parent = logging.getLogger("cadence.test_liblogs")
    monkeypatch.setattr(parent, "level", logging.INFO)
    quiet = library_logger("cadence.test_liblogs.quiet")
    # slack_sdk's own test: `logger.level <= logging.DEBUG`. At NOTSET (0) it would pass.
    assert quiet.level == logging.INFO and not quiet.level <= logging.DEBUG

    monkeypatch.setattr(parent, "level", logging.DEBUG)
    loud = library_logger("cadence.test_liblogs.loud")
    assert loud.level == logging.DEBUG  # LOG_LEVEL=DEBUG still shows the libraries' debug lines


def test_a_level_set_on_purpose_is_kept():
    explicit = logging.getLogger("cadence.test_liblogs.explicit")
    explicit.setLevel(logging.ERROR)
    assert library_logger("cadence.test_liblogs.explicit").level == logging.ERROR


async def test_the_messengers_web_api_clients_use_such_a_logger():
    async def token(_workspace: str) -> str:
        return "xoxb-test"

    messenger = SlackMessenger(base_url="http://127.0.0.1:9/api/", token_for=token)
    try:
        client = messenger.client("xoxb-test")
        assert client.logger.name == "cadence.slack.web"
        assert client.logger.level != logging.NOTSET
    finally:
        await messenger.close()
