"""Every outgoing message goes through the outbox: enqueued in the same transaction as the change it
announces, then delivered by a worker that keeps order per conversation, retries with exponential
backoff, honours Retry-After, and records permanent failures instead of retrying forever.

Delivery is at-least-once only where a platform's answer was lost (a process killed between the
platform accepting a message and us recording it); otherwise once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.kernel import dm_fallback
from bot.kernel.delivery import MessageGone, Outgoing, PermanentFailure, RetryLater, Sent
from bot.kernel.engagements import bindings
from bot.kernel.messages import Card
from bot.kernel.rows import must_get
from storage.models import ChannelBinding, Engagement, Identity, MessageRef, OutboxMessage, Person

if TYPE_CHECKING:
    from bot.kernel.context import Place
    from bot.kernel.runtime import Runtime

log = logging.getLogger("cadence.outbox")

LEASE = timedelta(seconds=120)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_BACKOFF = 600.0
UNSENT = ("pending", "sending")  # not delivered yet: a conversation's later messages wait behind these
_QUEUED = "cadence.outbox_queued"  # session.info: rows waiting for insert_queued (see batch)
_BORN = "cadence.outbox_born"  # session.info: messages claimed as they were inserted (see insert_queued)


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with jitter: ~1 s, 2 s, 4 s … capped at 10 minutes."""
    base = min(2.0 ** max(attempts - 1, 0), MAX_BACKOFF)
    return base * (0.8 + 0.4 * random.random())


class QueuedMessage(SimpleNamespace):
    """A message queued in an `Outbox.batch`: the values of its row-to-be, `id` None until inserted."""


@dataclass
class ClaimedMessage:
    """A message claimed for delivery: the columns a delivery reads (and `address`, which it may complete)."""

    id: int
    platform: str
    conversation_key: str
    op: str
    address: dict[str, Any]
    payload: dict[str, Any]
    ref_key: str | None
    engagement_id: int | None
    attempts: int


_CLAIMED_FIELDS = [f.name for f in fields(ClaimedMessage)]

# Records deliveries: a Core statement on the table, one parameter set per message (executemany), without
# the ORM's bulk-update layer.
_MARK_SENT = (
    update(OutboxMessage.__table__)
    .where(OutboxMessage.__table__.c.id == bindparam("message_id"))
    .values(
        status="sent",
        sent_at=bindparam("sent_at"),
        lease_until=None,
        platform_message_id=bindparam("platform_message_id"),
    )
)


