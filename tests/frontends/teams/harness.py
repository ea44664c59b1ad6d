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
        shown = await teams.view(asha, card)      # the card as Asha's Teams client shows it (user-specific views)
        res = await teams.refresh(asha, card)     # the card's refresh invoke, as Teams sends it

See tests/frontends/teams/README.md.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp import web

from bot.kernel.settings import Settings
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
    elapsed: float = 0.0  # seconds until the HTTP answer (an invoke's answer must not wait for its replies)

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
        from app import FRONTENDS

        for frontend in self.app[FRONTENDS]:  # download links point at this server (PUBLIC_URL in production)
            links = getattr(getattr(frontend, "bot", None), "files", None)
            if links is not None:
                links.base_url = f"http://127.0.0.1:{self.port}"

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
        started = time.monotonic()
        async with self._http.post(
            self.url, data=json.dumps(activity), headers={"Content-Type": "application/json", **(headers or {})}
        ) as resp:
            raw = await resp.text()
            elapsed = time.monotonic() - started
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw
        await self.settle()  # what the turn left to do after its answer belongs to its result
        return Result(status=resp.status, body=body, calls=self.connector.calls[before:], elapsed=elapsed)

    async def settle(self) -> None:
        """Wait for the work the Teams bot does after answering an invoke (card updates, next forms)."""
        from app import FRONTENDS

        assert self.app is not None
        for frontend in self.app[FRONTENDS]:
            settle = getattr(getattr(frontend, "bot", None), "settle", None)
            if settle is not None:
                await settle()

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
        """Press the button `title` of a card the bot sent (a recorded Call, or a card content dict). A form in
        a channel is a dialog launcher: it is opened as `user` (task/fetch) and submitted there (task/submit)."""
        content = card.cards()[0] if isinstance(card, Call) else card
        if via != "submit" and is_launcher(content) and not _has_action(content, title):
            where = where or (self._conversation_of(card) if isinstance(card, Call) else None)
            assert where is not None, "say where the card is (where=…)"
            return await self.post(await self.dialog_submit_activity(user, content, title, inputs=inputs, where=where))
        activity = self.click_activity(user, card, title, via=via, inputs=inputs, where=where, message_id=message_id)
        return await self.post(activity)

    async def open_dialog(self, user: TeamsUser, launcher: dict[str, Any], *, where: Conversation) -> dict[str, Any]:
        """Press a dialog launcher (task/fetch) as `user`; returns the card the dialog shows."""
        action = next(a for a in launcher.get("actions", []) if (a.get("data") or {}).get("msteams"))
        fetched = await self.post(
            self.activity(user, where, type="invoke", name="task/fetch", value={"data": action["data"], "context": {}})
        )
        assert fetched.status == 200 and fetched.body["task"]["type"] == "continue", fetched.body
        return fetched.body["task"]["value"]["card"]["content"]

    async def dialog_submit_activity(
        self,
        user: TeamsUser,
        launcher: dict[str, Any],
        title: str,
        *,
        inputs: dict[str, Any] | None = None,
        where: Conversation,
    ) -> dict[str, Any]:
        """Open a launcher's dialog as `user` and return the task/submit activity of pressing `title` there."""
        dialog = await self.open_dialog(user, launcher, where=where)
        data = dict(find_action(dialog, title).get("data") or {})
        data.update(inputs or {})
        return self.activity(user, where, type="invoke", name="task/submit", value={"data": data, "context": {}})

    def click_activity(
        self,
        user: TeamsUser,
        card: Call | dict[str, Any],
        title: str,
        *,
        via: str = "execute",
        inputs: dict[str, Any] | None = None,
        where: Conversation | None = None,
        message_id: str | None = None,
    ) -> dict[str, Any]:
        """The activity `click` posts (to post it twice, as Teams does when it repeats a slow invoke)."""
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
        return activity

    def refresh_activity(
        self,
        user: TeamsUser,
        card: Call | dict[str, Any],
        *,
        data: dict[str, Any] | None = None,
        where: Conversation | None = None,
        message_id: str | None = None,
    ) -> dict[str, Any]:
        """The `adaptiveCard/action` invoke a Teams client sends to refresh a card with a `refresh` block for
        `user` (trigger "automatic"); `data` replaces the refresh action's data (as a forger would)."""
        if isinstance(card, Call):
            content = card.cards()[0]
            message_id = message_id or self._message_id(card)
            where = where or self._conversation_of(card)
        else:
            content = card
        assert where is not None, "say where the card is (where=…)"
        refresh = content.get("refresh")
        assert refresh, f"the card has no refresh: {json.dumps(content)[:400]}"
        action = refresh["action"]
        value = {
            "action": {
                "type": "Action.Execute",
                "id": "",
                "verb": action.get("verb"),
                "data": (action.get("data") or {}) if data is None else data,
            },
            "trigger": "automatic",
        }
        return self.activity(user, where, type="invoke", name="adaptiveCard/action", value=value, replyToId=message_id)

    async def refresh(self, user: TeamsUser, card: Call | dict[str, Any], **kwargs: Any) -> Result:
        """Send the card's refresh invoke as `user` (see `refresh_activity`)."""
        return await self.post(self.refresh_activity(user, card, **kwargs))

    async def view(self, user: TeamsUser, card: Call) -> dict[str, Any]:
        """The card as `user`'s Teams client shows it. As Teams does: a card with a `refresh` is refreshed
        automatically for the users its `userIds` lists (for everyone in a small conversation when it has no
        list), showing the bot's answer to them; everyone else sees the card as posted."""
        content = card.cards()[0]
        refresh = content.get("refresh")
        if not refresh:
            return content
        ids = refresh.get("userIds")
        if ids is not None and user.bf_id not in ids:
            return content
        r = await self.refresh(user, card)
        assert r.status == 200, (r.status, r.body)
        return r.card()

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


def is_launcher(content: dict[str, Any]) -> bool:
    """A card whose button opens a dialog (task/fetch): how Cadence shows a form in a channel."""
    return any(
        ((a.get("data") or {}).get("msteams") or {}).get("type") == "task/fetch" for a in content.get("actions", [])
    )


def _has_action(content: dict[str, Any], title: str) -> bool:
    try:
        find_action(content, title)
    except AssertionError:
        return False
    return True


def dialog_card(result: Result) -> dict[str, Any]:
    """The card a task/submit answer keeps (or puts) in the dialog."""
    assert isinstance(result.body, dict) and result.body["task"]["type"] == "continue", result.body
    return result.body["task"]["value"]["card"]["content"]


def card_text(content: dict[str, Any]) -> str:
    return text_dump(content)
