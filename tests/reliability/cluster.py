"""Running real Cadence replicas (`python app.py serve` subprocesses) against one database and a Slack
Web API stand-in in the test process, plus fast bulk seeding. Used by tests/reliability and bench/.

    url = await fresh_pg_database("cadence_rel")
    api = await ClusterSlackApi().start()
    reps = [Replica(i, url, api.base_url, tmp) for i in range(3)]; [r.start() for r in reps]
    await wait_healthy(reps)
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from tests.standins.slack_api import WORKSPACE_ID, Call, SlackApiStandIn

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_URL = os.environ.get("CADENCE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
SIGNING_SECRET = "reliability-signing-secret"
MARK = re.compile(r"N#(\d{6})")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- databases ----------------------------------------------------------------------------------------


def _asyncpg_url(url: str) -> str:
    return url.replace("postgresql://", "postgres://", 1)


async def fresh_pg_database(prefix: str, *, migrate: bool = True) -> str:
    """CREATE a new, empty PostgreSQL database (dropping a leftover of the same name); migrated unless told."""
    import asyncpg

    name = f"{prefix}_{os.getpid()}_{int(time.time() * 1000) % 10_000_000}"
    conn = await asyncpg.connect(_asyncpg_url(PG_ADMIN_URL), timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    if migrate:
        from storage.migrate import upgrade

        await asyncio.to_thread(upgrade, url)
    return url


async def drop_pg_database(url: str) -> None:
    import asyncpg

    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(_asyncpg_url(PG_ADMIN_URL), timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def pg_available() -> str | None:
    import asyncpg

    try:
        conn = await asyncpg.connect(_asyncpg_url(PG_ADMIN_URL), timeout=3)
        await conn.close()
        return None
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}"


async def sqlite_database(path: Path) -> str:
    from storage.migrate import upgrade

    url = f"sqlite:///{path}"
    await asyncio.to_thread(upgrade, url)
    return url


# -- seeding (core insert, executemany) -------------------------------------------------------------


async def seed_engagements(
    engine: Any, n_channels: int, *, platform: str = "slack", workspace: str = WORKSPACE_ID, now: datetime | None = None
) -> list[tuple[int, str]]:
    """`n_channels` engagements, each with a home channel binding; returns [(engagement_id, channel_id)]."""
    from sqlalchemy import insert, select

    from storage.models import ChannelBinding, Engagement

    now = now or datetime.now(UTC)
    async with engine.begin() as conn:
        base = (await conn.scalar(select(Engagement.id).order_by(Engagement.id.desc()).limit(1))) or 0
        keys = [f"R{base + i + 1}" for i in range(n_channels)]
        await conn.execute(
            insert(Engagement),
            [
                {
                    "key": k,
                    "name": f"Reliability {k}",
                    "home_tz": "UTC",
                    "support_tz": "UTC",
                    "settings": {},
                    "created_at": now,
                    "contingency_pct": 15.0,
                    "iteration_days": 14,
                }
                for k in keys
            ],
        )
        ids = dict((await conn.execute(select(Engagement.key, Engagement.id).where(Engagement.key.in_(keys)))).all())
        out = [(ids[k], f"C{ids[k]:06d}") for k in keys]
        await conn.execute(
            insert(ChannelBinding),
            [
                {
                    "engagement_id": eid,
                    "platform": platform,
                    "workspace_id": workspace,
                    "channel_id": ch,
                    "channel_name": f"rel-{eid}",
                    "purpose": "home",
                    "created_at": now,
                }
                for eid, ch in out
            ],
        )
    return out


async def seed_notices(
    engine: Any,
    targets: list[tuple[int, str]],
    n: int,
    due_at: datetime | list[datetime],
    *,
    start: int = 0,
    chunk: int = 5000,
    now: datetime | None = None,
) -> None:
    """`n` cadence.notice timers spread round-robin over `targets`; the title carries N#000123."""
    from sqlalchemy import insert

    from storage.models import Timer

    now = now or datetime.now(UTC)
    rows = []
    for i in range(start, start + n):
        eid, _ = targets[i % len(targets)]
        due = due_at[i - start] if isinstance(due_at, list) else due_at
        rows.append(
            {
                "kind": "cadence.notice",
                "key": f"notice:{i}",
                "due_at": due,
                "status": "pending",
                "engagement_id": eid,
                "attempts": 0,
                "created_at": now,
                "payload": {"engagement_id": eid, "title": f"N#{i:06d}", "text": "reliability"},
            }
        )
    async with engine.begin() as conn:
        for k in range(0, len(rows), chunk):
            await conn.execute(insert(Timer), rows[k : k + chunk])


# -- the Slack stand-in, with replica-aware faults ----------------------------------------------------


