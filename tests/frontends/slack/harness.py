"""Drive the real Cadence web app exactly as Slack would: correctly signed slash commands, clicks,
modal submissions and Events API callbacks over HTTP, with the bot's Web API calls landing in the
local stand-in (tests/standins/slack_api.py). Reads like a transcript:

    await slack.command("alice", "/cadence setup ACME Acme portal")
    assert "Engagement set up" in slack.posts()[-1]["text"]
    await slack.click("victor", slack.posts()[-1], "Approve")
    assert "Only" in slack.last_private("victor")

See tests/frontends/README.md for the whole API."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from bot.kernel.settings import Settings
from tests.standins.slack_api import WORKSPACE_ID, Call, SlackApiStandIn

SIGNING_SECRET = "e2e-signing-secret"
BOT_TOKEN = "xoxb-e2e-token"
HOME = "C0HOME"


@dataclass
class HttpResult:
    status: int
    text: str

    def json(self) -> dict[str, Any]:
        return json.loads(self.text) if self.text else {}


class SlackHarness:
    def __init__(
        self, core: Any, api: SlackApiStandIn, *, team: str = WORKSPACE_ID, signing_secret: str = SIGNING_SECRET
    ) -> None:
        self.core = core
        self.api = api
        self.team = team
        self.signing_secret = signing_secret
        self.verifier = SignatureVerifier(signing_secret)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._ids = itertools.count(1)
        self.url = ""
        self.web_app: web.Application | None = None
        self.frontend: Any = None

    # -- lifecycle -------------------------------------------------------------------------------
    def settings(self, **overrides: Any) -> Settings:
        values = {
            "slack_bot_token": BOT_TOKEN,
            "slack_signing_secret": self.signing_secret,
            "slack_api_url": self.api.base_url,
            "database_url": "sqlite:///unused.db",
            # Teams activities may be posted to the same app (tests/frontends/teams/test_change_requests.py):
            # local testing mode.
            "teams_insecure_local": True,
        }
        values.update(overrides)
        return Settings(**values)

    async def start(self, **settings: Any) -> SlackHarness:
        from app import FRONTENDS, build_web_app
        from handlers.slack.app import SlackFrontEnd

        self.web_app = build_web_app(self.core, self.settings(**settings))
        self.frontend = next(f for f in self.web_app[FRONTENDS] if isinstance(f, SlackFrontEnd))
        self._runner = web.AppRunner(self.web_app, access_log=None)
        await self._runner.setup()  # runs on_startup: the front end starts
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._session = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- people ----------------------------------------------------------------------------------
    def user(self, name: str, tz: str | None = "UTC") -> str:
        """The Slack user id of `name` (created in the stand-in with that profile zone; None: their profile
        withholds it)."""
        uid = self.uid(name)
        self.api.users[uid] = {"name": name.lower(), "real_name": name.capitalize(), "tz": tz}
        return uid

    @staticmethod
    def uid(name: str) -> str:
        return "U" + name.upper()

    def mention(self, name: str) -> str:
        """How Slack escapes a mention in a command's text (should_escape: true)."""
        return f"<@{self.uid(name)}|{name.lower()}>"

    def _user(self, name: str) -> dict[str, Any]:
        uid = self.uid(name)
        if uid not in self.api.users:
            self.user(name)
        return {"id": uid, "username": name.lower(), "name": name.lower(), "team_id": self.team}

    # -- raw HTTP --------------------------------------------------------------------------------
    def signed_headers(self, body: str, *, timestamp: int | None = None, content_type: str) -> dict[str, str]:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        return {
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": self.verifier.generate_signature(timestamp=ts, body=body),
            "Content-Type": content_type,
        }

    async def post(
        self,
        body: str,
        *,
        content_type: str,
        headers: dict[str, str] | None = None,
        sign: bool = True,
        timestamp: int | None = None,
        settle: bool = True,
    ) -> HttpResult:
        hdrs = (
            self.signed_headers(body, timestamp=timestamp, content_type=content_type)
            if sign
            else {"Content-Type": content_type}
        )
        hdrs.update(headers or {})
        assert self._session is not None, "harness not started"
        started = time.monotonic()
        async with self._session.post(self.url + "/slack/events", data=body.encode(), headers=hdrs) as resp:
            result = HttpResult(resp.status, await resp.text())
        self.last_ack_seconds = time.monotonic() - started
        if settle:
            await self.settle()
        return result

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until every listener finished and the outbox has nothing due (at the core's clock)."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < 2:
            if time.monotonic() > deadline:
                raise AssertionError("Slack front end did not settle")
            await asyncio.sleep(0.01)
            async with asyncio.timeout(timeout):
                await self.frontend.wait_idle()
            fired, sent = await self.core.drain()
            quiet = quiet + 1 if not (fired or sent or self.frontend.busy) else 0

    # -- what Slack sends ------------------------------------------------------------------------
    async def command(
        self, who: str, line: str, *, channel: str = HOME, channel_name: str = "acme-project", **kw: Any
    ) -> HttpResult:
        """`/cr new Title` typed by `who` in `channel`."""
        command, _, text = line.partition(" ")
        n = next(self._ids)
        user = self._user(who)
        form = {
            "token": "legacy",
            "team_id": self.team,
            "team_domain": "cadence-test",
            "channel_id": channel,
            "channel_name": "directmessage" if channel.startswith("D") else channel_name,
            "user_id": user["id"],
            "user_name": user["username"],
            "command": command,
            "text": text,
            "api_app_id": "A0CADENCE",
            "is_enterprise_install": "false",
            "response_url": self.api.response_url(f"{user['id']}.cmd{n}"),
            "trigger_id": f"trig.cmd.{n}",
        }
        return await self.post(urlencode(form), content_type="application/x-www-form-urlencoded", **kw)

    async def interactive(self, payload: dict[str, Any], **kw: Any) -> HttpResult:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, content_type="application/x-www-form-urlencoded", **kw)

    def button(self, message: dict[str, Any], label: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """(actions block, element) of the button called `label` in a message or view."""
        for block in message.get("blocks") or []:
            if block.get("type") == "actions":
                for el in block["elements"]:
                    if el.get("text", {}).get("text") == label:
                        return block, el
        raise AssertionError(f"no button {label!r} in {json.dumps(message.get('blocks'))[:2000]}")

    async def click(
        self,
        who: str,
        message: dict[str, Any],
        label: str,
        *,
        channel: str = HOME,
        ephemeral: bool = False,
        home: bool = False,
        **kw: Any,
    ) -> HttpResult:
        """`who` clicks the button `label` of `message` (a stand-in message dict, or a published view)."""
        block, el = self.button(message, label)
        n = next(self._ids)
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(who),
            "api_app_id": "A0CADENCE",
            "token": "legacy",
            "team": {"id": self.team, "domain": "cadence-test"},
            "trigger_id": f"trig.click.{n}",
            "actions": [
                {
                    "type": "button",
                    "action_id": el["action_id"],
                    "block_id": block.get("block_id", ""),
                    "text": el["text"],
                    "value": el.get("value", ""),
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        if home:
            payload["container"] = {"type": "view", "view_id": message.get("id", "VHOME")}
            payload["view"] = {"id": message.get("id", "VHOME"), "type": "home", "blocks": message.get("blocks")}
        else:
            payload["container"] = {
                "type": "message",
                "message_ts": message.get("ts", ""),
                "channel_id": channel,
                "is_ephemeral": ephemeral,
            }
            payload["channel"] = {"id": channel, "name": "acme-project"}
            payload["message"] = {
                "type": "message",
                "ts": message.get("ts", ""),
                "blocks": message.get("blocks"),
                "text": message.get("text", ""),
            }
            payload["response_url"] = self.api.response_url(f"{self.uid(who)}.click{n}")
        return await self.interactive(payload, **kw)

    def opened_view(self) -> dict[str, Any]:
        """The modal of the last views.open call."""
        return self.api.last("views.open").view()

    async def submit(self, who: str, view: dict[str, Any], values: dict[str, Any], **kw: Any) -> HttpResult:
        """Submit modal `view` with {input id: value}; values are typed per the input's element."""
        state: dict[str, dict[str, Any]] = {}
        for block in view.get("blocks", []):
            if block.get("type") != "input":
                continue
            el = block["element"]
            raw = values.get(block["block_id"])
            v: dict[str, Any] = {"type": el["type"]}
            if el["type"] == "static_select":
                opt = next((o for o in el["options"] if o["value"] == raw), None)
                assert raw is None or opt is not None, (
                    f"{raw!r} is not an option of {block['block_id']}: {[o['value'] for o in el['options']]}"
                )
                v["selected_option"] = opt
            elif el["type"] == "datepicker":
                v["selected_date"] = raw
            elif el["type"] == "datetimepicker":
                v["selected_date_time"] = int(raw) if raw is not None else None
            else:
                v["value"] = None if raw is None else str(raw)
            state[block["block_id"]] = {el["action_id"]: v}
        stored = self.api.views.get(view.get("id", ""), view)
        payload = {
            "type": "view_submission",
            "team": {"id": self.team, "domain": "cadence-test"},
            "user": self._user(who),
            "api_app_id": "A0CADENCE",
            "token": "legacy",
            "trigger_id": f"trig.view.{next(self._ids)}",
            "view": {**stored, "state": {"values": state}},
        }
        return await self.interactive(payload, **kw)

    async def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None, **kw: Any
    ) -> HttpResult:
        """An Events API callback; `retry=n` adds X-Slack-Retry-Num as Slack does on redelivery."""
        body = {
            "token": "legacy",
            "team_id": self.team,
            "api_app_id": "A0CADENCE",
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):08d}",
            "event_time": int(time.time()),
            "event": {"event_ts": f"{time.time():.6f}", **event},
        }
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
        return await self.post(json.dumps(body), content_type="application/json", headers=headers, **kw)

    async def dm(self, who: str, text: str, **kw: Any) -> HttpResult:
        uid = self._user(who)["id"]
        return await self.event(
            {
                "type": "message",
                "channel_type": "im",
                "channel": "D" + uid[1:],
                "user": uid,
                "text": text,
                "ts": f"{time.time():.6f}",
            },
            **kw,
        )

    async def open_home(self, who: str, **kw: Any) -> HttpResult:
        uid = self._user(who)["id"]
        return await self.event({"type": "app_home_opened", "user": uid, "channel": "D" + uid[1:], "tab": "home"}, **kw)

    # -- what the bot sent -----------------------------------------------------------------------
    def posts(self, channel: str = HOME) -> list[dict[str, Any]]:
        """Messages in `channel` as they stand now (updates applied); copies, so a test can keep an old
        rendering (e.g. to click a button again after the message changed)."""
        return copy.deepcopy(self.api.messages.get(channel, []))

    def private_calls(self, who: str) -> list[Call]:
        uid = self.uid(who)
        out = []
        for c in self.api.calls:
            if not c.response.get("ok", c.status == 200):
                continue
            if (
                (c.method == "respond" and c.body.get("response_type") == "ephemeral" and self._for(c, uid))
                or (c.method == "chat.postEphemeral" and c.body.get("user") == uid)
                or (c.method == "chat.postMessage" and c.body.get("channel") in (uid, "D" + uid[1:]))
            ):
                out.append(c)
        return out

    @staticmethod
    def _for(call: Call, uid: str) -> bool:
        return call.body.get("rid", "").startswith(uid + ".")  # response_url ids carry the user who acted

    def private(self, who: str) -> list[str]:
        """Texts only `who` saw (ephemeral answers and DMs), oldest first."""
        return [c.text_dump() for c in self.private_calls(who)]

    def last_private(self, who: str) -> str:
        texts = self.private(who)
        assert texts, f"nothing was sent privately to {who}; calls: {[c.method for c in self.api.calls]}"
        return texts[-1]
