"""The floor for bench/teams_ack.py: a bare botbuilder bot (CloudAdapter, no app id: unauthenticated, as
Cadence runs in the benchmark) that answers every message with one reply to the activity's serviceUrl.

    python bench/bare_teams_bot.py PORT [--tuned]

It runs on the same event loop as `python app.py serve` (uvloop where installed). `--tuned` gives the bare
bot the two transport fixes Cadence's Teams front end makes to botbuilder
(handlers/teams/msrest_retry_codes.py and the pooled reply session of handlers/teams/replies.py), so the
benchmark can also show Cadence's own overhead, not only what it saves on botbuilder's.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from _loop import event_loop
from aiohttp import web
from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication


@dataclass(frozen=True)
class Config:
    APP_ID: str = ""
    APP_PASSWORD: str = ""
    APP_TYPE: str = "MultiTenant"
    APP_TENANTID: str = ""


class EchoBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity("ok")


def main() -> None:
    port = int(sys.argv[1])
    if "--tuned" in sys.argv[2:]:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from handlers.teams import msrest_retry_codes
        from handlers.teams.adapter import CadenceCloudAdapter

        msrest_retry_codes.apply()
        adapter = CadenceCloudAdapter(ConfigurationBotFrameworkAuthentication(Config()))
    else:
        adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(Config()))
    bot = EchoBot()

    async def messages(request: web.Request) -> web.Response:
        return await adapter.process(request, bot)

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None, loop=event_loop())


if __name__ == "__main__":
    main()
