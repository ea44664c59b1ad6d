"""The console's messenger: delivered messages land in an in-memory log (and are printed by the REPL).

Attachments (a report's chart, an export's zip, an invite) are written to files — in `files_dir`
(default `./reports`, created on first use) — and their paths recorded on the delivery and appended to
its text, so the console shows where to open them."""

from __future__ import annotations

import base64
import binascii
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.kernel.delivery import Outgoing, PermanentFailure, Sent
from bot.kernel.messages import Card

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class Delivered:
    op: str
    address: dict[str, Any]
    card: Card
    message_id: str
    channel_id: str
    text: str = ""
    files: list[Path] = field(default_factory=list)  # attachments written to disk, in card order


@dataclass
class ConsoleMessenger:
    platform: str = "console"
    log: list[Delivered] = field(default_factory=list)
    on_deliver: Callable[[Delivered], None] | None = None
    # Channels that "no longer exist": delivery to them fails for good (tests of permanent failures).
    gone: set[str] = field(default_factory=set)
    # Where attachments are written (None: ./reports in the working folder).
    files_dir: Path | str | None = None
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def _write(self, message_id: str, card: Card) -> list[Path]:
        if not card.attachments:
            return []
        folder = Path(self.files_dir) if self.files_dir is not None else Path("reports")
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for i, a in enumerate(card.attachments):
            name = _UNSAFE.sub("_", Path(a.filename or f"attachment-{i}").name).strip("._") or f"attachment-{i}"
            path = folder / f"{message_id}-{name}"
            try:
                data = base64.b64decode(a.content_b64, validate=False)
            except (binascii.Error, ValueError):
                continue
            path.write_bytes(data)
            paths.append(path.resolve())
        return paths

    async def send(self, out: Outgoing) -> Sent:
        channel = out.address.get("channel_id") or f"dm:{out.address.get('user_id')}"
        if out.op == "dm":
            channel = f"dm:{out.address.get('user_id')}"
        if channel in self.gone:
            raise PermanentFailure("channel_not_found")
        message_id = out.message_id if out.op == "update" and out.message_id else f"m{next(self._ids)}"
        files = self._write(f"{out.outbox_id or message_id}", out.card)
        text = out.card.plain()
        if files:
            text += "\n" + "\n".join(f"📎 written to {p}" for p in files)
        delivered = Delivered(
            op=out.op,
            address=dict(out.address),
            card=out.card,
            message_id=message_id,
            channel_id=channel,
            text=text,
            files=files,
        )
        self.log.append(delivered)
        if self.on_deliver:
            self.on_deliver(delivered)
        return Sent(message_id=message_id, channel_id=channel)
