"""The Slack front end: one slack-bolt AsyncApp, mounted at `POST /slack/events` on Cadence's aiohttp
server (commands, interactivity and the Events API on one Request URL, signatures verified by bolt),
or connected over Socket Mode when an app-level token is configured. Listeners live in commands.py,
actions.py, views.py and events.py; they parse, call the core and render — nothing else."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.kernel import directory
from bot.kernel.settings import Settings
from handlers.slack import actions, commands, events, transport, views
from handlers.slack.directory import SlackDirectory
from handlers.slack.home import Home
from handlers.slack.intake import FAILURE, Intake, Request
from handlers.slack.library_logs import library_logger
from handlers.slack.members import Members
from handlers.slack.messenger import SlackMessenger
from handlers.slack.oauth import INSTALL_PATH, REDIRECT_PATH, OAuthStores
from handlers.slack.replays import ReplayGuard
from handlers.slack.respond import SessionHolder

log = logging.getLogger("cadence.slack")

EVENTS_PATH = "/slack/events"
# What bolt's middleware failed with in this request's task (set by on_bolt_error, read by handle_http).
BOLT_FAILURE: contextvars.ContextVar[Exception | None] = contextvars.ContextVar("slack_bolt_failure", default=None)
# Failures that are an outage on our side (the Web API unreachable), not a malformed request.
OUTAGES = (SlackClientError, aiohttp.ClientError, TimeoutError, ConnectionError)


class SlackFrontEnd:
    def __init__(self, core: Any, settings: Settings) -> None:
        self.core = core
        self.settings = settings
        self.members = Members()
        self.home = Home(self)
        self.bot_user_id: str | None = None
        self._dm_channels: dict[tuple[str, str], str] = {}
        self._inflight = 0
        self._idle: asyncio.Event | None = None
        self._tasks: list[asyncio.Task] = []
        self._tasks_in_flight: set[asyncio.Task] = set()  # events being taken (a reference keeps them alive)
        self._socket: Any = None
        self.oauth = None
        oauth_settings = None
        if settings.slack_oauth_enabled:
            self.oauth = OAuthStores(settings)
            oauth_settings = self.oauth.settings(settings)
        token = None if self.oauth else settings.slack_bot_token
        self.client = AsyncWebClient(
            token=token, base_url=settings.slack_api_url, timeout=10, logger=library_logger("cadence.slack.web")
        )
        self.bolt = AsyncApp(
            client=self.client,
            signing_secret=settings.slack_signing_secret or "",
            request_verification_enabled=bool(settings.slack_signing_secret),
            oauth_settings=oauth_settings,
            process_before_response=False,  # on a server: ack first, the listener runs on
            raise_error_for_unhandled_request=False,
            logger=library_logger("cadence.slack.bolt"),
        )
        self.responses = SessionHolder()  # one pooled HTTP session: response_url answers and Web API calls
        self.intake = Intake(self)
        self.replays = ReplayGuard(core.engine, core.clock, turn=self.intake.turn)
        commands.register(self)
        actions.register(self)
        views.register(self)
        events.register(self)
        self.bolt.error(self.on_bolt_error)
        self.messenger = SlackMessenger(
            base_url=settings.slack_api_url,
            token_for=self.bot_token,
            core=core,
            http=self.responses,
        )

    # -- wiring ------------------------------------------------------------------------------------
    def mount(self, web_app: web.Application) -> None:
        if self.settings.slack_signing_secret:
            web_app.router.add_post(EVENTS_PATH, self.handle_http)
        if self.oauth is not None:
            web_app.router.add_get(INSTALL_PATH, self.handle_oauth)
            web_app.router.add_get(REDIRECT_PATH, self.handle_oauth)

    async def handle_http(self, request: web.Request) -> web.Response:
        """Signature first (on the raw bytes), then the body's shape, then replays (transport.py,
        replays.py); what passes goes to the intake (DMs and @mentions) or to bolt. A refusal is a 4xx and
        one log line."""
        with self.intake.acking():  # acks first: inbox workers hold back while requests wait for theirs
            try:
                body = await request.read()
                # Wall time, as Slack's: the timestamp is Slack's clock, not the core's (a test's clock is virtual).
                signature = transport.verify(
                    self.settings.slack_signing_secret or "", request.headers, body, time.time()
                )
                payload = transport.parse(body, request.content_type)
            except transport.Refused as refused:
                log.warning("slack: refused a request from %s: %s", request.remote, refused.reason)
                return web.json_response({"error": refused.reason}, status=refused.status)
            try:
                first_time = await self.replays.first_time(signature)
            except Exception as exc:  # noqa: BLE001 - the database is unreachable: Slack retries events
                log.warning("slack: could not record a request (%s: %s); answered 503", type(exc).__name__, exc)
                return web.json_response({"error": "temporarily unavailable"}, status=503)
            if not first_time:
                log.warning("slack: a replayed request (same signature within 5 minutes) was acknowledged, not applied")
                return web.Response(status=200)
            kind = events.inbox_kind(payload, self.bot_user_id)
            if kind is not None:
                return await self._take_event(kind, payload)
            BOLT_FAILURE.set(None)
            try:
                bolt_request = AsyncBoltRequest(
                    body=body.decode("utf-8"), query=request.query_string, headers=dict(request.headers)
                )
                bolt_resp = await self.bolt.async_dispatch(bolt_request)
            except Exception as exc:  # noqa: BLE001 - a signed body bolt cannot take: the sender's problem
                log.warning("slack: could not take a %s request (%s: %s)", payload.get("type"), type(exc).__name__, exc)
                return web.json_response({"error": "malformed request"}, status=400)
            if bolt_resp.status >= 500:  # bolt's middleware failed (logged by on_bolt_error)
                if isinstance(BOLT_FAILURE.get(), OUTAGES):  # ours (Slack's Web API unreachable): Slack retries
                    return web.json_response({"error": "temporarily unavailable"}, status=503)
                return web.json_response({"error": "malformed request"}, status=400)
            return await to_aiohttp_response(bolt_resp)

    async def _take_event(self, kind: str, payload: dict[str, Any]) -> web.Response:
        """An event Cadence acts on: answered 200 once the intake has made it durable (run and committed,
        or stored in the inbox), 503 if that failed (Slack then delivers it again)."""
        acked: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def ack(*_args: Any, **_kwargs: Any) -> None:
            if not acked.done():
                acked.set_result(None)

        team = events.installing_team(payload)
        request = Request(
            kind=kind, workspace_id=team, payload=payload, client=await self.client_for(team), respond=None
        )
        task = asyncio.create_task(self._receive_event(ack, request), name=f"slack-{kind}")
        self._tasks_in_flight.add(task)
        task.add_done_callback(self._tasks_in_flight.discard)
        await asyncio.wait({acked, task}, return_when=asyncio.FIRST_COMPLETED)
        if acked.done():
            return web.Response(status=200)
        return web.json_response({"error": "not stored; please retry"}, status=503)

    async def _receive_event(self, ack: Callable[..., Awaitable[None]], request: Request) -> None:
        self.work_started()
        try:
            await self.intake.receive(ack, request)
        except Exception as exc:  # noqa: BLE001 - not acked: Slack delivers the event again
            log.warning("slack: could not take a %s event (%s: %s)", request.kind, type(exc).__name__, exc)
        finally:
            self.work_finished()

    async def on_bolt_error(self, error: Exception, body: dict[str, Any]) -> None:
        """bolt's own middleware failed on a (verified) payload: one line, not its traceback. Listener errors
        never get here: `tracked` handles them."""
        BOLT_FAILURE.set(error)
        kind = (body.get("type") or body.get("command")) if isinstance(body, dict) else None
        log.warning("slack: bolt could not take a %s request (%s: %s)", kind, type(error).__name__, error)

    async def client_for(self, workspace_id: str) -> AsyncWebClient:
        """A Web API client for `workspace_id` (the shared one, or one with its own token under OAuth)."""
        if self.oauth is None:
            return self.client
        return AsyncWebClient(
            token=await self.bot_token(workspace_id),
            base_url=self.settings.slack_api_url,
            timeout=10,
            logger=library_logger("cadence.slack.web"),
        )

    async def handle_oauth(self, request: web.Request) -> web.Response:
        flow = self.bolt.oauth_flow
        if flow is None:  # the OAuth routes are mounted only with OAuth on
            raise web.HTTPNotFound()
        bolt_req = await to_bolt_request(request)
        if request.path == flow.install_path:
            bolt_resp = await flow.handle_installation(bolt_req)
        else:
            bolt_resp = await flow.handle_callback(bolt_req)
        return await to_aiohttp_response(bolt_resp)

    async def bot_token(self, workspace_id: str) -> str | None:
        if self.oauth is not None:
            return await self.oauth.bot_token(workspace_id)
        return self.settings.slack_bot_token

    # -- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        """Never fails because Slack is unreachable: checks run in the background and retry."""
        if self.oauth is None:
            self._tasks.append(asyncio.create_task(self._check_token(), name="slack-auth-test"))
        if self.settings.slack_socket_mode:
            self._tasks.append(asyncio.create_task(self._socket_mode(), name="slack-socket-mode"))
        await self.intake.start()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        self._tasks.clear()
        if self._socket is not None:
            try:
                await self._socket.close_async()
            except Exception:
                log.debug("slack socket close failed", exc_info=True)
            self._socket = None
        try:
            async with asyncio.timeout(5):
                await self.wait_idle()
        except TimeoutError:
            log.warning("slack: stopping with %s listener(s) still running", self._inflight)
        await self.intake.stop()
        await self.replays.close()
        await self.responses.close()
        if self.oauth is not None:
            await self.oauth.close()
        await self.messenger.close()

    async def _check_token(self) -> None:
        delay = 1.0
        while True:
            try:
                resp = await self.client.auth_test()
                self.bot_user_id = resp.get("user_id")
                log.info("slack: connected to workspace %s as %s", resp.get("team"), resp.get("user"))
                return
            except Exception as exc:  # noqa: BLE001
                log.warning(
                    "slack: Web API not reachable at %s (%s); retrying in %.0f s",
                    self.settings.slack_api_url,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 300)

    async def _socket_mode(self) -> None:
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        delay = 1.0
        while True:
            try:
                self._socket = AsyncSocketModeHandler(self.bolt, self.settings.slack_app_token, web_client=self.client)
                await self._socket.connect_async()
                log.info("slack: Socket Mode connected")
                return
            except Exception as exc:  # noqa: BLE001
                log.warning("slack: Socket Mode connection failed (%s); retrying in %.0f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 300)

    # -- helpers for listeners ---------------------------------------------------------------------
    def tracked(self, fn: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        """Count listeners still running after their ack (tests wait for them; stop() drains them)."""

        @functools.wraps(fn)
        async def wrapper(**kwargs: Any) -> None:
            self.work_started()
            try:
                await fn(**kwargs)
            except Exception:
                log.exception("slack listener %s failed", fn.__name__)
                await self._failed(kwargs)
            finally:
                self.work_finished()

        return wrapper

    def work_started(self) -> None:
        """One more listener or inbox request in flight (tests wait for none; stop() drains them)."""
        self._inflight += 1
        if self._idle is None:
            self._idle = asyncio.Event()
        self._idle.clear()

    def work_finished(self) -> None:
        self._inflight -= 1
        if self._inflight == 0 and self._idle is not None:
            self._idle.set()

    @property
    def busy(self) -> bool:
        return self._inflight > 0

    async def wait_idle(self) -> None:
        """Until no listener is running (callers bound the wait with `asyncio.timeout`)."""
        if self._inflight and self._idle is not None:
            await self._idle.wait()

    def remember_dm(self, workspace_id: str, user_id: str, channel_id: str) -> None:
        self._dm_channels[(workspace_id, user_id)] = channel_id

    async def dm_channel(self, client: AsyncWebClient, workspace_id: str, user_id: str) -> str:
        key = (workspace_id, user_id)
        if key not in self._dm_channels:
            try:
                resp = await client.conversations_open(users=user_id)
                self._dm_channels[key] = resp["channel"]["id"]
            except Exception as exc:  # noqa: BLE001
                log.warning("slack conversations.open %s failed: %s", user_id, exc)
                return ""
        return self._dm_channels[key]

    async def known(self, workspace_id: str, user_id: str) -> bool:
        """Whether this Slack user is already a Cadence person (profile events of others are ignored)."""
        return await directory.is_known(self.core, "slack", workspace_id, user_id)

    async def _failed(self, kwargs: dict[str, Any]) -> None:
        """A listener raised: acknowledge if it had not, and tell the person — never a stack trace."""
        payload = kwargs.get("body") or kwargs.get("command") or {}
        ack = kwargs.get("ack")
        try:
            if ack is not None and getattr(ack, "response", None) is None:
                if payload.get("type") == "view_submission":
                    inputs = [
                        b.get("block_id")
                        for b in (payload.get("view") or {}).get("blocks", [])
                        if b.get("type") == "input"
                    ]
                    if inputs:
                        await ack(response_action="errors", errors={inputs[0]: FAILURE})
                        return
                await ack()
            respond = self.responses.respond(payload.get("response_url"))
            if respond is not None:
                await respond(response_type="ephemeral", replace_original=False, text=FAILURE)
        except Exception:
            log.debug("slack: could not report a failure", exc_info=True)


def setup(core: Any, settings: Settings, web_app: web.Application) -> SlackFrontEnd | None:
    """Mount Slack on `web_app` and register its messenger; None (after one log line) when Slack is off."""
    if not settings.slack_enabled:
        missing = "SLACK_SIGNING_SECRET" if not settings.slack_signing_secret else "SLACK_BOT_TOKEN"
        log.info(
            "slack: off (%s not set; set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, or SLACK_APP_TOKEN for Socket Mode)",
            missing,
        )
        return None
    fe = SlackFrontEnd(core, settings)
    fe.mount(web_app)
    core.messengers["slack"] = fe.messenger
    core.directories["slack"] = SlackDirectory(fe)
    mode = "Socket Mode" if settings.slack_socket_mode else f"HTTP at {EVENTS_PATH}"
    auth = "OAuth multi-workspace" if fe.oauth else "single workspace"
    log.info("slack: on (%s, %s, Web API %s)", mode, auth, settings.slack_api_url)
    return fe
