"""Files for Teams users, the Teams way: a bot cannot attach an arbitrary file to a channel message (that
needs the OneDrive file-consent flow, personal chats only), so Cadence serves the file itself behind a
short-lived signed link shown in the card.

    GET /teams/files/{token}.{expires}.{signature}/{filename}

`token` is the file's random id (teams_files.token), `expires` a Unix time, `signature` an HMAC-SHA256 of
both under the files key. A forged or altered link gets 403, an expired one 403 (and its row is deleted),
an unknown one 404. Links last `LINK_TTL`: ask again (re-run the export) for a fresh one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.kernel.clock import Clock
from bot.kernel.messages import Attachment, Card
from handlers.teams.cards import FileLink
from storage.models.teams import TeamsFile

log = logging.getLogger("cadence.teams")

LINK_TTL = timedelta(hours=1)
ROUTE = "/teams/files/{link}/{filename}"


def files_key(secret: str | None) -> bytes:
    """The signing key: derived from a configured secret (the same on every replica), else random for this
    process (links then work only on the replica that made them, until it restarts; logged)."""
    if secret:
        return hashlib.sha256(b"cadence-teams-files\0" + secret.encode()).digest()
    log.warning("Teams files: no secret configured; download links are signed with a per-process key")
    return secrets.token_bytes(32)


def needs_link(attachment: Attachment) -> bool:
    """Images are shown inside the card; every other file is offered as a download link."""
    return not attachment.mime.startswith("image/")


class FileLinks:
    def __init__(self, clock: Clock, key: bytes, base_url: str | None, ttl: timedelta = LINK_TTL) -> None:
        self.clock = clock
        self.key = key
        self.base_url = (base_url or "").rstrip("/")  # Cadence's public URL; without it no links are made
        self.ttl = ttl

    def _sign(self, token: str, expires: int) -> str:
        mac = hmac.new(self.key, f"{token}.{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    async def publish(self, session: AsyncSession, card: Card) -> dict[str, FileLink]:
        """Store the card's files (and its sections') and return filename → link. Expired files go first."""
        wanted = [a for a in _attachments(card) if needs_link(a)]
        if not wanted or not self.base_url:
            return {}
        now = self.clock.now()
        await session.execute(delete(TeamsFile).where(TeamsFile.expires_at <= now))
        links: dict[str, FileLink] = {}
        expires_at = now + self.ttl
        expires = int(expires_at.timestamp())
        for a in wanted:
            try:
                content = base64.b64decode(a.content_b64, validate=False)
            except (binascii.Error, ValueError):
                continue
            token = secrets.token_urlsafe(24)
            session.add(
                TeamsFile(
                    token=token,
                    filename=a.filename[:255],
                    mime=a.mime[:100],
                    content=content,
                    created_at=now,
                    expires_at=expires_at,
                )
            )
            url = f"{self.base_url}/teams/files/{token}.{expires}.{self._sign(token, expires)}/{quote(a.filename)}"
            links[a.filename] = FileLink(url=url, expires_at=datetime.fromtimestamp(expires, UTC))
        return links

    def check(self, link: str) -> tuple[str | None, int]:
        """(token, 0) for a valid link; (None, status) for a forged (403) or expired (403) one."""
        try:
            token, expires_text, signature = link.split(".")
            expires = int(expires_text)
        except ValueError:
            return None, 403
        if not hmac.compare_digest(signature, self._sign(token, expires)):
            return None, 403
        if expires <= self.clock.now().timestamp():
            return None, 403
        return token, 0

    async def serve(
        self, request: web.Request, session_factory: async_sessionmaker[AsyncSession]
    ) -> web.StreamResponse:
        token, status = self.check(request.match_info["link"])
        if token is None:
            return web.json_response({"error": "this download link is not valid or has expired"}, status=status)
        async with session_factory() as session:
            row = await session.scalar(select(TeamsFile).where(TeamsFile.token == token))
        if row is None or row.expires_at <= self.clock.now():
            return web.json_response({"error": "no such file"}, status=404)
        return web.Response(
            body=row.content,
            content_type=row.mime,
            headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename)}",
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )


def has_files(card: Card) -> bool:
    """Whether the card (or one of its sections) carries a file that needs a download link."""
    return any(needs_link(a) for a in _attachments(card))


def _attachments(card: Card) -> list[Attachment]:
    out = list(card.attachments)
    for s in card.sections:
        out.extend(_attachments(s))
    return out


def mount(web_app: web.Application, links: FileLinks, session_factory: async_sessionmaker[AsyncSession]) -> None:
    async def download(request: web.Request) -> web.StreamResponse:
        return await links.serve(request, session_factory)

    web_app.router.add_get(ROUTE, download)
