"""Where features plug in: command groups and their commands, button actions, form submissions, timer kinds,
DM listeners, hooks, settings defaults, contract terms, report sections, agenda sections and intake forms. The
core and the front ends never need to change when a feature adds one of these: the grammar, help, the Slack
slash-command listeners and the Teams and console commands read the groups from here, engagement settings read
their defaults from here, and the health report and meeting agendas read their sections from here (a feature
not registered has no section)."""

from __future__ import annotations

import copy
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.kernel.context import Ctx, TimerCtx
    from bot.kernel.dispatcher import Cadence
    from bot.kernel.messages import Card, Field, Form, Reply
    from storage.models import Engagement, Person

CommandHandler = Callable[["Ctx"], Awaitable["Reply"]]
ActionHandler = Callable[["Ctx", str], Awaitable["Reply"]]  # (ctx, the button's value)
FormHandler = Callable[["Ctx", dict[str, str], dict[str, Any]], Awaitable["Reply"]]  # (ctx, values, state)
TimerHandler = Callable[["TimerCtx"], Awaitable[None]]
DmListener = Callable[["Ctx", str], Awaitable["Reply | None"]]  # (ctx, text); None: not for this feature
# (session, core, **the event's own fields): each event names different ones, so only the shape is fixed.
Hook = Callable[..., Awaitable[None]]
HomeSection = Callable[["AsyncSession", "Cadence", "Person"], Awaitable[list["Card"]]]
# (title, description, state) -> the feature's intake form, pre-filled (a standup blocker turned into a defect…).
IntakeBuilder = Callable[[str, str, dict[str, Any]], "Form"]


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC, and the home-zone calendar dates it covers (inclusive): a report's period
    (`name` week | month) or an export's range (`name` "range")."""

    name: str
    start: datetime
    end: datetime
    first_day: date
    last_day: date


@dataclass(frozen=True)
class ReportSection:
    """A feature's section of the engagement health report (bot/features/reports). `figures(session,
    engagement, period, now)` gathers what the section shows, once; the other functions only read that value:
    `card(value, period)` its card in the report, `flags(value, period)` its "needs attention" lines as (rank,
    line) — the summary lists every section's lines by rank —, `home(value)` its fields on the App Home card.
    `trend(session, engagement, now, weeks)` the chart's weekly series; `export(session, engagement, range,
    now)` its files of `/cadence export` ({filename: CSV text})."""

    name: str
    order: int
    figures: Callable[[AsyncSession, Engagement, Period, datetime], Awaitable[Any]]
    card: Callable[[Any, Period], Card]
    flags: Callable[[Any, Period], list[tuple[int, str]]] | None = None
    home: Callable[[Any], list[Field]] | None = None
    trend: Callable[[AsyncSession, Engagement, datetime, int], Awaitable[Any]] | None = None
    export: Callable[[AsyncSession, Engagement, Period, datetime], Awaitable[dict[str, str]]] | None = None


@dataclass(frozen=True)
class AgendaSection:
    """A feature's part of a meeting's agenda (bot/features/meetings), built from live data at the moment the
    agenda is posted: `lines(session, engagement, now, kind)` returns one line per item (inline tokens such as
    `when()` and `person()` allowed; `kind` is the meeting's: sync, review, kickoff, other). No lines: the section
    is left out of that agenda. `order` places it; `title` heads it ("Change requests waiting for a decision")."""

    name: str
    order: int
    title: str
    lines: Callable[[AsyncSession, Engagement, datetime, str], Awaitable[list[str]]]


@dataclass(frozen=True)
class CommandGroup:
    """A first word of the command line (`/cr`, `cr` on Teams and the console) and its one line of help."""

    name: str
    summary: str
    # The set-up group (`/cadence`): listed after the jobs, and its help names every job (on Slack it is the
    # only help a user can reach).
    setup: bool = False


@dataclass(frozen=True)
class Term:
    """A contract term (bot/kernel/contract.py): what both sides agreed. It is kept either in engagement
    columns (`columns`: each column with its default, written when an engagement is created) or in a feature's
    settings (`setting`: (feature, key); its default is the one that feature registered with add_settings)."""

    key: str
    label: str
    show: Callable[[Engagement], str]  # how the value in force reads
    columns: Mapping[str, Any] = field(default_factory=dict)
    setting: tuple[str, str] | None = None


