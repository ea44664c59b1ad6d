"""Microsoft Teams front end (botbuilder). Everything Teams-specific lives in this package, so moving to
the Microsoft 365 Agents SDK later touches only this folder.

    adapter.py    botbuilder CloudAdapter built from settings (JWT validation when credentials are set)
    replies.py    a turn's replies, sent over one pooled aiohttp session
    routes.py     POST /api/messages
    bot.py        the turn handler: text commands, card clicks, form submissions, installs
    cards.py      neutral Card / Form → Adaptive Card 1.5
    messenger.py  proactive delivery for the outbox (posts, DMs, updates)
    store.py      Teams users' Bot Framework ids and service URLs (and which senders are already stored)
    files.py      GET /teams/files/…: exports and invites as short-lived signed download links
    invoke_answers.py  the answers given to invokes, for a repeated delivery of the same invoke
    msrest_retry_codes.py  a fix for msrest's per-client retry-policy cost (7–9 ms of CPU per turn)
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from bot.settings import Settings
from handlers.teams.directory import TeamsDirectory

log = logging.getLogger("cadence.teams")


class TeamsFrontEnd:
    """What `app.py` starts and stops. The route is mounted and the messenger registered by `setup()`."""

    def __init__(self, adapter: Any, bot: Any, messenger: Any, authenticated: bool) -> None:
        self.adapter = adapter
        self.bot = bot
        self.messenger = messenger
        self.authenticated = authenticated

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self.bot.settle()  # what follows answered invokes
        replies = getattr(self.adapter, "replies", None)
        if replies is not None:
            await replies.close()


def setup(core: Any, settings: Settings, web_app: web.Application) -> TeamsFrontEnd:
    """Mount `POST /api/messages`, register the Teams messenger in `core.messengers`. Teams is never off:
    without credentials it runs unauthenticated (local testing only) and says so loudly."""
    from handlers.teams import files
    from handlers.teams.adapter import build_adapter
    from handlers.teams.bot import TeamsBot
    from handlers.teams.messenger import TeamsMessenger
    from handlers.teams.routes import mount

    adapter, config = build_adapter(settings)
    links = files.FileLinks(core.clock, files.files_key(settings.microsoft_app_password), settings.public_url)
    bot = TeamsBot(core, config.APP_ID, files=links)
    messenger = TeamsMessenger(core, adapter, config.APP_ID, files=links)
    mount(web_app, adapter, bot)
    files.mount(web_app, links, core.session_factory)
    core.messengers[messenger.platform] = messenger
    core.directories[messenger.platform] = TeamsDirectory()
    if config.authenticated:
        log.info(
            "Teams: on at POST /api/messages (app id %s, %s); requests must carry a Bot Framework token.",
            config.APP_ID,
            config.APP_TYPE,
        )
    else:
        log.warning(
            "Teams: WARNING — MICROSOFT_APP_ID/MICROSOFT_APP_PASSWORD are not set: POST /api/messages "
            "accepts UNAUTHENTICATED requests and replies to any serviceUrl. Local testing only; never "
            "expose this endpoint publicly."
        )
    return TeamsFrontEnd(adapter, bot, messenger, config.authenticated)
