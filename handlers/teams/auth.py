"""Who may post to `/api/messages`: the Bot Framework's JWT, checked here before botbuilder sees anything.

The Bot Connector signs every request to a bot with RS256 keys published through its OpenID metadata
(`MICROSOFT_OPENID_METADATA_URL`, default login.botframework.com). A token is accepted only if all of this
holds (the Bot Framework authentication spec, "Connector to Bot"):

- the header is `Authorization: Bearer <JWT>`, its algorithm RS256 (never `none`, never HS256 with a guessed
  secret), its key one of the published keys (`kid`), and the signature verifies with that key;
- issuer `https://api.botframework.com` (an Emulator- or Azure AD-issued token is refused), audience our
  `MICROSOFT_APP_ID`, not expired and not before its time (5 minutes' clock skew);
- the key's endorsements name the activity's channel, and the token's `serviceurl` claim is the activity's
  `serviceUrl` (checked by `check_activity`, once the body is read).

Keys are fetched with a bounded wait (FETCH_TIMEOUT_SECONDS) and cached; an unknown `kid` refreshes them at
most once per REFRESH_UNKNOWN_KID. When they cannot be fetched no token is accepted, and the log says why
once (and once more when they can be fetched again). Doing this here rather than in botbuilder keeps every
failure a 401 (botbuilder raised errors that became 500s) and lets tests serve their own keys."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt

log = logging.getLogger("cadence.teams")

ISSUER = "https://api.botframework.com"
ALGORITHMS = ["RS256"]
LEEWAY_SECONDS = 300
FETCH_TIMEOUT_SECONDS = 5.0
KEYS_TTL_SECONDS = 24 * 3600
REFRESH_UNKNOWN_KID = 300.0  # seconds between refreshes caused by an unknown kid
RETRY_AFTER_FAILURE = 30.0  # seconds during which a failed fetch is not retried (requests are refused at once)


class Unauthorized(Exception):
    """The request does not carry a token we accept; the message says why (for one log line)."""


@dataclass(frozen=True)
class SigningKey:
    key: jwt.PyJWK
    endorsements: tuple[str, ...] | None  # channels the key may sign for; None: the document names none


class TokenValidator:
    def __init__(self, app_id: str, metadata_url: str, *, now: Any = time.time) -> None:
        self.app_id = app_id
        self.metadata_url = metadata_url
        self._now = now  # wall time, as the token's own exp/nbf are
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at: float | None = None
        self._failed_at: float | None = None
        self._lock = asyncio.Lock()

    async def validate(self, authorization: str) -> dict[str, Any]:
        """The token's claims, or Unauthorized."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("no Bearer token")
        token = token.strip()
        try:
            header = jwt.get_unverified_header(token)
        except (jwt.PyJWTError, ValueError, TypeError) as exc:  # ValueError: UnicodeError of a non-ASCII token
            raise Unauthorized(f"malformed token ({type(exc).__name__})") from None
        if header.get("alg") not in ALGORITHMS:
            raise Unauthorized(f"token algorithm {str(header.get('alg'))[:20]!r} is not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("token names no signing key")
        signing = await self._key(kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                signing.key,
                algorithms=ALGORITHMS,
                audience=self.app_id,
                issuer=ISSUER,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise Unauthorized(f"token refused ({type(exc).__name__}: {exc})") from None
        claims["_endorsements"] = signing.endorsements
        return claims

    @staticmethod
    def check_activity(claims: dict[str, Any], channel_id: str | None, service_url: str | None) -> None:
        """The parts of the check that need the activity: the key endorses its channel, and the token was
        issued for its service URL."""
        endorsements = claims.get("_endorsements")
        if endorsements is not None and (channel_id or "") not in endorsements:
            raise Unauthorized(f"signing key does not endorse channel {str(channel_id)[:40]!r}")
        if claims.get("serviceurl") != service_url:
            raise Unauthorized("token was issued for another serviceUrl")

    # -- keys ---------------------------------------------------------------------------------------
    async def _key(self, kid: str) -> SigningKey:
        now = self._now()
        stale = self._fetched_at is None or now - self._fetched_at > KEYS_TTL_SECONDS
        unknown = kid not in self._keys and (self._fetched_at is None or now - self._fetched_at > REFRESH_UNKNOWN_KID)
        if stale or unknown:
            await self._refresh()
        found = self._keys.get(kid)
        if found is None:
            if not self._keys:
                raise Unauthorized("signing keys are not available")
            raise Unauthorized("token signed with an unknown key")
        return found

    async def _refresh(self) -> None:
        async with self._lock:
            now = self._now()
            if self._fetched_at is not None and now - self._fetched_at < 1:
                return  # another request refreshed them while this one waited
            if self._failed_at is not None and now - self._failed_at < RETRY_AFTER_FAILURE:
                return
            try:
                keys = await self._fetch()
            except (TimeoutError, aiohttp.ClientError, ValueError, KeyError, TypeError, jwt.PyJWTError) as exc:
                if self._failed_at is None:
                    log.warning(
                        "Teams: cannot fetch the Bot Framework signing keys from %s (%s: %s); %s",
                        self.metadata_url,
                        type(exc).__name__,
                        exc,
                        "keeping the keys fetched before" if self._keys else "no token is accepted until they can be",
                    )
                self._failed_at = now
                return
            if self._failed_at is not None:
                log.warning("Teams: signing keys fetched again from %s", self.metadata_url)
            self._keys, self._fetched_at, self._failed_at = keys, now, None

    async def _fetch(self) -> dict[str, SigningKey]:
        timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            async with http.get(self.metadata_url) as resp:
                resp.raise_for_status()
                metadata = await resp.json(content_type=None)
            async with http.get(str(metadata["jwks_uri"])) as resp:
                resp.raise_for_status()
                document = await resp.json(content_type=None)
        keys: dict[str, SigningKey] = {}
        for item in document["keys"]:
            if not isinstance(item, dict) or not isinstance(item.get("kid"), str) or item.get("kty") != "RSA":
                continue
            endorsements = item.get("endorsements")
            keys[item["kid"]] = SigningKey(
                key=jwt.PyJWK(item, algorithm="RS256"),
                endorsements=tuple(str(e) for e in endorsements) if isinstance(endorsements, list) else None,
            )
        if not keys:
            raise ValueError("the key set holds no RSA key")
        return keys
