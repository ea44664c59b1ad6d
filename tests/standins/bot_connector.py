"""A local stand-in for the Bot Framework connector (the `serviceUrl` Teams gives a bot): an aiohttp
server that records what the bot sends, so end-to-end tests can assert replies, updates and proactive posts.

    conn = BotConnectorStandIn(); await conn.start()    # conn.service_url -> the activities' serviceUrl
    conn.fail_next(2, status=429, retry_after=1)          # next two calls answer HTTP 429 + Retry-After
    conn.fail_next(1, status=500)                         # next call answers HTTP 500
    conn.fail_next(1, status=404, paths=("/activities",)) # only calls whose path contains a fragment
    conn.fail_next(1, status=403, kinds=("reply",))       # only replies (also "send", "update", "create" …)
    conn.delay_next(5, seconds=3, kinds=("reply", "update"))  # a slow connector: answered after 3 s
    conn.delete(conversation_id, activity_id)             # a user deleted the message: updates of it get 404
    conn.sent(conversation_id)                            # activities posted (new messages and replies)
    conn.updates(conversation_id)                         # PUT updates
    conn.messages[conversation_id]                        # current messages by id (after updates)
    conn.created                                          # POST /v3/conversations bodies

Modelled: POST /v3/conversations (create), POST /v3/conversations/{id}/activities (send),
POST /v3/conversations/{id}/activities/{activityId} (reply), PUT …/activities/{activityId} (update),
DELETE …/activities/{activityId}, GET /v3/conversations/{id}/members[/{memberId}]. Anything else answers {}.
Every call is also recorded in `calls` (including the ones answered with a fault).

Note: msrest (under botbuilder) retries 5xx and 429-with-Retry-After itself before the caller sees an
error; `fail_next` counts every HTTP request, so set N above its retries to see the failure reach Cadence.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import web


@dataclass
class Call:
    """One request the bot made to the stand-in."""

    method: str  # HTTP method
    path: str
    kind: str  # "send" | "reply" | "update" | "delete" | "create" | "members" | "other"
    conversation_id: str | None
    activity_id: str | None
    body: dict[str, Any]
    headers: dict[str, str]
    status: int = 200

    @property
    def activity(self) -> dict[str, Any]:
        return self.body

    def cards(self) -> list[dict[str, Any]]:
        """Adaptive Card contents attached to this activity."""
        return [
            a.get("content") or {}
            for a in self.body.get("attachments") or []
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
        ]

    def text_dump(self) -> str:
        """Every string in the activity (text, card bodies, facts), joined: handy for `in` assertions."""
        return text_dump(self.body)


def text_dump(value: Any) -> str:
    out: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(value)
    return "\n".join(out)


@dataclass
class Fault:
    status: int  # 0: not a failure, only a delay before the usual answer
    retry_after: int | None
    remaining: int
    paths: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    delay: float = 0.0

    def matches(self, request: web.Request, kind: str) -> bool:
        if self.methods and request.method not in self.methods:
            return False
        if self.kinds and kind not in self.kinds:
            return False
        return not self.paths or any(p in request.path for p in self.paths)


@dataclass
class BotConnectorStandIn:
    host: str = "127.0.0.1"
    port: int = 0
    calls: list[Call] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)
    messages: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    members: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Refuse to create 1:1 conversations (as a tenant that blocks it would), answering this status.
    refuse_create: int | None = None
    # Members of another tenant in a shared channel (Bot Framework or Entra object ids): a 1:1 chat with them cannot be
    # created — "direct messaging functionality doesn't work unless they're in the same tenant" (Microsoft).
    cross_tenant: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Event()

    # ---- lifecycle -------------------------------------------------------------------------------------
    async def start(self) -> BotConnectorStandIn:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    @property
    def service_url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    # ---- faults ---------------------------------------------------------------------------------------
    def fail_next(
        self,
        n: int,
        *,
        status: int = 500,
        retry_after: int | None = None,
        paths: tuple[str, ...] = (),
        methods: tuple[str, ...] = (),
        kinds: tuple[str, ...] = (),
    ) -> None:
        """Answer the next `n` matching calls with `status` (and a Retry-After header if given)."""
        self._faults.append(Fault(status, retry_after, n, tuple(paths), tuple(methods), tuple(kinds)))

    def delay_next(self, n: int, *, seconds: float, paths: tuple[str, ...] = (), kinds: tuple[str, ...] = ()) -> None:
        """Answer the next `n` matching calls normally, but only after `seconds` (a slow connector)."""
        self._faults.append(Fault(0, None, n, tuple(paths), (), tuple(kinds), delay=seconds))

    def delete(self, conversation_id: str, activity_id: str) -> None:
        """The message is deleted in Teams: an update of it answers 404 ActivityNotFoundInConversation."""
        self.messages.get(conversation_id, {}).pop(activity_id, None)

    def clear_faults(self) -> None:
        self._faults.clear()

    # ---- queries ----------------------------------------------------------------------------------------
    def sent(self, conversation_id: str | None = None, *, ok_only: bool = True) -> list[Call]:
        """New messages and replies, in order (optionally in one conversation)."""
        return [
            c
            for c in self.calls
            if c.kind in ("send", "reply")
            and (conversation_id is None or c.conversation_id == conversation_id)
            and (not ok_only or c.status < 300)
        ]

    def updates(self, conversation_id: str | None = None, *, ok_only: bool = True) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.kind == "update"
            and (conversation_id is None or c.conversation_id == conversation_id)
            and (not ok_only or c.status < 300)
        ]

    def failed(self) -> list[Call]:
        return [c for c in self.calls if c.status >= 300]

    def last(self, conversation_id: str | None = None) -> Call:
        sent = self.sent(conversation_id)
        assert sent, f"nothing was sent to {conversation_id or 'any conversation'}; calls: {self.calls!r}"
        return sent[-1]

    def texts(self, conversation_id: str | None = None) -> list[str]:
        return [c.text_dump() for c in self.sent(conversation_id)]

    async def wait_for(self, predicate, timeout: float = 5.0) -> None:
        """Wait until `predicate(self)` is true (the bot answers some things after the HTTP response)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate(self):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out waiting; calls so far: {[(c.kind, c.conversation_id, c.status) for c in self.calls]}"
                )
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.1))
            except TimeoutError:
                pass

    # ---- the server -----------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        try:
            body = await request.json() if request.can_read_body else {}
        except (ValueError, json.JSONDecodeError):
            body = {}
        parts = [unquote(p) for p in request.path.strip("/").split("/")]
        kind, conv, act = "other", None, None
        if len(parts) >= 2 and parts[0] == "v3" and parts[1] == "conversations":
            if len(parts) == 2 and request.method == "POST":
                kind = "create"
            elif len(parts) >= 3:
                conv = parts[2]
                if len(parts) >= 4 and parts[3] == "activities":
                    act = parts[4] if len(parts) >= 5 else None
                    kind = {
                        ("POST", False): "send",
                        ("POST", True): "reply",
                        ("PUT", True): "update",
                        ("DELETE", True): "delete",
                    }.get((request.method, act is not None), "other")
                elif len(parts) >= 4 and parts[3] == "members":
                    kind = "members"
        call = Call(
            request.method, request.path, kind, conv, act, body if isinstance(body, dict) else {}, dict(request.headers)
        )
        self.calls.append(call)
        try:
            for fault in self._faults:
                if fault.remaining > 0 and fault.matches(request, kind):
                    fault.remaining -= 1
                    if fault.status == 0:
                        await asyncio.sleep(fault.delay)
                        break
                    call.status = fault.status
                    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                    return web.json_response(
                        {"error": {"code": "Faulted", "message": f"stand-in {fault.status}"}},
                        status=fault.status,
                        headers=headers,
                    )
            return self._answer(call)
        finally:
            self._changed.set()

    def _answer(self, call: Call) -> web.Response:
        if call.kind == "create":
            if self.refuse_create:
                call.status = self.refuse_create
                return web.json_response(
                    {"error": {"code": "Forbidden", "message": "blocked by tenant"}}, status=self.refuse_create
                )
            if any(m.get("id") in self.cross_tenant for m in call.body.get("members") or []):
                call.status = 403
                return web.json_response({"error": {"code": "Forbidden", "message": "cross-tenant"}}, status=403)
            self.created.append(call.body)
            members = call.body.get("members") or [{}]
            conv_id = f"a:1on1-{members[0].get('id', 'x')}"
            activity_id = None
            if call.body.get("activity"):
                activity_id = f"m{next(self._ids)}"
                self.messages.setdefault(conv_id, {})[activity_id] = call.body["activity"]
            return web.json_response({"id": conv_id, "activityId": activity_id, "serviceUrl": self.service_url})
        if call.kind in ("send", "reply"):
            activity_id = f"m{next(self._ids)}"
            self.messages.setdefault(call.conversation_id or "", {})[activity_id] = call.body
            return web.json_response({"id": activity_id})
        if call.kind == "update":
            box = self.messages.setdefault(call.conversation_id or "", {})
            if call.activity_id not in box:
                call.status = 404
                return web.json_response(
                    {"error": {"code": "ActivityNotFoundInConversation", "message": "activity not found"}}, status=404
                )
            box[call.activity_id] = call.body
            return web.json_response({"id": call.activity_id})
        if call.kind == "delete":
            self.messages.get(call.conversation_id or "", {}).pop(call.activity_id or "", None)
            return web.Response(status=200)
        if call.kind == "members":
            members = self.members.get(call.conversation_id or "", [])
            member_id = call.path.rstrip("/").split("/members", 1)[1].strip("/")
            if not member_id:
                return web.json_response(members)
            found = next((m for m in members if m.get("id") == unquote(member_id)), None)
            if found is None:
                call.status = 404
                return web.json_response(
                    {"error": {"code": "MemberNotFoundInConversation", "message": "not found"}}, status=404
                )
            return web.json_response(found)
        return web.json_response({})