class Outbox:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.paused_until: dict[str, datetime] = {}  # per platform, after a 429 with Retry-After
        self.concurrency = 16  # sends in flight at once; a 429 pauses them all (paused_until)
        self.batch_size = 100
        self.lease = LEASE  # how long a claimed message is ours before another worker may take it over
        self._born: deque[ClaimedMessage] = deque()  # claimed at birth, committed, not yet sent (_hand_over)

    # -- enqueue (inside the caller's transaction) ------------------------------------------------
    async def _add(
        self,
        session: AsyncSession,
        *,
        platform: str,
        conversation_key: str,
        op: str,
        address: dict[str, Any],
        card: Card,
        ref_key: str | None,
        engagement_id: int | None,
    ) -> OutboxMessage | QueuedMessage:
        now = self.runtime.clock.now()
        row = {
            "platform": platform,
            "conversation_key": conversation_key,
            "op": op,
            "address": address,
            "payload": card.to_dict(),
            "ref_key": ref_key,
            "engagement_id": engagement_id,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "lease_until": None,
        }
        self.runtime.note_outbox()
        queued = session.info.get(_QUEUED)
        if queued is not None:  # inside batch(together=True): inserted together by insert_queued()
            queued.append(row)
            # What was queued, for the caller to look at; not an ORM object, which cost more to build (16 µs)
            # than the rest of queueing it.
            return QueuedMessage(id=None, **row)
        # No flush here: the rows of a transaction go to the database at commit, or earlier by autoflush
        # when a query needs them.
        msg = OutboxMessage(**row)
        session.add(msg)
        return msg

    @contextlib.asynccontextmanager
    async def batch(self, session: AsyncSession, *, together: bool = True) -> AsyncIterator[None]:
        """`async with outbox.batch(session, together=…):` — the transaction of a batch of work that creates
        many messages (a timer batch): it begins `session`'s transaction and commits it when the block ends
        (an exception rolls it back, messages included).

        `together`: the messages created in the block wait in a list and go in with one INSERT just before
        the commit (`_queue_rows`, `insert_queued`); on SQLite those that head their conversation go in
        already claimed, and are handed to delivery in memory right after the commit (`_hand_over`). Only
        where nothing in the block rolls back to a savepoint: a message queued inside one would outlive
        its rollback. Without it, a plain transaction."""
        async with session.begin():
            if together:
                self._queue_rows(session)
            yield
            await self.insert_queued(session, claim=together)
        self._hand_over(session)  # committed: what it claimed at birth goes out now

    @staticmethod
    def _queue_rows(session: AsyncSession) -> None:
        """From now on this session's new messages wait in a list and go in with one INSERT, run by
        `insert_queued` (before the commit, see `batch`). For a batch of timers: the ORM inserts
        one row per statement on SQLite (it has no way there to match generated ids to a multi-row
        INSERT), 1,000 statements for 1,000 due notices (bench/timer_lateness.py)."""
        session.info[_QUEUED] = []

    async def insert_queued(self, session: AsyncSession, *, claim: bool = False) -> None:
        """Insert the queued rows: the table, not the ORM entity, so a plain executemany without the ORM's
        bulk-insert layer (half the cost of queueing a message, bench/timer_lateness.py).

        `claim`: the messages that can go at once are inserted already claimed by this process (status
        "sending" under the usual lease) and, once the transaction has committed (`batch` calls `_hand_over`),
        delivered straight from memory. For a timer batch this saves the delivery claim (finding the heads,
        claiming them, reading them back): a sixth of what a message cost on SQLite. Only a message that
        heads its conversation is claimed so; a crash before it is sent leaves it to the lease, as any claim.

        SQLite only. There the look-up of a conversation's unsent messages and the insert run under the one
        write lock, so no other writer can slip a message into that conversation in between. On PostgreSQL
        two replicas' batches could each find a conversation empty and send their messages side by side,
        out of order; there the regular claim, which sees every committed message, keeps the order."""
        queued = session.info.get(_QUEUED)
        if not queued:
            return
        session.info[_QUEUED] = []
        table = OutboxMessage.__table__
        heads = await self._heads_among(session, queued) if claim and not self.runtime.is_postgres else []
        if not heads:
            await session.execute(insert(table), queued)
            return
        now = self.runtime.clock.now()
        for row in heads:
            row.update(status="sending", lease_until=now + self.lease, attempts=1)
        # The ids come back unordered (asking for them in order made SQLAlchemy insert one row per statement on
        # SQLite); a claimed row is the only one of its conversation here, so its key finds its id.
        inserted = await session.execute(
            insert(table).returning(table.c.id, table.c.conversation_key, table.c.status), queued
        )
        ids = {key: row_id for row_id, key, status in inserted if status == "sending"}
        born = session.info.setdefault(_BORN, [])
        for row in heads:
            born.append(
                ClaimedMessage(
                    **{name: row[name] for name in _CLAIMED_FIELDS if name != "id"}, id=ids[row["conversation_key"]]
                )
            )

    async def _heads_among(self, session: AsyncSession, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The rows that will head their conversation: the first of the batch in a conversation with no
        unsent message, for a platform this process delivers to and is not pausing."""
        now = self.runtime.clock.now()
        first: dict[str, dict[str, Any]] = {}
        for row in rows:
            if row["platform"] in self.runtime.messengers and self.paused_until.get(row["platform"], now) <= now:
                first.setdefault(row["conversation_key"], row)
        if not first:
            return []
        t = OutboxMessage.__table__
        busy = set(
            await session.scalars(
                select(t.c.conversation_key)
                .distinct()
                .where(t.c.conversation_key.in_(list(first)), t.c.status.in_(UNSENT))
            )
        )
        return [row for key, row in first.items() if key not in busy]

    def _hand_over(self, session: AsyncSession) -> None:
        """After the commit of a transaction that ran `insert_queued(claim=True)`: its claimed messages
        join the delivery queue in memory."""
        born = session.info.pop(_BORN, None)
        if born:
            self._born.extend(born)
            self.runtime.note_outbox()

    async def release_born(self) -> None:
        """At shutdown: messages claimed at birth and not sent go back to pending for whoever runs next,
        instead of waiting out their lease."""
        if not self._born:
            return
        ids = [m.id for m in self._born]
        self._born.clear()
        t = OutboxMessage.__table__
        async with self.runtime.writer_turns(), self.runtime.session_factory() as session, session.begin():
            await session.execute(
                update(t)
                .where(t.c.id.in_(ids), t.c.status == "sending")
                .values(status="pending", lease_until=None, attempts=t.c.attempts - 1)
            )

    @staticmethod
    def _binding_address(b: ChannelBinding) -> dict[str, Any]:
        return {
            "workspace_id": b.workspace_id,
            "channel_id": b.channel_id,
            "conversation_ref": b.conversation_ref,
            "engagement_id": b.engagement_id,
        }

    async def post_home(
        self,
        session: AsyncSession,
        engagement: Engagement,
        card: Card,
        *,
        ref_key: str | None = None,
        purpose: str = "home",
    ) -> list[OutboxMessage | QueuedMessage]:
        """Post to every binding of `purpose` (mirrored on each platform); falls back to home."""
        targets = await bindings(session, engagement, purpose)
        if not targets and purpose != "home":
            targets = await bindings(session, engagement, "home")
        out = []
        for b in targets:
            if b.failed_reason:
                continue
            out.append(
                await self._add(
                    session,
                    platform=b.platform,
                    conversation_key=f"{b.platform}:{b.workspace_id}:{b.channel_id}",
                    op="post",
                    address=self._binding_address(b),
                    card=card,
                    ref_key=ref_key,
                    engagement_id=engagement.id,
                )
            )
        if not out:
            log.warning("engagement %s has no reachable %s channel; message kept undelivered", engagement.key, purpose)
        return out

    async def post_binding(
        self,
        session: AsyncSession,
        binding: ChannelBinding,
        card: Card,
        *,
        ref_key: str | None = None,
        thread_ref: str | None = None,
    ) -> OutboxMessage | QueuedMessage:
        """Post to one bound channel; `thread_ref`: as a reply in the thread of the message posted there under
        that ref_key (bot/kernel/dm_fallback.py), or at the top level if that message never arrived."""
        address = self._binding_address(binding)
        if thread_ref:
            address["thread_ref"] = thread_ref
        return await self._add(
            session,
            platform=binding.platform,
            conversation_key=f"{binding.platform}:{binding.workspace_id}:{binding.channel_id}",
            op="post",
            address=address,
            card=card,
            ref_key=ref_key,
            engagement_id=binding.engagement_id,
        )

    async def post_place(
        self,
        session: AsyncSession,
        place: Place,
        card: Card,
        *,
        ref_key: str | None = None,
        engagement_id: int | None = None,
    ) -> OutboxMessage | QueuedMessage:
        address = {
            "workspace_id": place.workspace_id,
            "channel_id": place.channel_id,
            "conversation_ref": place.conversation_ref,
            "is_dm": place.is_dm,
        }
        return await self._add(
            session,
            platform=place.platform,
            conversation_key=place.conversation_key,
            op="post",
            address=address,
            card=card,
            ref_key=ref_key,
            engagement_id=engagement_id,
        )

    async def dm(
        self,
        session: AsyncSession,
        person: Person,
        card: Card,
        *,
        ref_key: str | None = None,
        engagement_id: int | None = None,
    ) -> list[OutboxMessage | QueuedMessage]:
        """A direct message, to the identity the person used last (one DM, not one per platform)."""
        # Queried, not person.identities: an async session cannot lazy-load a collection.
        all_identities = await session.scalars(select(Identity).where(Identity.person_id == person.id))
        identities = sorted(
            (i for i in all_identities if not i.unreachable_reason),
            key=lambda i: (i.last_seen_at or EPOCH, i.id),
            reverse=True,
        )
        if not identities:
            # Every DM to them fails for good (another company's member, DMs forbidden): their channel's thread.
            failed = await dm_fallback.fallback_identity(session, person)
            if failed is None or not dm_fallback.worth_a_thread(failed.unreachable_reason):
                log.warning("person %s has no reachable identity; DM not sent", person.id)
                return []
            return await dm_fallback.post(
                session,
                self.runtime.core,
                person,
                card,
                engagement_id=engagement_id,
                platform=failed.platform,
                reason=failed.unreachable_reason or "refused",
            )
        ident = identities[0]
        address = {
            "workspace_id": ident.workspace_id,
            "user_id": ident.user_id,
            "person_id": person.id,
            "dm_channel_id": ident.dm_channel_id,
            "conversation_ref": ident.conversation_ref,
        }
        msg = await self._add(
            session,
            platform=ident.platform,
            conversation_key=f"{ident.platform}:{ident.workspace_id}:dm:{ident.user_id}",
            op="dm",
            address=address,
            card=card,
            ref_key=ref_key,
            engagement_id=engagement_id,
        )
        return [msg]

    async def ephemeral(
        self, session: AsyncSession, place: Place, person: Person, card: Card
    ) -> OutboxMessage | QueuedMessage | None:
        ident = await session.scalar(
            select(Identity).where(
                Identity.person_id == person.id,
                Identity.platform == place.platform,
                Identity.workspace_id == place.workspace_id,
            )
        )
        if ident is None:
            return None
        address = {
            "workspace_id": place.workspace_id,
            "channel_id": place.channel_id,
            "user_id": ident.user_id,
            "conversation_ref": place.conversation_ref,
        }
        return await self._add(
            session,
            platform=place.platform,
            conversation_key=place.conversation_key,
            op="ephemeral",
            address=address,
            card=card,
            ref_key=None,
            engagement_id=None,
        )

    async def update(self, session: AsyncSession, ref_key: str, card: Card) -> list[OutboxMessage | QueuedMessage]:
        """Edit in place every message posted under `ref_key` (including ones not delivered yet)."""
        await self.insert_queued(session)  # the query below must see messages queued in this transaction
        places: dict[tuple[str, str], tuple[str, dict[str, Any], int | None]] = {}
        for ref in await session.scalars(select(MessageRef).where(MessageRef.ref_key == ref_key)):
            places[(ref.platform, ref.channel_id)] = (
                f"{ref.platform}:{ref.workspace_id}:{ref.channel_id}"
                if not ref.address.get("dm_key")
                else ref.address["dm_key"],
                {**ref.address, "workspace_id": ref.workspace_id, "channel_id": ref.channel_id},
                None,
            )
        pending = await session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.ref_key == ref_key, OutboxMessage.op.in_(("post", "dm")), OutboxMessage.status.in_(UNSENT)
            )
        )
        for msg in pending:
            places.setdefault(
                (msg.platform, msg.conversation_key), (msg.conversation_key, dict(msg.address), msg.engagement_id)
            )
        out = []
        for (platform, _), (conversation_key, address, engagement_id) in places.items():
            out.append(
                await self._add(
                    session,
                    platform=platform,
                    conversation_key=conversation_key,
                    op="update",
                    address=address,
                    card=card,
                    ref_key=ref_key,
                    engagement_id=engagement_id,
                )
            )
        return out

    # -- delivery ---------------------------------------------------------------------------------
    async def deliver_due(self) -> int:
        """Deliver what is due now, head of each conversation first; returns how many were sent."""
        total = 0
        while True:
            batch = self._take_born() or await self._claim()
            if not batch:
                return total
            sem = asyncio.Semaphore(self.concurrency)
            marker = _GroupMarker(self)

            async def one(msg: ClaimedMessage, sem: asyncio.Semaphore, marker: _GroupMarker) -> int:
                async with sem:
                    sent = await self._deliver(msg)
                if sent is None:
                    return 0
                await marker.mark(msg, sent)
                return 1

            results = await asyncio.gather(*(one(m, sem, marker) for m in batch))
            sent = sum(results)
            total += sent
            if sent == 0 or self.runtime.stopping.is_set():
                return total

    def _take_born(self) -> list[ClaimedMessage]:
        return [self._born.popleft() for _ in range(min(len(self._born), self.batch_size))]

    async def _claim(self) -> list[ClaimedMessage]:
        now = self.runtime.clock.now()
        platforms = [p for p in self.runtime.messengers if self.paused_until.get(p, now) <= now]
        if not platforms:
            return []
        async with self.runtime.writer_turns(), self.runtime.session_factory() as session, session.begin():
            ids = await self._claimable_heads(session, platforms, now)
            if not ids:
                return []
            t = OutboxMessage.__table__
            mine = select(t.c.id).where(t.c.id.in_(ids), self._claimable(t.c, now))
            if self.runtime.is_postgres:
                mine = mine.with_for_update(skip_locked=True)  # another replica's claim is skipped, not waited on
            # One UPDATE … RETURNING: the claimed rows come back as they now are, as plain rows (ORM objects
            # cost a third more to claim and nothing here needs one).
            claim = (
                update(t)
                .where(t.c.id.in_(mine))
                .values(status="sending", lease_until=now + self.lease, attempts=func.coalesce(t.c.attempts, 0) + 1)
                .returning(*(t.c[name] for name in _CLAIMED_FIELDS))
            )
            rows = sorted((ClaimedMessage(**row._mapping) for row in await session.execute(claim)), key=lambda m: m.id)
        return rows

    @staticmethod
    def _claimable(t: Any, now: datetime) -> ColumnElement[bool]:
        """Due now: pending and due, or sending under a lease that ran out (its worker died)."""
        return or_(
            and_(t.status == "pending", t.next_attempt_at <= now), and_(t.status == "sending", t.lease_until <= now)
        )

    async def _claimable_heads(self, session: AsyncSession, platforms: list[str], now: datetime) -> list[int]:
        """Ids of the messages that may go now: the head (earliest unsent message) of each conversation, so
        every conversation keeps its order, if it is claimable. Each database gets the form it plans well;
        the rows are then locked and claimed by id (_claim)."""
        if self.runtime.is_postgres:
            return list(await session.scalars(self._heads_by_window(platforms, now)))
        # SQLite: the window form sorts every unsent row on each claim (4 ms a claim with 1,000 unsent, a
        # quarter of what delivering cost, bench/timer_lateness.py). These walk the due rows in index order
        # and stop at the batch size, testing each against its conversation's index. Expired leases (a
        # worker died mid-send) are a separate, usually empty, look-up: an OR of the two made SQLite gather
        # every unsent row first.
        t = OutboxMessage.__table__
        earlier = OutboxMessage.__table__.alias("earlier")
        not_head = (
            select(earlier.c.id)
            .where(
                earlier.c.conversation_key == t.c.conversation_key, earlier.c.id < t.c.id, earlier.c.status.in_(UNSENT)
            )
            .exists()
        )
        expired = list(
            await session.scalars(
                select(t.c.id)
                .where(t.c.status == "sending", t.c.lease_until <= now, t.c.platform.in_(platforms), ~not_head)
                .limit(self.batch_size)
            )
        )
        due = list(
            await session.scalars(
                select(t.c.id)
                .where(t.c.status == "pending", t.c.next_attempt_at <= now, t.c.platform.in_(platforms), ~not_head)
                .order_by(t.c.next_attempt_at)
                .limit(self.batch_size - len(expired))
            )
        )
        return expired + due

    def _heads_by_window(self, platforms: list[str], now: datetime) -> Select[tuple[int]]:
        """PostgreSQL's form: one pass over the unsent rows (a partial index) with a window function. A NOT
        EXISTS or IN (subquery) form was planned by PostgreSQL as a nested loop over every unsent row while
        a burst was still unanalysed: 217 ms a claim with 1,000 pending (bench/timer_lateness.py)."""
        first = (
            func.row_number().over(partition_by=OutboxMessage.conversation_key, order_by=OutboxMessage.id).label("n")
        )
        unsent = (
            select(
                OutboxMessage.id,
                OutboxMessage.platform,
                OutboxMessage.status,
                OutboxMessage.next_attempt_at,
                OutboxMessage.lease_until,
                first,
            )
            .where(OutboxMessage.status.in_(UNSENT))
            .subquery()
        )
        return (
            select(unsent.c.id)
            .where(unsent.c.n == 1, unsent.c.platform.in_(platforms), self._claimable(unsent.c, now))
            .order_by(unsent.c.id)
            .limit(self.batch_size)
        )

    async def _deliver(self, msg: ClaimedMessage) -> Sent | None:
        """Send one claimed message; None if it was put back (retry) or failed for good."""
        until = self.paused_until.get(msg.platform)
        if until is not None and until > self.runtime.clock.now():
            # Another send of this batch was just told to slow down: do not spend this one on a 429.
            await self._retry(msg, "waiting out the platform's Retry-After", None, resume_at=until)
            return None
        messenger = self.runtime.messengers.get(msg.platform)
        card = Card.from_dict(msg.payload)
        message_id = None
        try:
            if msg.op == "update":
                message_id = await self._resolve_ref(msg)  # also fills in the channel it landed in
            if messenger is None:  # its front end went away since the claim
                raise RetryLater(f"no {msg.platform} messenger")
            address = dict(msg.address)
            if address.get("thread_ref"):
                address["thread_id"] = await self._thread_id(msg)
            if msg.op == "update":
                if message_id is None:
                    # The original never arrived (failed for good): post the new state instead.
                    op = "dm" if address.get("user_id") and not address.get("channel_id") else "post"
                else:
                    op = "update"
            else:
                op = msg.op
            try:
                sent = await messenger.send(
                    Outgoing(
                        op=op, address=address, card=card, message_id=message_id, ref_key=msg.ref_key, outbox_id=msg.id
                    )
                )
            except MessageGone as gone:
                # One deleted message must not silence its conversation: post the new state as a fresh
                # message; recorded as a post, so its id replaces the old one (_remember_ref).
                op = (
                    "dm"
                    if address.get("user_id") and (address.get("dm_key") or not address.get("channel_id"))
                    else "post"
                )
                log.info("outbox %s: the message to update is gone (%s); posting it afresh", msg.id, gone.reason)
                sent = await messenger.send(
                    Outgoing(op=op, address=address, card=card, ref_key=msg.ref_key, outbox_id=msg.id)
                )
                msg.op = op
                message_id = None
        except RetryLater as exc:
            await self._retry(msg, exc.reason, exc.retry_after)
            return None
        except PermanentFailure as exc:
            await self._fail(msg, exc.reason)
            return None
        except Exception as exc:  # unknown errors are treated as passing
            log.exception("outbox %s: unexpected error", msg.id)
            await self._retry(msg, f"{type(exc).__name__}: {exc}", None)
            return None
        return Sent(message_id=sent.message_id or message_id, channel_id=sent.channel_id)

    async def _thread_id(self, msg: ClaimedMessage) -> str | None:
        """The platform id of the message that starts the thread a post replies in (None: post on top)."""
        async with self.runtime.session_factory() as session:
            return await session.scalar(
                select(MessageRef.message_id)
                .where(
                    MessageRef.ref_key == msg.address["thread_ref"],
                    MessageRef.platform == msg.platform,
                    MessageRef.channel_id == msg.address.get("channel_id"),
                )
                .order_by(MessageRef.id.desc())
                .limit(1)
            )

    async def _resolve_ref(self, msg: ClaimedMessage) -> str | None:
        async with self.runtime.session_factory() as session:
            channel = msg.address.get("channel_id")
            q = select(MessageRef).where(MessageRef.ref_key == msg.ref_key, MessageRef.platform == msg.platform)
            if channel:
                q = q.where(MessageRef.channel_id == channel)
            else:
                q = q.where(MessageRef.address["dm_key"].as_string() == msg.conversation_key)
            ref = await session.scalar(q.order_by(MessageRef.id.desc()).limit(1))
            if ref is not None:
                msg.address = {**msg.address, "channel_id": ref.channel_id}
                return ref.message_id
            return None

    async def _mark_sent(self, sent: list[tuple[ClaimedMessage, Sent]]) -> None:
        """Record deliveries in one transaction: plain posts in one bulk UPDATE, and for DMs and messages
        that may be edited later, where they landed."""
        now = self.runtime.clock.now()
        async with self.runtime.writer_turns(), self.runtime.session_factory() as session, session.begin():
            await session.execute(
                _MARK_SENT,
                [{"message_id": msg.id, "sent_at": now, "platform_message_id": s.message_id} for msg, s in sent],
            )
            for msg, s in sent:
                channel = s.channel_id or msg.address.get("channel_id")
                if msg.op == "dm" and channel:
                    await self._remember_dm_channel(session, msg, channel)
                if msg.ref_key and s.message_id and channel and msg.op in ("post", "dm"):
                    await self._remember_ref(session, msg, s.message_id, channel, now)

    @staticmethod
    async def _remember_dm_channel(session: AsyncSession, msg: ClaimedMessage, channel: str) -> None:
        person_id = msg.address.get("person_id")
        ident = await session.scalar(
            select(Identity).where(
                Identity.platform == msg.platform,
                Identity.workspace_id == msg.address.get("workspace_id", ""),
                Identity.user_id == msg.address.get("user_id"),
            )
        )
        if ident is not None and person_id and ident.dm_channel_id != channel:
            ident.dm_channel_id = channel

    @staticmethod
    async def _remember_ref(
        session: AsyncSession, msg: ClaimedMessage, message_id: str, channel: str, now: datetime
    ) -> None:
        """Where a message under `ref_key` landed, so a later `update` edits it in place."""
        ref = await session.scalar(
            select(MessageRef).where(
                MessageRef.ref_key == msg.ref_key, MessageRef.platform == msg.platform, MessageRef.channel_id == channel
            )
        )
        address = {k: v for k, v in msg.address.items() if k in ("conversation_ref", "user_id", "person_id")}
        if msg.op == "dm":
            address["dm_key"] = msg.conversation_key
        if ref is None:
            session.add(
                MessageRef(
                    ref_key=msg.ref_key,
                    platform=msg.platform,
                    workspace_id=msg.address.get("workspace_id", ""),
                    channel_id=channel,
                    message_id=message_id,
                    address=address,
                    updated_at=now,
                )
            )
        else:
            ref.message_id = message_id
            ref.updated_at = now

    async def _retry(
        self, msg: ClaimedMessage, reason: str, retry_after: float | None, *, resume_at: datetime | None = None
    ) -> None:
        """Back to pending. A rate limit (Retry-After) is the platform saying *when*: the message goes again
        right then, not after an exponential backoff (exponential backoff on every 429 made
        a 2,000-prompt fan-out take 2.6 times what the rate allows; bench/standup_fanout.py)."""
        now = self.runtime.clock.now()
        if resume_at is not None:
            delay = max((resume_at - now).total_seconds(), 0.0)
        elif retry_after:
            delay = retry_after
            self.paused_until[msg.platform] = now + timedelta(seconds=retry_after)
        else:
            delay = backoff_seconds(msg.attempts)
        if resume_at is None:
            log.warning(
                "outbox %s to %s: %s; retry in %.1f s (attempt %s)", msg.id, msg.platform, reason, delay, msg.attempts
            )
        async with self.runtime.writer_turns(), self.runtime.session_factory() as session, session.begin():
            row = await must_get(session, OutboxMessage, msg.id)
            row.status = "pending"
            row.lease_until = None
            row.last_error = reason[:2000]
            row.next_attempt_at = now + timedelta(seconds=delay)
            if resume_at is not None:
                row.attempts = max((row.attempts or 1) - 1, 0)  # never sent: not an attempt

    async def _fail(self, msg: ClaimedMessage, reason: str) -> None:
        log.error("outbox %s to %s failed for good: %s", msg.id, msg.platform, reason)
        async with self.runtime.writer_turns(), self.runtime.session_factory() as session, session.begin():
            row = await must_get(session, OutboxMessage, msg.id)
            row.status = "failed"
            row.lease_until = None
            row.last_error = reason[:2000]
            await self.runtime.emit(session, "delivery_failed", message=row)

    async def next_attempt(self) -> datetime | None:
        async with self.runtime.session_factory() as session:
            return await session.scalar(
                select(OutboxMessage.next_attempt_at)
                .where(OutboxMessage.status == "pending")
                .order_by(OutboxMessage.next_attempt_at)
                .limit(1)
            )


class _GroupMarker:
    """Group commit of "sent": a delivery waits until its row is marked, and while one commit is in
    flight the deliveries finishing meanwhile gather for the next. Commits stay few under load (one per
    message cost more than the send itself; bench/timer_lateness.py) and a crash can re-send only what
    had no commit yet — as before, at-least-once only where our record of the answer was lost."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.pending: list[tuple[ClaimedMessage, Sent, asyncio.Future[None]]] = []
        self.flushing = False

    async def mark(self, msg: ClaimedMessage, sent: Sent) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending.append((msg, sent, done))
        if not self.flushing:
            self.flushing = True
            try:
                while self.pending:
                    items, self.pending = self.pending, []
                    try:
                        await self.outbox._mark_sent([(m, s) for m, s, _ in items])
                    except asyncio.CancelledError:
                        for *_, fut in items + self.pending:  # nobody is left to commit them
                            fut.cancel()
                        self.pending = []
                        raise
                    except Exception as exc:  # noqa: BLE001 - any failure: these stay "sending" until their lease ends, then go again
                        for *_, fut in items:
                            fut.set_exception(exc)
                    else:
                        for *_, fut in items:
                            fut.set_result(None)
            finally:
                self.flushing = False
        await done
