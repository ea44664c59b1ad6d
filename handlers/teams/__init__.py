"""Microsoft Teams front end (botbuilder). Everything Teams-specific lives in this package, so moving to
the Microsoft 365 Agents SDK later touches only this folder. The package imports nothing itself (no cycle
through `__init__`).

    frontend.py   setup(core, settings, web_app): all app.py needs
    adapter.py    botbuilder CloudAdapter built from settings
    auth.py       the Bot Framework JWT check (with credentials); without them Teams is off unless
                  TEAMS_INSECURE_LOCAL=1
    replies.py    a turn's replies, sent over one pooled aiohttp session
    routes.py     POST /api/messages: token, body shape, loopback-only service URLs in local mode
    bot.py        the turn handler: text commands, card clicks, form submissions, installs
    cards.py      neutral Card / Form → Adaptive Card 1.5
    messenger.py  proactive delivery for the outbox (posts, DMs, updates)
    store.py      Teams users' Bot Framework ids and service URLs (and which senders are already stored)
    people.py     the core's people as Teams shows them (mentions, who may press), through the core's directory
    files.py      GET /teams/files/…: exports and invites as short-lived signed download links
    invoke_answers.py  the answers given to invokes, for a repeated delivery of the same invoke
    msrest_retry_codes.py  a fix for msrest's per-client retry-policy cost (7–9 ms of CPU per turn)
"""
