"""Slack front end (slack-bolt AsyncApp). `handlers.slack.app.setup(core, settings, web_app)` is all app.py needs.

The package imports nothing itself: its modules import one another by their own names, and nothing in it
imports the package back (no cycle through `__init__`)."""
