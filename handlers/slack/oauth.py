"""Multi-workspace install: slack-bolt's OAuth flow with slack_sdk's SQLAlchemy installation and state
stores on Cadence's own database (tables from migration 0006_slack; slack_sdk's async stores run on
the same async drivers as the rest of Cadence: aiosqlite / asyncpg)."""

from __future__ import annotations

from typing import Any

from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore

from bot.kernel.settings import Settings
from storage.db import create_engine
from storage.models.slack import BOTS_TABLE, INSTALLATIONS_TABLE, OAUTH_STATES_TABLE

BOT_SCOPES = [
    "commands",
    "chat:write",
    "chat:write.public",
    "im:write",
    "im:history",
    "users:read",
    "channels:read",
    "groups:read",
    "files:write",
    "app_mentions:read",
    "im:read",
]
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


class OAuthStores:
    """The installation and state stores, on their own small async engine (disposed on stop)."""

    def __init__(self, settings: Settings) -> None:
        assert settings.slack_client_id
        self.engine = create_engine(settings.database_url)
        self.installations = AsyncSQLAlchemyInstallationStore(
            client_id=settings.slack_client_id,
            engine=self.engine,
            bots_table_name=BOTS_TABLE,
            installations_table_name=INSTALLATIONS_TABLE,
        )
        self.states = AsyncSQLAlchemyOAuthStateStore(
            expiration_seconds=600, engine=self.engine, table_name=OAUTH_STATES_TABLE
        )

    def settings(self, settings: Settings) -> AsyncOAuthSettings:
        return AsyncOAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret,
            scopes=BOT_SCOPES,
            installation_store=self.installations,
            installation_store_bot_only=True,
            state_store=self.states,
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
        )

    async def bot_token(self, workspace_id: str) -> str | None:
        bot: Any = await self.installations.async_find_bot(enterprise_id=None, team_id=workspace_id or None)
        return bot.bot_token if bot is not None else None

    async def close(self) -> None:
        await self.engine.dispose()
