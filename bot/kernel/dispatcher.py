"""The Cadence core: turns what people do on any front end (commands, clicks, forms, DMs, events) into
domain calls inside one transaction. Its background work (timers, outbox delivery, APScheduler wake-ups)
is bot/kernel/worker.py, which `Cadence` starts, stops and drains."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar, overload

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.kernel import help as help_text
from bot.kernel.contention import retry_transaction
from bot.kernel.context import Actor, Ctx, Place
from bot.kernel.engagements import binding_for, engagement_for_dm
from bot.kernel.errors import UserError
from bot.kernel.grammar import parse
from bot.kernel.messages import Card, Reply
from bot.kernel.outbox import Outbox
from bot.kernel.people import identity_for, membership_of, person_for_actor
from bot.kernel.runtime import Runtime
from bot.kernel.sides import not_seated
from bot.kernel.text import MAX_COMMAND, InputTooLong, clean
from bot.kernel.timers import TimerService
from bot.kernel.worker import Worker
from storage.db import read_session_factory
from storage.models import Engagement, ProcessedEvent
from storage.results import rowcount
from storage.writer import WriterTurns

if TYPE_CHECKING:
    from bot.kernel.clock import Clock
    from bot.kernel.delivery import Messenger
    from bot.kernel.directory import Directory
    from bot.kernel.registry import Registry

log = logging.getLogger("cadence.core")

# A front end's step inside the work's own transaction (see Cadence.run).
Within = Callable[[AsyncSession], Awaitable[bool]]
ReplyT = TypeVar("ReplyT", Reply, Reply | None)


class _RollBack(Exception):
    """Leave the transaction without committing, answering with `reply` (form validation errors)."""

    def __init__(self, reply: Reply) -> None:
        super().__init__("rollback")
        self.reply = reply


class Cadence:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        session_factory: async_sessionmaker[AsyncSession],
        clock: Clock,
        registry: Registry,
        sweep_seconds: float = 30.0,
    ) -> None:
        self.engine = engine
        self.is_postgres = engine.dialect.name == "postgresql"
        self.messengers: dict[str, Messenger] = {}
        # Each front end's people directory (bot/kernel/directory.py), by platform.
        self.directories: dict[str, Directory] = {}
        # On SQLite the process's writers take turns (storage/writer.py): timer batches, the outbox's claims
        # and records, Teams turns. Open on PostgreSQL.
        self.writer_turns = WriterTurns.for_engine(engine)
        # Look-ups that write nothing (the directory's questions from the front ends): on SQLite they read a
        # snapshot without queuing behind the writers.
        self.read_session_factory = read_session_factory(engine)
        # What timers and the outbox need of the process (bot/kernel/runtime.py), shared with the worker.
        self.runtime = Runtime(
            clock=clock,
            session_factory=session_factory,
            registry=registry,
            is_postgres=self.is_postgres,
            writer_turns=self.writer_turns,
            messengers=self.messengers,
            core=self,
        )
        self.outbox = Outbox(self.runtime)
        self.timers = TimerService(self.runtime, self.outbox)
        self.worker = Worker(self.runtime, self.timers, self.outbox, sweep_seconds=sweep_seconds)

    # The runtime holds these for the background services; tests swap the registry of a built core.
    @property
    def clock(self) -> Clock:
        return self.runtime.clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        self.runtime.clock = clock

    @property
    def session_factory(self) -> async_sessionmaker[AsyncSession]:
        return self.runtime.session_factory

    @session_factory.setter
    def session_factory(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self.runtime.session_factory = factory

    @property
    def registry(self) -> Registry:
        return self.runtime.registry

    @registry.setter
    def registry(self, registry: Registry) -> None:
        self.runtime.registry = registry

    @property
    def sweep_seconds(self) -> float:
        return self.worker.sweep_seconds

    # -- entry points for front ends ---------------------------------------------------------------
    # With a `within` step each entry point answers None when that step says the work was done before.
    @overload
    async def handle_command(self, actor: Actor, place: Place, text: str, *, within: None = None) -> Reply: ...
    @overload
    async def handle_command(self, actor: Actor, place: Place, text: str, *, within: Within) -> Reply | None: ...
    async def handle_command(
        self, actor: Actor, place: Place, text: str, *, within: Within | None = None
    ) -> Reply | None:
        """A command typed on any front end (`/cr new …`, `cr new …`, `help`). `within`: see `run`."""
        try:
            parsed = parse(text, self.registry.groups)
        except InputTooLong as exc:
            return Reply.refuse(str(exc))
        if parsed.cmd is None:
            return Reply.refuse(help_text.unknown(parsed.rest, parsed.suggestion))
        if parsed.cmd == "help":
            return Reply(private=[help_text.overview(self.registry, parsed.sub, by_mention=actor.is_external)])
        if parsed.is_help:
            return Reply(private=[help_text.for_command(self.registry, parsed.cmd, by_mention=actor.is_external)])
        spec = self.registry.commands.get((parsed.cmd, parsed.sub)) if parsed.sub else None
        if spec is not None:
            sub, args = parsed.sub, parsed.rest
        else:
            spec = self.registry.commands.get((parsed.cmd, None))
            sub, args = parsed.sub, parsed.args
            if spec is None:
                if parsed.sub is None:
                    return Reply(
                        private=[help_text.for_command(self.registry, parsed.cmd, by_mention=actor.is_external)]
                    )
                return Reply.refuse(help_text.unknown_sub(self.registry, parsed.cmd, parsed.sub))
        return await self.run(
            actor,
            place,
            spec.handler,
            cmd=parsed.cmd,
            sub=sub,
            args=args,
            within=within,
            members_only=not spec.open_to_outsiders,
        )

    @overload
    async def handle_action(
        self,
        actor: Actor,
        place: Place,
        action_id: str,
        value: str,
        message_ref: dict[str, Any] | None = None,
        *,
        within: None = None,
    ) -> Reply: ...
    @overload
    async def handle_action(
        self,
        actor: Actor,
        place: Place,
        action_id: str,
        value: str,
        message_ref: dict[str, Any] | None = None,
        *,
        within: Within,
    ) -> Reply | None: ...
    async def handle_action(
        self,
        actor: Actor,
        place: Place,
        action_id: str,
        value: str,
        message_ref: dict[str, Any] | None = None,
        *,
        within: Within | None = None,
    ) -> Reply | None:
        """A button click. `within`: see `run`."""
        handler = self.registry.actions.get(action_id)
        if handler is None:
            return Reply.refuse("That button is no longer in use. Nothing was changed.")
        # A button's value comes back from the client: cleaned like any other untrusted text.
        value = clean(str(value or "")[:2000], multiline=False)
        return await self.run(actor, place, lambda ctx: handler(ctx, value), within=within)

    @overload
    async def handle_form(
        self,
        actor: Actor,
        place: Place,
        form_id: str,
        values: dict[str, Any],
        state: dict[str, Any] | None = None,
        *,
        within: None = None,
    ) -> Reply: ...
    @overload
    async def handle_form(
        self,
        actor: Actor,
        place: Place,
        form_id: str,
        values: dict[str, Any],
        state: dict[str, Any] | None = None,
        *,
        within: Within,
    ) -> Reply | None: ...
    async def handle_form(
        self,
        actor: Actor,
        place: Place,
        form_id: str,
        values: dict[str, Any],
        state: dict[str, Any] | None = None,
        *,
        within: Within | None = None,
    ) -> Reply | None:
        """A submitted form. Per-field errors come back in Reply.errors and nothing is saved. `within`: see
        `run`."""
        handler = self.registry.forms.get(form_id)
        if handler is None:
            return Reply.refuse("That form is no longer in use. Nothing was changed.")
        # Every front end's values are cleaned here once (control characters, forged tokens);
        # each feature still bounds lengths with its own message.
        clean_values = {str(k)[:100]: clean("" if v is None else str(v)) for k, v in (values or {}).items()}
        form_state = dict(state or {})

        async def submit(ctx: Ctx) -> Any:
            # The state travelled through the platform (Slack private_metadata, a card's data): an engagement
            # it names is re-checked here, for every form, against the conversation and the actor's seat.
            if form_state.get("engagement_id") not in (None, ""):
                await ctx.act_on(form_state["engagement_id"])
            return await handler(ctx, clean_values, form_state)

        return await self.run(actor, place, submit, within=within)

    async def handle_dm(self, actor: Actor, place: Place, text: str, *, within: Within | None = None) -> Reply | None:
        """Plain text in a DM with the bot: an answer a feature is waiting for (a standup question),
        else a command (`cr list`, `help`). A leading slash always means a command. `within`: see `run`
        (it runs in the first transaction; when it returns False nothing runs and None is returned)."""
        # Cleaned here once for every front end (control characters, forged tokens).
        try:
            stripped = clean(text or "", limit=MAX_COMMAND, what="The message")
        except InputTooLong as exc:
            return Reply.refuse(str(exc))
        if stripped.startswith("/") or not self.registry.dm_listeners:
            return await self.handle_command(actor, place, stripped, within=within)
        claimed = True

        async def claim(session: AsyncSession) -> bool:
            nonlocal claimed
            claimed = within is None or await within(session)
            return claimed

        async def listen(ctx: Ctx) -> Reply | None:
            for listener in self.registry.dm_listeners:
                reply = await listener(ctx, stripped)
                if reply is not None:
                    return reply
            return None

        reply = await self.run(actor, place, listen, within=claim if within is not None else None)
        if reply is not None or not claimed:
            return reply
        return await self.handle_command(actor, place, stripped)

    async def home(self, actor: Actor) -> list[Card]:
        """A person's home view (Slack App Home): what each feature has for them."""

        async def transaction() -> list[Card]:
            async with self.session_factory() as session, session.begin():
                person, _ = await person_for_actor(session, actor, self.clock.now())
                cards: list[Card] = []
                for section in self.registry.home_sections:
                    cards.extend(await section(session, self, person) or [])
                return cards

        return await retry_transaction(transaction)

    def claim_event(self, source: str, key: str) -> Within:
        """`seen_event` as a `within` step: the event is recorded in the work's own transaction (one
        transaction fewer per event; a refusal rolls the record back with everything else). False if it
        was already applied."""
        insert = postgresql.insert if self.is_postgres else sqlite.insert

        async def claim(session: AsyncSession) -> bool:
            row = self._event_row(source, key)
            result = await session.execute(insert(ProcessedEvent).values(**row).on_conflict_do_nothing())
            return rowcount(result) == 1

        return claim

    async def seen_event(self, source: str, key: str) -> bool:
        """True if this inbound event was already applied; records it otherwise (idempotency)."""
        async with self.session_factory() as session:
            try:
                async with session.begin():
                    session.add(ProcessedEvent(**self._event_row(source, key)))
                return False
            except IntegrityError:
                return True

    def _event_row(self, source: str, key: str) -> dict[str, Any]:
        return {"source": source, "event_key": f"{source}:{key}"[:255], "at": self.clock.now()}

    async def run(
        self,
        actor: Actor,
        place: Place,
        fn: Callable[[Ctx], Awaitable[ReplyT]],
        *,
        cmd: str | None = None,
        sub: str | None = None,
        args: str = "",
        within: Within | None = None,
        members_only: bool = True,
    ) -> ReplyT | Reply | None:
        """Run `fn(ctx)` in one transaction (run again from the start when PostgreSQL aborts it for a deadlock or
        a serialization failure, so `fn` must keep its effects in the session); UserError and form errors roll
        everything back.
        `members_only`: where the conversation belongs to an engagement, only people seated in it (holding a
        role) get past this point; anyone else is told how to be added and nothing changes.
        `within(session)`, if given, runs first in that transaction (a front end's inbox claims its row
        there, so the claim commits with the work); when it returns False nothing runs and None is returned."""
        now = self.clock.now()

        async def transaction() -> ReplyT | None:
            async with self.session_factory() as session, session.begin():
                if within is not None and not await within(session):
                    return None
                ctx = await self._context(session, actor, place, now)
                ctx.cmd, ctx.sub, ctx.args = cmd, sub, args
                if members_only and ctx.engagement is not None and not ctx.roles:
                    raise UserError(await not_seated(session, ctx.engagement))
                reply = await fn(ctx)
                if isinstance(reply, Reply):
                    if reply.errors:
                        raise _RollBack(reply)
                    for card in reply.public:
                        await self.outbox.post_place(
                            session, place, card, engagement_id=ctx.engagement.id if ctx.engagement else None
                        )
                    reply.public = []
                return reply

        try:
            # A deadlock or serialization failure runs the whole unit again (the inbox claim in `within`
            # included) before anyone is told anything: contention never loses a click.
            return await retry_transaction(transaction)
        except _RollBack as rb:
            return rb.reply
        except UserError as exc:
            if exc.field:
                return Reply(errors={exc.field: exc.message})
            return Reply.refuse(exc.message)
        except InputTooLong as exc:
            return Reply.refuse(str(exc))
        except (OverflowError, DataError):
            # A number no column can hold (an id beyond 64 bits in a tampered button or form): bad input,
            # refused like any other. The transaction rolled back; nothing changed.
            return Reply.refuse("That id or number is out of range. Nothing was changed.")
        except Exception:
            ref = uuid.uuid4().hex[:8]
            log.exception("unexpected error handling %s %s (ref %s)", cmd, sub, ref)
            return Reply.refuse(
                f"Something went wrong on our side and nothing was changed (ref {ref}). "
                "Please try again; if it keeps happening, tell your Cadence admin."
            )

    async def _context(self, session: AsyncSession, actor: Actor, place: Place, now: datetime) -> Ctx:
        person, tz_changed = await person_for_actor(session, actor, now)
        engagement: Engagement | None = None
        if place.is_dm:
            engagement = await engagement_for_dm(session, person)
            for known in person.identities:  # they wrote to Cadence directly: DMs reach them again
                if known.unreachable_reason and (known.platform, known.workspace_id, known.user_id) == (
                    actor.platform,
                    actor.workspace_id,
                    actor.user_id,
                ):
                    known.unreachable_reason = None
            if place.conversation_ref:
                # Query, not person.identities: a lazy load fails under asyncio (MissingGreenlet).
                ident = await identity_for(session, actor.platform, actor.workspace_id, actor.user_id)
                if ident is not None:
                    ident.conversation_ref = place.conversation_ref
                    ident.dm_channel_id = place.channel_id
        else:
            binding = await binding_for(session, place.platform, place.workspace_id, place.channel_id)
            if binding is not None:
                engagement = await session.get(Engagement, binding.engagement_id)
                if place.conversation_ref and binding.conversation_ref != place.conversation_ref:
                    binding.conversation_ref = place.conversation_ref
        membership = await membership_of(session, engagement, person) if engagement else None
        ctx = Ctx(
            session=session,
            core=self,
            now=now,
            actor=actor,
            place=place,
            person=person,
            engagement=engagement,
            membership=membership,
        )
        if tz_changed:
            await self.emit(session, "person_tz_changed", person=person)
        return ctx

    async def emit(self, session: AsyncSession, event: str, **kwargs: Any) -> None:
        await self.runtime.emit(session, event, **kwargs)

    # -- background work (bot/kernel/worker.py) ----------------------------------------------------
    async def tick(self) -> tuple[int, int]:
        """Fire due timers and deliver due messages until there is nothing left to do now."""
        return await self.worker.tick()

    async def drain(self) -> tuple[int, int]:
        """Tests and the virtual clock: do everything due at the clock's current time."""
        return await self.worker.tick()

    def note_due(self, due_at: datetime) -> None:
        """A timer was scheduled: wake earlier if it is due before the planned wake-up."""
        self.runtime.note_due(due_at)

    def note_outbox(self) -> None:
        self.runtime.note_outbox()

    async def start(self) -> None:
        """Start background work: overdue timers fire at once; APScheduler wakes us for the rest."""
        await self.worker.start()

    async def stop(self) -> None:
        """Graceful: no new timers are taken; in-flight work finishes."""
        await self.worker.stop()
