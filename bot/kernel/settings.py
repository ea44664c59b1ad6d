"""Settings read from environment variables (and an optional .env file)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///cadence.db"
    port: int = 3000
    host: str = "0.0.0.0"
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    microsoft_app_id: str | None = None
    microsoft_app_password: str | None = None
    microsoft_app_tenant_id: str | None = None
    microsoft_app_type: str | None = None
    # Where the Bot Framework publishes the keys that sign its tokens (tests and staging serve their own).
    microsoft_openid_metadata_url: str = "https://login.botframework.com/v1/.well-known/openidconfiguration"
    # Teams without MICROSOFT_APP_ID: off, unless this is set for local testing (then unauthenticated, and
    # only loopback service URLs are ever called).
    teams_insecure_local: bool = False
    sweep_seconds: float = 30.0
    outbox_lease_seconds: float = 120.0
    log_level: str = "INFO"
    public_url: str | None = None  # Cadence's public https address (Teams download links); PUBLIC_URL
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def slack_http_enabled(self) -> bool:
        return bool(self.slack_signing_secret and (self.slack_bot_token or self.slack_oauth_enabled))

    @property
    def slack_socket_mode(self) -> bool:
        return bool(self.slack_app_token and self.slack_bot_token)

    @property
    def slack_oauth_enabled(self) -> bool:
        return bool(self.slack_client_id and self.slack_client_secret)

    @property
    def slack_enabled(self) -> bool:
        return self.slack_http_enabled or self.slack_socket_mode

    @property
    def teams_authenticated(self) -> bool:
        return bool(self.microsoft_app_id and self.microsoft_app_password)


def _get(env: dict[str, str], name: str) -> str | None:
    value = env.get(name)
    return value.strip() if value and value.strip() else None


def load_settings(env: dict[str, str] | None = None, dotenv: str | Path | None = ".env") -> Settings:
    """Build Settings from `env` (default: os.environ, after loading a .env file if present)."""
    if env is None:
        if dotenv and Path(dotenv).is_file():
            from dotenv import load_dotenv

            load_dotenv(dotenv, override=False)
        env = dict(os.environ)
    port = _get(env, "PORT")
    return Settings(
        database_url=_get(env, "DATABASE_URL") or "sqlite:///cadence.db",
        port=int(port) if port else 3000,
        host=_get(env, "HOST") or "0.0.0.0",
        slack_bot_token=_get(env, "SLACK_BOT_TOKEN"),
        slack_signing_secret=_get(env, "SLACK_SIGNING_SECRET"),
        slack_app_token=_get(env, "SLACK_APP_TOKEN"),
        slack_client_id=_get(env, "SLACK_CLIENT_ID"),
        slack_client_secret=_get(env, "SLACK_CLIENT_SECRET"),
        slack_api_url=_get(env, "SLACK_API_URL") or "https://slack.com/api/",
        microsoft_app_id=_get(env, "MICROSOFT_APP_ID"),
        microsoft_app_password=_get(env, "MICROSOFT_APP_PASSWORD"),
        microsoft_app_tenant_id=_get(env, "MICROSOFT_APP_TENANT_ID"),
        microsoft_app_type=_get(env, "MICROSOFT_APP_TYPE"),
        microsoft_openid_metadata_url=_get(env, "MICROSOFT_OPENID_METADATA_URL")
        or Settings.microsoft_openid_metadata_url,
        teams_insecure_local=_get(env, "TEAMS_INSECURE_LOCAL") in ("1", "true", "yes"),
        sweep_seconds=float(_get(env, "CADENCE_SWEEP_SECONDS") or 30),
        outbox_lease_seconds=float(_get(env, "CADENCE_OUTBOX_LEASE_SECONDS") or 120),
        log_level=_get(env, "LOG_LEVEL") or "INFO",
        public_url=_get(env, "PUBLIC_URL"),
    )
