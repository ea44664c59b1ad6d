"""The botbuilder adapter, built from Settings. The only place that knows how botbuilder is configured.

With `MICROSOFT_APP_ID` and `MICROSOFT_APP_PASSWORD` set, every inbound request must carry a Bot Framework
JWT (checked by auth.py before botbuilder sees the activity) and outbound calls get an AAD token. Without
them (TEAMS_INSECURE_LOCAL=1 only) the adapter accepts unauthenticated activities and calls the
activity's `serviceUrl` without a token, and only ever a loopback one (`is_loopback`) — for local testing
against the Bot Framework Emulator or a stand-in only.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ActivityTypes, ResourceResponse

from bot.kernel.settings import Settings
from handlers.teams import msrest_retry_codes
from handlers.teams.replies import ReplySender

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
    def from_settings(cls, settings: Settings) -> BotConfig:
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


class CadenceCloudAdapter(CloudAdapter):
    """botbuilder's CloudAdapter, except that the messages a turn sends (`turn_context.send_activity`) go
    through `ReplySender` (one pooled aiohttp session) instead of msrest (see replies.py). Invoke
    responses, delays and traces are left to botbuilder."""

    _LEFT_TO_BOTBUILDER = (ActivityTypes.invoke_response, "delay", ActivityTypes.trace)

    def __init__(self, auth: ConfigurationBotFrameworkAuthentication, *, loopback_only: bool = False) -> None:
        super().__init__(auth)
        self.replies = ReplySender(retries=TURN_REPLY_RETRIES, timeout=OUTBOUND_TIMEOUT_SECONDS)
        self.loopback_only = loopback_only  # unauthenticated local testing: never call out anywhere else

    async def send_activities(self, context: TurnContext, activities: list[Activity]) -> list[ResourceResponse]:
        responses: list[ResourceResponse] = []
        for activity in activities:
            if activity.type in self._LEFT_TO_BOTBUILDER:
                responses.extend(await super().send_activities(context, [activity]))
                continue
            activity.id = None
            if self.loopback_only and not is_loopback(activity.service_url):
                raise PermissionError("Teams: refusing to call a non-loopback serviceUrl without credentials")
            config = getattr(connector_client(context), "config", None)
            responses.append(
                await self.replies.send(
                    activity,
                    credentials=getattr(config, "credentials", None),
                    user_agent=getattr(config, "user_agent", None),
                )
            )
        return responses


def build_adapter(settings: Settings) -> tuple[CloudAdapter, BotConfig]:
    """A CloudAdapter for `settings`, and the config it was built from (app id for proactive sends)."""
    msrest_retry_codes.apply()
    config = BotConfig.from_settings(settings)
    if config.APP_ID and not config.APP_PASSWORD and config.APP_TYPE.lower() != "userassignedmsi":
        log.warning(
            "Teams: MICROSOFT_APP_ID is set without MICROSOFT_APP_PASSWORD; outbound calls will fail "
            "to get a token (inbound requests are still authenticated)."
        )
    if config.APP_TYPE.lower() == "singletenant" and not config.APP_TENANTID:
        log.warning("Teams: MICROSOFT_APP_TYPE=SingleTenant needs MICROSOFT_APP_TENANT_ID.")
    adapter = CadenceCloudAdapter(
        ConfigurationBotFrameworkAuthentication(config), loopback_only=not config.authenticated
    )
    return adapter, config


def is_loopback(url: str | None) -> bool:
    """Whether `url` is http(s) to this machine (127.0.0.0/8, ::1, localhost)."""
    try:
        parts = urlsplit(url or "")
        host = parts.hostname or ""
    except ValueError:
        return False
    if parts.scheme not in ("http", "https"):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