class ClusterSlackApi(SlackApiStandIn):
    """The Slack engineers' stand-in, plus: a per-call delay, freezing the calls of one bot token (they
    hang and count as never received — a replica that is about to die), hanging calls (client timeouts),
    and stopping/restarting on the same port (connection refused)."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.delay = 0.0
        self.frozen_tokens: set[str] = set()
        self.frozen_calls: list[Call] = []
        self.hang_next = 0
        self.hang_seconds = 5.0
        self._release = asyncio.Event()
        self._port: int | None = None

    async def start(self, port: int = 0) -> ClusterSlackApi:
        await super().start(port or self._port or 0)
        self._port = self.port
        return self

    async def down(self) -> None:
        """Stop listening: every call is refused until `up()`."""
        await self.stop()

    async def up(self) -> None:
        await self.start(self._port or 0)

    async def stop(self) -> None:
        self._release.set()
        await super().stop()

    async def _handle(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        method = request.match_info["method"]
        if token in self.frozen_tokens or (self.hang_next > 0 and method == "chat.postMessage"):
            hanging = token not in self.frozen_tokens
            if hanging:
                self.hang_next -= 1
            call = Call(
                method,
                {"token": token},
                dict(request.headers),
                status=599,
                response={"ok": False, "error": "hung"},
                at=time.monotonic(),
            )
            self.frozen_calls.append(call)
            try:
                await asyncio.wait_for(self._release.wait(), timeout=self.hang_seconds if hanging else 3600)
            except TimeoutError:
                pass
            return web.json_response({"ok": False, "error": "internal_error"}, status=500)
        if self.delay:
            await asyncio.sleep(self.delay)
        return await super()._handle(request)

    # -- what arrived ---------------------------------------------------------------------------------
    def received(self) -> list[tuple[int, str, str]]:
        """(notice number, channel, token) of every accepted chat.postMessage carrying a notice mark."""
        out = []
        for c in self.calls:
            if c.method != "chat.postMessage" or not c.response.get("ok"):
                continue
            m = MARK.search(str(c.body.get("text", "")) + str(c.body.get("blocks", "")))
            if m:
                token = c.headers.get("Authorization", "").removeprefix("Bearer ")
                out.append((int(m.group(1)), c.body.get("channel", ""), token))
        return out

    def counts(self) -> Counter:
        return Counter(n for n, _, _ in self.received())

    def per_channel(self) -> dict[str, list[int]]:
        seq: dict[str, list[int]] = defaultdict(list)
        for n, ch, _ in self.received():
            seq[ch].append(n)
        return seq

    async def wait_received(self, n_distinct: int, timeout: float) -> float:
        """Wait until `n_distinct` different notices arrived; returns the seconds it took."""
        started = time.monotonic()
        while len(self.counts()) < n_distinct:
            if time.monotonic() - started > timeout:
                raise AssertionError(f"only {len(self.counts())} of {n_distinct} notices arrived in {timeout} s")
            await asyncio.sleep(0.05)
        return time.monotonic() - started


# -- replicas ---------------------------------------------------------------------------------------


class Replica:
    """One `python app.py serve` process with its own PORT and bot token, logging to a file."""

    def __init__(self, index: int, database_url: str, slack_api_url: str, workdir: Path, **env: str) -> None:
        self.index = index
        self.port = free_port()
        self.token = f"xoxb-replica-{index}-secret"
        self.log_path = workdir / f"replica{index}.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "SLACK_BOT_TOKEN": self.token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack_api_url,
            "CADENCE_SWEEP_SECONDS": "0.5",
            "CADENCE_OUTBOX_LEASE_SECONDS": "3",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None
        self._log = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Replica:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - the replica writes to it until stop() closes it
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "serve"],
            cwd=str(self.workdir),
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        return self

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)

    async def wait_exit(self, timeout: float = 60) -> int:
        assert self.proc is not None
        started = time.monotonic()
        while self.proc.poll() is None:
            if time.monotonic() - started > timeout:
                raise AssertionError(f"replica {self.index} did not exit in {timeout} s")
            await asyncio.sleep(0.05)
        return self.proc.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None


async def wait_healthy(replicas: list[Replica], timeout: float = 60) -> float:
    """Wait until every replica answers GET /healthz; returns the seconds it took."""
    started = time.monotonic()
    async with aiohttp.ClientSession() as http:
        for r in replicas:
            while True:
                if r.proc is not None and r.proc.poll() is not None:
                    raise AssertionError(f"replica {r.index} exited with {r.proc.returncode}:\n{r.log()[-3000:]}")
                try:
                    async with http.get(r.url + "/healthz", timeout=aiohttp.ClientTimeout(total=1)) as resp:
                        if resp.status == 200:
                            break
                except (TimeoutError, aiohttp.ClientError):
                    pass
                if time.monotonic() - started > timeout:
                    raise AssertionError(f"replica {r.index} not healthy after {timeout} s:\n{r.log()[-3000:]}")
                await asyncio.sleep(0.05)
    return time.monotonic() - started


async def outbox_order(engine: Any) -> dict[str, list[int]]:
    """Per Slack channel, the notice numbers in outbox id order (the order they must arrive in)."""
    from sqlalchemy import select

    from storage.models import OutboxMessage

    seq: dict[str, list[int]] = defaultdict(list)
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(OutboxMessage.address, OutboxMessage.payload)
                .where(OutboxMessage.op == "post")
                .order_by(OutboxMessage.id)
            )
        ).all()
    for address, payload in rows:
        m = MARK.search(str((payload or {}).get("title", "")))
        if m:
            seq[address["channel_id"]].append(int(m.group(1)))
    return seq
