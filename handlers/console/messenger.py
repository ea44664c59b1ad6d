"""The console's messenger: delivered messages land in an in-memory log (and are printed by the REPL)."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Callable

from bot.delivery import Outgoing, PermanentFailure, Sent
from bot.messages import Card


@dataclass
class Delivered:
    op: str
    address: dict[str, Any]
    card: Card
    message_id: str
    channel_id: str
    text: str = ""


@dataclass
class ConsoleMessenger:
    platform: str = "console"
    log: list[Delivered] = field(default_factory=list)
    on_deliver: Callable[[Delivered], None] | None = None
    # Channels that "no longer exist": delivery to them fails for good (tests of permanent failures).
    gone: set[str] = field(default_factory=set)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    async def send(self, out: Outgoing) -> Sent:
        channel = out.address.get("channel_id") or f"dm:{out.address.get('user_id')}"
        if out.op == "dm":
            channel = f"dm:{out.address.get('user_id')}"
        if channel in self.gone:
            raise PermanentFailure("channel_not_found")
        message_id = out.message_id if out.op == "update" and out.message_id else f"m{next(self._ids)}"
        delivered = Delivered(op=out.op, address=dict(out.address), card=out.card, message_id=message_id,
                              channel_id=channel, text=out.card.plain())
        self.log.append(delivered)
        if self.on_deliver:
            self.on_deliver(delivered)
        return Sent(message_id=message_id, channel_id=channel)
