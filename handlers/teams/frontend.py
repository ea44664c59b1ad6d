"""The Teams front end as app.py starts it: `setup(core, settings, web_app)` and `TeamsFrontEnd`."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from bot.kernel.settings import Settings
from handlers.teams import files
from handlers.teams.adapter import build_adapter
from handlers.teams.auth import TokenValidator
from handlers.teams.bot import TeamsBot
from handlers.teams.directory import TeamsDirectory
from handlers.teams.messenger import TeamsMessenger
from handlers.teams.routes import mount

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


def setup(core: Any, settings: Settings, web_app: web.Application) -> TeamsFrontEnd | None:
    """Mount `POST /api/messages`, register the Teams messenger in `core.messengers`; None (after one log
    line) when Teams is off. With `MICROSOFT_APP_ID` every request must carry a valid Bot Framework token
    (auth.py). Without it Teams is off, unless TEAMS_INSECURE_LOCAL=1 asks for the unauthenticated local
    testing mode, in which the bot only ever calls loopback service URLs (routes.py)."""
    if not settings.microsoft_app_id and not settings.teams_insecure_local:
        log.info(
            "teams: off (MICROSOFT_APP_ID not set; TEAMS_INSECURE_LOCAL=1 runs it unauthenticated for local testing)"
        )
        return None
    adapter, config = build_adapter(settings)
    links = files.FileLinks(core.clock, files.files_key(settings.microsoft_app_password), settings.public_url)
    bot = TeamsBot(core, config.APP_ID, files=links)
    messenger = TeamsMessenger(core, adapter, config.APP_ID, files=links)
    validator = TokenValidator(config.APP_ID, settings.microsoft_openid_metadata_url) if config.authenticated else None
    mount(web_app, adapter, bot, validator)
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
            "Teams: WARNING — TEAMS_INSECURE_LOCAL=1 and no MICROSOFT_APP_ID: POST /api/messages accepts "
            "UNAUTHENTICATED requests (loopback service URLs only). Local testing only; never expose this "
            "endpoint publicly."
        )
    return TeamsFrontEnd(adapter, bot, messenger, config.authenticated)
