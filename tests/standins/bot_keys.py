"""A stand-in for the Bot Framework's token signing: RSA keys generated here, published through an OpenID
metadata document and a JWKS endpoint served on a local port, and tokens minted as the Bot Connector
would (RS256, issuer https://api.botframework.com, audience the bot's app id, `serviceurl` claim,
keys endorsed for `msteams`).

    keys = await BotKeysStandIn().start()
    settings = Settings(microsoft_app_id=APP_ID, microsoft_openid_metadata_url=keys.metadata_url, ...)
    headers = {"Authorization": "Bearer " + keys.token(APP_ID, service_url)}
"""

from __future__ import annotations

import base64
import time
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://api.botframework.com"
EMULATOR_ISSUER = "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/"


def _b64(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(key: rsa.RSAPrivateKey, kid: str, endorsements: list[str] | None) -> dict[str, Any]:
    numbers = key.public_key().public_numbers()
    out: dict[str, Any] = {"kty": "RSA", "use": "sig", "kid": kid, "n": _b64(numbers.n), "e": _b64(numbers.e)}
    if endorsements is not None:
        out["endorsements"] = endorsements
    return out


class BotKeysStandIn:
    def __init__(self) -> None:
        self.key = new_key()
        self.kid = "cadence-test-key"
        self.endorsements: list[str] | None = ["msteams"]
        self.available = True  # False: both endpoints answer 503 (the keys cannot be fetched)
        self.requests = 0
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> BotKeysStandIn:
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self._metadata)
        app.router.add_get("/v1/.well-known/keys", self._keys)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metadata_url(self) -> str:
        return self.base + "/v1/.well-known/openidconfiguration"

    async def _metadata(self, _request: web.Request) -> web.Response:
        self.requests += 1
        if not self.available:
            return web.json_response({"error": "unavailable"}, status=503)
        return web.json_response(
            {
                "issuer": ISSUER,
                "jwks_uri": self.base + "/v1/.well-known/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def _keys(self, _request: web.Request) -> web.Response:
        self.requests += 1
        if not self.available:
            return web.json_response({"error": "unavailable"}, status=503)
        return web.json_response({"keys": [jwk(self.key, self.kid, self.endorsements)]})

    def token(
        self,
        app_id: str,
        service_url: str,
        *,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
        issuer: str = ISSUER,
        lifetime: int = 3600,
        issued_ago: int = 0,
        **claims: Any,
    ) -> str:
        """A token as the Bot Connector signs it (every part overridable to forge a bad one)."""
        now = int(time.time()) - issued_ago
        payload = {
            "iss": issuer,
            "aud": app_id,
            "serviceurl": service_url,
            "nbf": now - 5,
            "iat": now,
            "exp": now + lifetime,
            **claims,
        }
        return jwt.encode(payload, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid})
