"""End-to-end harness for the Teams front end: the real aiohttp app (`app.build_web_app`) on a free local
port, driven with real Bot Framework activities whose `serviceUrl` points at a local connector stand-in.

    async with TeamsHarness.running(db_url, clock) as teams:
        asha = teams.user("asha", tz="Asia/Kolkata")
        r = await teams.say(asha, "help")                       # personal chat
        r = await teams.say(asha, "cadence setup ACME Acme", where=teams.channel("general"))
        await teams.drain()                                      # timers + outbox → the stand-in
        card = teams.connector.last(teams.channel("general").id)
        res = await teams.click(asha, card, "Approve")           # Action.Execute invoke → (status, body)
        res = await teams.click(asha, card, "Approve", via="submit")   # Action.Submit message

See tests/e2e/README-teams.md.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp import web

from bot.settings import Settings
from tests.standins.bot_connector import BotConnectorStandIn, Call, text_dump

TENANT = "tenant-contoso"
BOT_ID = "28:cadence-bot"
BOT_NAME = "Cadence"


@dataclass(frozen=True)
class TeamsUser:
    key: str
    name: str
    bf_id: str
    aad: str | None
    tz: str | None
    tenant: str = TENANT


@dataclass(frozen=True)
class Conversation:
    id: str
    type: str  # personal | channel | groupChat
    name: str | None = None
    tenant: str = TENANT

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "conversationType": self.type, "tenantId": self.tenant}
        if self.type != "personal":
            data["isGroup"] = True
        if self.name:
            data["name"] = self.name
        return data


@dataclass
class Result:
    """What the bot answered to one activity: HTTP status, JSON body (invokes) and the connector calls
    the turn caused (replies in the conversation, card updates)."""

    status: int
    body: Any
    calls: list[Call] = field(default_factory=list)

    @property
    def replies(self) -> list[Call]:
        return [c for c in self.calls if c.kind in ("send", "reply") and c.status < 300]

    @property
    def updates(self) -> list[Call]:
        return [c for c in self.calls if c.kind == "update" and c.status < 300]

    @property
    def text(self) -> str:
        """Everything the turn said (replies, updates, the invoke body), for `in` assertions."""
        return "\n".join([c.text_dump() for c in self.calls if c.status < 300] + [text_dump(self.body)])

    def card(self) -> dict[str, Any]:
        """The card an Action.Execute invoke answered with."""
        assert isinstance(self.body, dict) and self.body.get("type") == "application/vnd.microsoft.card.adaptive", (
            self.body
        )
        return self.body["value"]


class TeamsHarness:
    def __init__(self, core, settings: Settings, connector: BotConnectorStandIn) -> None:
        self.core = core
        self.settings = settings
        self.connector = connector
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self._ids = itertools.count(1)
        self.app: web.Application | None = None

    # -- lifecycle --------------------------------------------------------------------------------
    @classmethod
    @contextlib.asynccontextmanager
    async def running(
        cls,
        db_url: str,
        clock,
        *,
        app_id: str | None = None,
        app_password: str | None = None,
        registry=None,
        metadata_url: str | None = None,
    ) -> AsyncIterator[TeamsHarness]:
        """The app on a free port, a connector stand-in, a core on `db_url` (already migrated) with `clock`.
        Without `app_id` Teams runs unauthenticated, as TEAMS_INSECURE_LOCAL=1 allows for local testing;
        with one, tokens are checked against the keys published at `metadata_url` (tests/standins/bot_keys.py)."""
        from bot.bootstrap import create_core

        core = await create_core(db_url, clock=clock, registry=registry, migrate=False)
        connector = await BotConnectorStandIn().start()
        extra = {"microsoft_openid_metadata_url": metadata_url} if metadata_url else {}
        settings = Settings(
            database_url=db_url,
            microsoft_app_id=app_id,
            microsoft_app_password=app_password,
            teams_insecure_local=not app_id,
            **extra,
        )
        harness = cls(core, settings, connector)
        try:
            await harness.start()
            yield harness
        finally:
            await harness.stop()
            await connector.stop()
            await core.engine.dispose()

    async def start(self) -> None:
        from app import build_web_app

        self.app = build_web_app(self.core, self.settings)
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._http = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self._http:
            await self._http.close()
        if self._runner:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/messages"

    # -- people and places ------------------------------------------------------------------------
    def user(
        self, key: str, *, tz: str | None = "UTC", name: str | None = None, aad: bool = True, tenant: str = TENANT
    ) -> TeamsUser:
        return TeamsUser(
            key=key,
            name=name or key.capitalize(),
            bf_id=f"29:{key}",
            aad=f"aad-{key}" if aad else None,
            tz=tz,
            tenant=tenant,
        )

    def personal(self, user: TeamsUser) -> Conversation:
        return Conversation(id=f"a:dm-{user.key}", type="personal", tenant=user.tenant)

    def channel(self, name: str = "general", tenant: str = TENANT) -> Conversation:
        return Conversation(id=f"19:{name}@thread.tacv2", type="channel", name=name, tenant=tenant)

    def group(self, name: str = "project-chat", tenant: str = TENANT) -> Conversation:
        return Conversation(id=f"19:{name}@thread.v2", type="groupChat", name=name, tenant=tenant)

    # -- activities -------------------------------------------------------------------------------
    def activity(self, user: TeamsUser, where: Conversation, **fields: Any) -> dict[str, Any]:
        now = self.core.clock.now()
        sender: dict[str, Any] = {"id": user.bf_id, "name": user.name}
        if user.aad:
            sender["aadObjectId"] = user.aad
        channel_data: dict[str, Any] = {"tenant": {"id": where.tenant}}
        if where.type == "channel":
            channel_data["team"] = {"id": "19:team@thread.tacv2", "name": "Contoso"}
            channel_data["channel"] = {"id": where.id, "name": where.name}
        activity = {
            "type": "message",
            "id": f"act-{next(self._ids)}-{uuid.uuid4().hex[:6]}",
            "timestamp": now.isoformat().replace("+00:00", "Z"),
            "channelId": "msteams",
            "serviceUrl": self.connector.service_url,
            "from": sender,
            "recipient": {"id": BOT_ID, "name": BOT_NAME},
            "conversation": where.json(),
            "channelData": channel_data,
            "locale": "en-US",
        }
        if user.tz:
            activity["localTimezone"] = user.tz
            activity["localTimestamp"] = now.isoformat()
        activity.update(fields)
        return activity

    async def post(self, activity: dict[str, Any], *, headers: dict[str, str] | None = None) -> Result:
        """POST one activity to /api/messages; the Result holds the connector calls the turn made."""
        assert self._http is not None
        before = len(self.connector.calls)
        async with self._http.post(
            self.url, data=json.dumps(activity), headers={"Content-Type": "application/json", **(headers or {})}
        ) as resp:
            raw = await resp.text()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw
            return Result(status=resp.status, body=body, calls=self.connector.calls[before:])

    async def say(
        self,
        user: TeamsUser,
        text: str,
        where: Conversation | None = None,
        *,
        mention: bool | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> Result:
        """A text message; in a channel or group chat it starts with the bot's @mention (as Teams sends it)."""
        where = where or self.personal(user)
        mention = where.type != "personal" if mention is None else mention
        ents = list(entities or [])
        if mention:
            text = f"<at>{BOT_NAME}</at> {text}"
            ents.append(
                {"type": "mention", "text": f"<at>{BOT_NAME}</at>", "mentioned": {"id": BOT_ID, "name": BOT_NAME}}
            )
        return await self.post(self.activity(user, where, text=text, textFormat="plain", entities=ents))

    async def added(self, user: TeamsUser, where: Conversation | None = None) -> Result:
        """conversationUpdate: the bot was added (installed) by `user`."""
        where = where or self.personal(user)
        return await self.post(
            self.activity(user, where, type="conversationUpdate", membersAdded=[{"id": BOT_ID, "name": BOT_NAME}])
        )

    async def click(
        self,
        user: TeamsUser,
        card: Call | dict[str, Any],
        title: str,
        *,
        via: str = "execute",
        inputs: dict[str, Any] | None = None,
        where: Conversation | None = None,
        message_id: str | None = None,
    ) -> Result:
        """Press the button `title` of a card the bot sent (a recorded Call, or a card content dict)."""
        if isinstance(card, Call):
            content = card.cards()[0]
            message_id = message_id or self._message_id(card)
            where = where or self._conversation_of(card)
        else:
            content = card
        assert where is not None, "say where the card is (where=…)"
        action = find_action(content, title)
        data = dict(action.get("data") or {})
        data.update(inputs or {})
        if via == "execute":
            value = {
                "action": {"type": "Action.Execute", "verb": action.get("verb"), "data": data},
                "trigger": "manual",
            }
            activity = self.activity(
                user, where, type="invoke", name="adaptiveCard/action", value=value, replyToId=message_id
            )
        else:
            activity = self.activity(user, where, value=data, replyToId=message_id)
        return await self.post(activity)

    def _message_id(self, call: Call) -> str | None:
        box = self.connector.messages.get(call.conversation_id or "", {})
        for mid, body in box.items():
            if body is call.body:
                return mid
        # updated since: the latest message with the same id
        return next(iter(box), None)

    def _conversation_of(self, call: Call) -> Conversation:
        conv = call.conversation_id or ""
        if conv.startswith("a:"):
            return Conversation(id=conv, type="personal")
        if "@thread.v2" in conv:
            return Conversation(id=conv, type="groupChat")
        return Conversation(id=conv, type="channel", name=conv.split(":", 1)[-1].split("@", 1)[0])

    # -- background -------------------------------------------------------------------------------
    async def drain(self) -> tuple[int, int]:
        """Fire due timers and deliver the outbox now (the scheduler's job in production)."""
        return await self.core.drain()

    async def advance(self, **delta: float) -> tuple[int, int]:
        self.core.clock.advance(timedelta(**delta))
        return await self.core.drain()


def find_action(content: dict[str, Any], title: str) -> dict[str, Any]:
    """The Action.Execute / Action.Submit titled `title` anywhere in a card."""
    found: list[dict[str, Any]] = []

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            if v.get("type") in ("Action.Execute", "Action.Submit") and v.get("title") == title:
                found.append(v)
                return
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(content)
    assert found, f"no button {title!r} in card: {json.dumps(content)[:800]}"
    return found[0]


def card_text(content: dict[str, Any]) -> str:
    return text_dump(content)
