"""A local stand-in for the Slack Web API: an aiohttp server that answers the methods Cadence calls
and records every call, so end-to-end tests can assert what the bot sent.

    api = SlackApiStandIn(); await api.start()          # api.base_url -> give it to SLACK_API_URL
    api.users["U1"] = {"tz": "Asia/Kolkata", "name": "asha"}
    api.fail_next(2, status=429, retry_after=1)           # next two calls answer HTTP 429
    api.fail_next(1, error="channel_not_found")           # next call answers ok=false
    api.calls_to("chat.postMessage")                       # recorded Call objects
    api.messages["C1"]                                     # the channel's current messages (after updates)

Faults can be limited to some methods (`methods={"chat.postMessage"}`) or to a time window
(`fail_for(seconds, ...)`). Only the methods below are modelled; anything else answers `{"ok": true}`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from aiohttp import web

WORKSPACE_ID = "T0CADENCE"
BOT_USER_ID = "UBOT0001"
BOT_ID = "B0CADENCE"


@dataclass
class Call:
    """One request the bot made to the stand-in."""

    method: str  # "chat.postMessage"; "upload" for the file upload URL
    body: dict[str, Any]
    headers: dict[str, str]
    status: int = 200  # what the stand-in answered
    response: dict[str, Any] = field(default_factory=dict)
    at: float = 0.0

    def blocks(self) -> list[dict[str, Any]]:
        blocks = self.body.get("blocks") or (self.body.get("view") or {}).get("blocks") or []
        return json.loads(blocks) if isinstance(blocks, str) else blocks

    def view(self) -> dict[str, Any]:
        view = self.body.get("view") or {}
        return json.loads(view) if isinstance(view, str) else view

    def text_dump(self) -> str:
        """Every string in the body (blocks, text, view), joined: handy for `in` assertions."""
        out: list[str] = []

        def walk(v: Any) -> None:
            if isinstance(v, str):
                if v[:1] in "[{":
                    try:
                        walk(json.loads(v))
                        return
                    except ValueError:
                        pass
                out.append(v)
            elif isinstance(v, dict):
                for x in v.values():
                    walk(x)
            elif isinstance(v, list):
                for x in v:
                    walk(x)

        walk(self.body)
        return "\n".join(out)


@dataclass
class Fault:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    remaining: int | None = None  # None = until `until`
    until: float | None = None
    methods: set[str] | None = None

    def applies(self, method: str, now: float) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        if self.until is not None and now >= self.until:
            return False
        return self.remaining is None or self.remaining > 0


class SlackApiStandIn:
    """See the module docstring. One instance per test; `start()` binds a free local port."""

    def __init__(self, *, team_id: str = WORKSPACE_ID, bot_user_id: str = BOT_USER_ID) -> None:
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.calls: list[Call] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, bytes] = {}
        self.faults: list[Fault] = []
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        self._changed = asyncio.Event()

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self, port: int = 0) -> SlackApiStandIn:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/respond/{rid}", self._respond)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    # -- faults ------------------------------------------------------------------------------
    def fail_next(
        self,
        n: int = 1,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: int | None = None,
        methods: set[str] | str | None = None,
    ) -> None:
        """The next `n` calls (to `methods`, if given) answer HTTP `status` (default 429 with
        Retry-After when retry_after is given, else 500), or `ok: false, error` when `error` is given."""
        self.faults.append(self._fault(status, error, retry_after, methods, remaining=n))

    def fail_for(
        self,
        seconds: float,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: int | None = None,
        methods: set[str] | str | None = None,
    ) -> None:
        """Every call (to `methods`) during the next `seconds` fails as in `fail_next`."""
        self.faults.append(self._fault(status, error, retry_after, methods, until=time.monotonic() + seconds))

    def heal(self) -> None:
        self.faults.clear()

    @staticmethod
    def _fault(status, error, retry_after, methods, **kw) -> Fault:
        if isinstance(methods, str):
            methods = {methods}
        if status is None:
            status = 200 if error else (429 if retry_after is not None else 500)
        return Fault(status=status, error=error, retry_after=retry_after, methods=methods, **kw)

    # -- queries -----------------------------------------------------------------------------
    def calls_to(self, method: str, *, ok_only: bool = False) -> list[Call]:
        return [c for c in self.calls if c.method == method and (not ok_only or c.response.get("ok"))]

    def last(self, method: str) -> Call:
        calls = self.calls_to(method)
        assert calls, f"no call to {method}; calls: {[c.method for c in self.calls]}"
        return calls[-1]

    def count(self, method: str, *, ok_only: bool = True) -> int:
        return len(self.calls_to(method, ok_only=ok_only))

    def clear(self) -> None:
        self.calls.clear()

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until at least `count` successful calls to `method` were received."""
        deadline = time.monotonic() + timeout
        while self.count(method) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} call(s) to {method}; got {[(c.method, c.status) for c in self.calls]}"
                )
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=0.05)
            except TimeoutError:
                pass
        return self.calls_to(method, ok_only=True)

    # -- the API -----------------------------------------------------------------------------
    async def _body(self, request: web.Request) -> dict[str, Any]:
        body: dict[str, Any] = dict(request.query)
        raw = await request.read()
        if raw:
            ctype = request.headers.get("Content-Type", "")
            if "json" in ctype:
                body.update(json.loads(raw))
            else:
                body.update(dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True)))
        return body

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await self._body(request)
        call = Call(method, body, dict(request.headers), at=time.monotonic())
        self.calls.append(call)
        try:
            fault = next((f for f in self.faults if f.applies(method, time.monotonic())), None)
            if fault is not None:
                if fault.remaining is not None:
                    fault.remaining -= 1
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                call.status = fault.status
                call.response = {
                    "ok": False,
                    "error": fault.error or ("ratelimited" if fault.status == 429 else "internal_error"),
                }
                return web.json_response(call.response, status=fault.status, headers=headers)
            auth = request.headers.get("Authorization", "")
            if method not in ("oauth.v2.access",) and not auth.startswith("Bearer xoxb-"):
                call.response = {"ok": False, "error": "not_authed"}
                return web.json_response(call.response)
            answer = getattr(self, "_m_" + method.replace(".", "_"), None)
            call.response = answer(body) if answer else {"ok": True}
            return web.json_response(call.response)
        finally:
            self._changed.set()

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        self.uploads[file_id] = await request.read()
        self.calls.append(
            Call(
                "upload",
                {"file_id": file_id, "size": len(self.uploads[file_id])},
                dict(request.headers),
                response={"ok": True},
                at=time.monotonic(),
            )
        )
        self._changed.set()
        return web.Response(text="OK - " + str(len(self.uploads[file_id])))

    def response_url(self, rid: str) -> str:
        """A response_url (as Slack puts in command and click payloads) that lands here."""
        return f"http://127.0.0.1:{self.port}/respond/{rid}"

    async def _respond(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        call = Call(
            "respond",
            {**body, "rid": request.match_info["rid"]},
            dict(request.headers),
            response={"ok": True},
            at=time.monotonic(),
        )
        self.calls.append(call)
        self._changed.set()
        fault = next((f for f in self.faults if f.applies("respond", time.monotonic())), None)
        if fault is not None:
            if fault.remaining is not None:
                fault.remaining -= 1
            call.status, call.response = fault.status, {"ok": False}
            return web.Response(status=fault.status, text="failed")
        if body.get("replace_original") in (True, "true"):
            for msgs in self.messages.values():
                for msg in msgs:
                    if msg.get("response_url_id") == request.match_info["rid"]:
                        msg.update(text=body.get("text", ""), blocks=_loads(body.get("blocks")), edited=True)
        return web.Response(text="ok")

    def _next_ts(self) -> str:
        return f"{1_800_000_000 + next(self._ts)}.000100"

    def _m_auth_test(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://cadence-test.slack.com/",
            "team": "Cadence Test",
            "user": "cadence",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": BOT_ID,
        }

    def _m_chat_postMessage(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = body.get("channel", "")
        if channel.startswith("U"):  # posting to a user id opens the DM
            channel = "D" + channel[1:]
        ts = self._next_ts()
        msg = {"ts": ts, "text": body.get("text", ""), "blocks": _loads(body.get("blocks")), "user": self.bot_user_id}
        self.messages.setdefault(channel, []).append(msg)
        return {"ok": True, "channel": channel, "ts": ts, "message": msg}

    def _m_chat_update(self, body: dict[str, Any]) -> dict[str, Any]:
        channel, ts = body.get("channel", ""), body.get("ts", "")
        for msg in self.messages.get(channel, []):
            if msg["ts"] == ts:
                msg.update(text=body.get("text", ""), blocks=_loads(body.get("blocks")), edited=True)
                return {"ok": True, "channel": channel, "ts": ts, "text": msg["text"]}
        return {"ok": False, "error": "message_not_found"}

    def _m_chat_postEphemeral(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def _m_conversations_open(self, body: dict[str, Any]) -> dict[str, Any]:
        users = body.get("users", "")
        first = users.split(",")[0] if isinstance(users, str) else users[0]
        return {"ok": True, "channel": {"id": "D" + first.lstrip("UW")}}

    def _view(self, body: dict[str, Any], view_id: str | None = None) -> dict[str, Any]:
        view = _loads(body.get("view")) or {}
        view_id = view_id or body.get("view_id") or f"V{next(self._ids):06d}"
        stored = {**view, "id": view_id, "team_id": self.team_id, "hash": f"h{next(self._ids)}"}
        self.views[view_id] = stored
        return {"ok": True, "view": stored}

    def _m_views_open(self, body: dict[str, Any]) -> dict[str, Any]:
        if not body.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        return self._view(body)

    def _m_views_update(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._view(body)

    def _m_views_push(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._view(body)

    def _m_views_publish(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._view(body, view_id=f"VHOME{body.get('user_id', '')}")

    def _m_users_info(self, body: dict[str, Any]) -> dict[str, Any]:
        uid = body.get("user", "")
        info = self.users.get(uid)
        if info is None:
            info = {"name": uid.lower()}
        name = info.get("name", uid.lower())
        user: dict[str, Any] = {
            "id": uid,
            "team_id": info.get("team_id", self.team_id),
            "name": name,
            "real_name": info.get("real_name", name.title()),
            "deleted": False,
            "is_bot": False,
            "profile": {
                "display_name": info.get("display_name", name),
                "real_name": info.get("real_name", name.title()),
            },
        }
        # A user registered with tz=None has their zone withheld, as Slack does for some users (another
        # organisation's people in a shared channel): no tz, tz_label or tz_offset at all.
        tz = info.get("tz", "UTC")
        if tz is not None:
            user.update(tz=tz, tz_label=tz, tz_offset=_offset_seconds(tz))
        return {"ok": True, "user": user}

    def _m_files_getUploadURLExternal(self, body: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ids):06d}"
        return {"ok": True, "file_id": file_id, "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}"}

    def _m_files_completeUploadExternal(self, body: dict[str, Any]) -> dict[str, Any]:
        files = _loads(body.get("files")) or []
        return {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title")} for f in files]}

    def _m_oauth_v2_access(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "access_token": "xoxb-installed-token",
            "token_type": "bot",
            "scope": "commands,chat:write",
            "bot_user_id": self.bot_user_id,
            "app_id": "A0CADENCE",
            "team": {"id": self.team_id, "name": "Cadence Test"},
            "enterprise": None,
            "authed_user": {"id": "U0INSTALLER"},
        }


def _offset_seconds(tz: str) -> int:
    """The zone's current UTC offset in seconds, as users.info's tz_offset gives it."""
    offset = datetime.now(ZoneInfo(tz)).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _loads(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
