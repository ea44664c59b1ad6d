"""Slack front end (slack-bolt AsyncApp). `setup(core, settings, web_app)` is all app.py needs."""

from handlers.slack.app import SlackFrontEnd, setup

__all__ = ["SlackFrontEnd", "setup"]
