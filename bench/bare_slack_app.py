"""The floor for bench/slack_ack.py: a bare slack-bolt AsyncApp on aiohttp that verifies signatures and
only acks every slash command and button click, on the same event loop as `python app.py serve` (uvloop
where installed). Run by the benchmark as a subprocess:

    python bench/bare_slack_app.py PORT SLACK_API_URL SIGNING_SECRET
"""

from __future__ import annotations

import re
import sys

from _loop import event_loop
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def main() -> None:
    port, api_url, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    bolt = AsyncApp(
        client=AsyncWebClient(token="xoxb-bare-app", base_url=api_url),
        signing_secret=secret,
        process_before_response=False,
    )

    async def just_ack(ack) -> None:
        await ack()

    for name in ("/standup", "/demo", "/cr", "/defect", "/cadence"):
        bolt.command(name)(just_ack)
    bolt.action(re.compile(r".+"))(just_ack)

    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/slack/events", handle)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None, loop=event_loop())


if __name__ == "__main__":
    main()