class Declared:
    """What the registries of this process declared, for code that has no registry at hand: an engagement's
    settings are read by pure functions everywhere (`bot.kernel.engagements.feature_settings(engagement,
    feature)`), and the renderers retype command hints (`bot.kernel.help.retype_commands`). Every registry of
    a process registers the same features, so a second declaration must be the same as the first."""

    def __init__(self) -> None:
        self.groups: dict[str, CommandGroup] = {}
        self.settings: dict[str, dict[str, Any]] = {}
        self.intakes: dict[str, IntakeBuilder] = {}

    def declare(self, table: dict[str, Any], key: str, value: Any, what: str) -> None:
        if table.setdefault(key, value) != value:
            raise ValueError(f"{what} {key} declared twice, differently")


declared = Declared()


@dataclass
class CommandSpec:
    cmd: str
    sub: str | None
    handler: CommandHandler
    usage: str
    summary: str
    # False: only people seated in the engagement (holding a role) may run it where one is bound.
    open_to_outsiders: bool = False


class Registry:
    def __init__(self) -> None:
        self._groups: dict[str, CommandGroup] = {}
        self.commands: dict[tuple[str, str | None], CommandSpec] = {}
        self.actions: dict[str, ActionHandler] = {}
        self.forms: dict[str, FormHandler] = {}
        self.timers: dict[str, TimerHandler] = {}
        self.dm_listeners: list[DmListener] = []
        self.hooks: dict[str, list[Hook]] = defaultdict(list)
        self.home_sections: list[HomeSection] = []
        self.settings: dict[str, dict[str, Any]] = {}
        self.terms: dict[str, Term] = {}
        self._report_sections: dict[str, ReportSection] = {}
        self.intakes: dict[str, IntakeBuilder] = {}
        self._agenda_sections: dict[str, AgendaSection] = {}

    def add_group(self, name: str, *, summary: str, setup: bool = False) -> None:
        """Declare a command group (the first word: `standup`, `cr`…) before adding its commands."""
        if not re.fullmatch(r"[a-z][a-z0-9]{0,19}", name) or name == "help":
            raise ValueError(f"bad command group name {name!r}")
        if name in self._groups:
            raise ValueError(f"command group {name} declared twice")
        self._groups[name] = CommandGroup(name, summary, setup)
        declared.declare(declared.groups, name, self._groups[name], "command group")

    @property
    def groups(self) -> dict[str, CommandGroup]:
        """The command groups in the order help lists them: the jobs as registered, then the set-up group."""
        ordered = sorted(self._groups.values(), key=lambda g: g.setup)  # stable: registration order otherwise
        return {g.name: g for g in ordered}

    def add_command(
        self,
        cmd: str,
        sub: str | None,
        handler: CommandHandler,
        *,
        usage: str = "",
        summary: str = "",
        open_to_outsiders: bool = False,
    ) -> None:
        if cmd not in self._groups:
            raise ValueError(f"unknown command group {cmd!r}: declare it with add_group first")
        key = (cmd, sub.lower() if sub else None)
        if key in self.commands:
            raise ValueError(f"command {cmd} {sub} registered twice")
        self.commands[key] = CommandSpec(
            cmd, key[1], handler, usage or f"/{cmd} {sub or ''}".strip(), summary, open_to_outsiders
        )

    def add_action(self, action_id: str, handler: ActionHandler) -> None:
        if action_id in self.actions:
            raise ValueError(f"action {action_id} registered twice")
        self.actions[action_id] = handler

    def add_form(self, form_id: str, handler: FormHandler) -> None:
        if form_id in self.forms:
            raise ValueError(f"form {form_id} registered twice")
        self.forms[form_id] = handler

    def add_timer(self, kind: str, handler: TimerHandler) -> None:
        if kind in self.timers:
            raise ValueError(f"timer kind {kind} registered twice")
        self.timers[kind] = handler

    def add_dm_listener(self, handler: DmListener) -> None:
        self.dm_listeners.append(handler)

    def add_hook(self, event: str, handler: Hook) -> None:
        self.hooks[event].append(handler)

    def add_home_section(self, handler: HomeSection) -> None:
        """`handler(session, core, person) -> list[Card]`: a section of a person's home (Slack App Home)."""
        self.home_sections.append(handler)

    def add_settings(self, feature: str, defaults: Mapping[str, Any]) -> None:
        """The defaults of a feature's engagement settings (`feature_settings(engagement, feature)` overlays what
        an engagement changed). Declared once, by the feature that owns the key."""
        if feature in self.settings:
            raise ValueError(f"settings of {feature} registered twice")
        self.settings[feature] = copy.deepcopy(dict(defaults))
        declared.declare(declared.settings, feature, self.settings[feature], "settings of")

    def add_term(
        self,
        key: str,
        label: str,
        show: Callable[[Engagement], str],
        *,
        columns: Mapping[str, Any] | None = None,
        setting: tuple[str, str] | None = None,
    ) -> None:
        """A contract term, in the order `/cadence contract` lists them: kept in engagement `columns` (with their
        defaults) or in a feature's `setting` (feature, key). Changed only by `bot.kernel.contract.amend`."""
        if key in self.terms:
            raise ValueError(f"contract term {key} registered twice")
        if bool(columns) == (setting is not None):
            raise ValueError(f"contract term {key}: give its columns or its setting")
        self.terms[key] = Term(key, label, show, dict(columns or {}), setting)

    def term_columns(self) -> dict[str, Any]:
        """Engagement columns that hold contract terms, with their defaults."""
        return {name: default for term in self.terms.values() for name, default in term.columns.items()}

    def subcommands(self, cmd: str) -> list[CommandSpec]:
        return [s for (c, sub), s in self.commands.items() if c == cmd and sub is not None]

    def add_report_section(
        self,
        name: str,
        *,
        order: int,
        figures: Callable[[AsyncSession, Engagement, Period, datetime], Awaitable[Any]],
        card: Callable[[Any, Period], Card],
        flags: Callable[[Any, Period], list[tuple[int, str]]] | None = None,
        home: Callable[[Any], list[Field]] | None = None,
        trend: Callable[[AsyncSession, Engagement, datetime, int], Awaitable[Any]] | None = None,
        export: Callable[[AsyncSession, Engagement, Period, datetime], Awaitable[dict[str, str]]] | None = None,
    ) -> None:
        """A section of the engagement health report, declared by the feature that owns its figures (see
        ReportSection). `order` places it in the report and on the App Home card."""
        if name in self._report_sections:
            raise ValueError(f"report section {name} registered twice")
        self._report_sections[name] = ReportSection(name, order, figures, card, flags, home, trend, export)

    @property
    def report_sections(self) -> list[ReportSection]:
        """The report's sections in their order."""
        return sorted(self._report_sections.values(), key=lambda s: s.order)

    def add_intake(self, form_id: str, builder: IntakeBuilder) -> None:
        """`builder(title, description, state) -> Form`: the feature's intake form `form_id` opened pre-filled
        by another feature (a standup blocker becomes a defect or a change request); its submission is the
        feature's own form handler."""
        if form_id in self.intakes:
            raise ValueError(f"intake form {form_id} registered twice")
        self.intakes[form_id] = builder
        declared.declare(declared.intakes, form_id, builder, "intake form")

    def add_agenda_section(
        self,
        name: str,
        *,
        order: int,
        title: str,
        lines: Callable[[AsyncSession, Engagement, datetime, str], Awaitable[list[str]]],
    ) -> None:
        """A section of every meeting's agenda, declared by the feature that owns the items (see AgendaSection);
        the meetings feature imports no other feature to build its agendas."""
        if name in self._agenda_sections:
            raise ValueError(f"agenda section {name} registered twice")
        self._agenda_sections[name] = AgendaSection(name, order, title, lines)

    @property
    def agenda_sections(self) -> list[AgendaSection]:
        """The agenda's sections in their order."""
        return sorted(self._agenda_sections.values(), key=lambda s: s.order)
