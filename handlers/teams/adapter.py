"""The botbuilder adapter, built from Settings. The only place that knows how botbuilder is configured.

With `MICROSOFT_APP_ID` and `MICROSOFT_APP_PASSWORD` set, every inbound request must carry a Bot Framework
JWT (validated by botbuilder) and outbound calls get an AAD token. Without them the adapter accepts
unauthenticated activities and calls the activity's `serviceUrl` without a token — for local testing
against the Bot Framework Emulator or a stand-in only.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

from bot.settings import Settings
from handlers.teams import msrest_retry_codes

log = logging.getLogger("cadence.teams")

# Outbound calls made on behalf of the outbox give up quickly: the outbox retries with backoff.
OUTBOUND_TIMEOUT_SECONDS = 15
# Replies inside a turn (answering a command) may be retried by msrest itself.
TURN_REPLY_RETRIES = 2


@dataclass(frozen=True)
class BotConfig:
    """The attribute names botbuilder's ConfigurationBotFrameworkAuthentication reads."""

    APP_ID: str = ""
    APP_PASSWORD: str = ""
    APP_TYPE: str = "MultiTenant"
    APP_TENANTID: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> "BotConfig":
        app_type = settings.microsoft_app_type or "MultiTenant"
        return cls(
            APP_ID=settings.microsoft_app_id or "",
            APP_PASSWORD=settings.microsoft_app_password or "",
            APP_TYPE=app_type,
            APP_TENANTID=settings.microsoft_app_tenant_id or "",
        )

    @property
    def authenticated(self) -> bool:
        return bool(self.APP_ID)


def build_adapter(settings: Settings) -> tuple[CloudAdapter, BotConfig]:
    """A CloudAdapter for `settings`, and the config it was built from (app id for proactive sends)."""
    msrest_retry_codes.apply()
    config = BotConfig.from_settings(settings)
    if config.APP_ID and not config.APP_PASSWORD and config.APP_TYPE.lower() != "userassignedmsi":
        log.warning("Teams: MICROSOFT_APP_ID is set without MICROSOFT_APP_PASSWORD; outbound calls will fail "
                    "to get a token (inbound requests are still authenticated).")
    if config.APP_TYPE.lower() == "singletenant" and not config.APP_TENANTID:
        log.warning("Teams: MICROSOFT_APP_TYPE=SingleTenant needs MICROSOFT_APP_TENANT_ID.")
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(config))
    return adapter, config


def connector_client(turn_context: TurnContext):  # noqa: ANN201
    """The ConnectorClient botbuilder created for this turn."""
    return turn_context.turn_state.get(turn_context.adapter.BOT_CONNECTOR_CLIENT_KEY)


def tune_connector(turn_context: TurnContext, *, retries: int, timeout: int | None = None) -> None:
    """Set msrest's own retry count (and timeout) for the calls of this turn. Outbox sends use 0 retries
    so the outbox (backoff, Retry-After, order per conversation) stays in charge."""
    client = connector_client(turn_context)
    config = getattr(client, "config", None)
    if config is None:
        return
    policy = getattr(config, "retry_policy", None)
    if policy is not None:
        policy.retries = retries
    if timeout is not None and getattr(config, "connection", None) is not None:
        config.connection.timeout = timeout
