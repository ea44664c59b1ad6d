"""What people see: the prompt, each question, the reminder, the answer form, the summary, the digest; the
settings card, the settings form and the one-liners' help."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from bot.features.standups.schedule import format_days, format_hhmm
from bot.features.standups.settings import DEFAULTS, FEATURE, MAX_QUESTION_LEN, MAX_QUESTIONS, settings
from bot.kernel.engagements import feature_settings
from bot.kernel.messages import Button, Card, Field, Form, Input, Option
from bot.kernel.text import MAX_TEXT, day_text, plural, truncate, when
from bot.kernel.text import person as mention
from bot.kernel.zones import zone_or_utc
from storage.models import Engagement
from storage.models.standups import StandupEntry

if TYPE_CHECKING:
    from bot.features.standups.queries import DigestDay

FORM_ID = "standup.answer"
OPEN_FORM = "standup.open_form"
ANSWER_TODAY = "standup.answer_today"
TO_DEFECT = "standup.blocker_to_defect"
TO_CR = "standup.blocker_to_cr"
TO_ACTION = "standup.blocker_to_action"
CONFIG_FORM = "standup.config"
# Beyond this many answers each person's answers become one block of text (Slack allows 50 blocks).
COMPACT_AFTER = 6


def _day(entry: StandupEntry) -> str:
    return day_text(entry.day)


def question_text(entry: StandupEntry) -> str:
    i = entry.position
    return f"*{i + 1}/{len(entry.questions)}* {entry.questions[i]}"


def prompt_card(engagement: Engagement, entry: StandupEntry, *, reminder: bool = False) -> Card:
    intro = (
        "Reminder: your standup is still waiting."
        if reminder
        else f"Good morning! Time for the {engagement.name} standup."
    )
    return Card(
        title=f"Standup · {engagement.key} · {_day(entry)}",
        text=f"{intro}\n\n{question_text(entry)}",
        footer="Reply here, one message per question (`skip` skips one) — or answer everything in a form.",
        buttons=[Button("Answer in a form", OPEN_FORM, str(entry.id), "primary")],
        tone="warning" if reminder else "info",
    )


def next_question_card(entry: StandupEntry) -> Card:
    return Card(text=question_text(entry))


def thanks_card(engagement: Engagement, entry: StandupEntry, *, late: bool, edited: bool = False) -> Card:
    lines = []
    for q, a in zip(entry.questions, entry.answers or [], strict=False):
        lines.append(f"*{q}*\n{a if a else '_skipped_'}")
    note = "Updated." if edited else "Thanks — recorded."
    if late:
        note += " The digest was already posted; it now shows your answer, marked late."
    else:
        note += " You can change it with `/standup edit` until the digest is posted."
    return Card(
        title=f"Standup · {engagement.key} · {_day(entry)}", text=note + "\n\n" + "\n\n".join(lines), tone="good"
    )


def answer_form(engagement: Engagement, entry: StandupEntry, *, edit: bool = False) -> Form:
    inputs = []
    for i, q in enumerate(entry.questions):
        current = (entry.answers or [None] * len(entry.questions))[i] if i < len(entry.answers or []) else None
        inputs.append(
            Input(
                id=f"q{i}",
                label=q[:150],
                kind="multiline",
                required=False,
                initial=current,
                max_length=MAX_TEXT,
                hint="“none” if nothing blocks you" if i == entry.blocker_index else None,
            )
        )
    return Form(
        form_id=FORM_ID,
        title=f"Standup {engagement.key} · {entry.day.strftime('%d %b')}"[:24],
        inputs=inputs,
        submit_label="Save" if edit else "Send",
        state={"entry_id": entry.id},
        text=f"{engagement.name} — your standup for {_day(entry)}. Leave a question empty to skip it.",
    )


def _answers_section(e: StandupEntry, name: str, *, compact: bool) -> Card:
    assert e.answered_at is not None  # only answered entries get a section
    late = " · late" if e.late else ""
    other_day = e.answered_at.astimezone(zone_or_utc(e.answer_tz)).date() != e.day
    # An answer from another day than the standup's carries its date; the same day's, the time alone.
    stamp = (
        f"answered {_local_time(e, e.answered_at)} · {when(e.answered_at, 'datetime' if other_day else 'time')}{late}"
    )
    title = f"{mention(e.person_id, name)}{' (late)' if e.late else ''}"
    tone = "warning" if e.late else "info"
    pairs = list(zip(e.questions, e.answers or [], strict=False))
    if compact:
        lines = [f"{title} — {stamp}"] + [
            f"{i + 1}. {truncate(a, 600) if a else '—'}" for i, (_, a) in enumerate(pairs)
        ]
        return Card(text="\n".join(lines), tone=tone)
    fields = [Field(q, truncate(a, 1500) if a else "—", short=False) for q, a in pairs]
    return Card(title=title, fields=fields, footer=stamp, tone=tone)


def _local_time(entry: StandupEntry, answered_at: datetime) -> str:
    """'09:45 Asia/Kathmandu their time', with the date when it is not the standup's day: a zone's name,
    never an abbreviation or a bare offset (+0545)."""
    zone = zone_or_utc(entry.answer_tz)
    local = answered_at.astimezone(zone)
    day = f"{local:%a} {local.day} {local:%b} " if local.date() != entry.day else ""
    return f"{day}{local:%H:%M} {zone.key} their time"


def digest_card(engagement: Engagement, day: date, view: DigestDay, now: datetime) -> Card:
    """The digest of one standup date: blockers first, then each person's answers, then who is missing and
    who is away (`view`: queries.digest_day)."""
    answered, missing, away, names = view.answered, view.missing, view.away, view.names
    sections: list[Card] = []
    for e in answered:
        if e.blocker:
            root_day = view.blocker_since.get(e.id)
            since = f" (open since {day_text(root_day)})" if root_day else ""
            sections.append(
                Card(
                    title=f"Blocker — {mention(e.person_id, names.get(e.person_id, '?'))}{since}",
                    text=truncate(e.blocker, 1500),
                    tone="danger",
                    buttons=[
                        Button("Turn into defect", TO_DEFECT, str(e.id)),
                        Button("Turn into change request", TO_CR, str(e.id)),
                        Button("Action for the client", TO_ACTION, str(e.id)),
                    ],
                )
            )
    for e in answered:
        sections.append(_answers_section(e, names.get(e.person_id, "?"), compact=len(answered) > COMPACT_AFTER))
    if missing:
        sections.append(
            Card(
                title="Missing",
                text=", ".join(mention(p.id, p.display_name) + (f" ({note})" if note else "") for p, note in missing),
            )
        )
    if away:
        sections.append(
            Card(title="Away", text=", ".join(f"{mention(p.id, p.display_name)} ({reason})" for p, reason in away))
        )
    blockers = sum(1 for e in answered if e.blocker)
    total = len(answered) + len(missing)
    summary = [f"{len(answered)} of {total} answered"]
    if blockers:
        summary.append(plural(blockers, "blocker"))
    if missing:
        summary.append(f"{len(missing)} missing")
    if away:
        summary.append(f"{len(away)} away")
    late = sum(1 for e in answered if e.late)
    if late:
        summary.append(f"{late} late")
    text = " · ".join(summary)
    if len(answered) > COMPACT_AFTER:
        text += "\n" + "  ".join(f"{i + 1}. {q}" for i, q in enumerate(answered[0].questions))
    return Card(
        title=f"Standup digest · {engagement.name} · {day_text(day)}",
        text=text,
        sections=sections,
        tone="danger" if blockers else "good",
        footer=f"Updated {when(now, 'datetime')}" if late else "",
    )


# -- settings -------------------------------------------------------------------------------------------------
CONFIG_USAGE = (
    "`/standup config` opens the settings form. One-liners:\n"
    "• `config prompt 09:30` — local prompt time in each participant's zone\n"
    "• `config days mon-fri` — standup days\n"
    "• `config reminder 60` — minutes before the one reminder (0 = none)\n"
    "• `config digest 10:00 [Europe/Berlin]` — digest time (and zone; default the home zone)\n"
    "• `config channel here KEY` (in that channel) / `config channel home` — where the digest goes\n"
    "• `config question add Any risks?` · `question remove 2` · `question move 3 1` · `question blocker 3`\n"
    "• `config show`"
)


def settings_card(eng: Engagement) -> Card:
    conf = settings(eng)
    raw = feature_settings(eng, FEATURE)
    questions = "\n".join(
        f"{i + 1}. {q}{'  (blockers)' if i == conf.blocker_index else ''}" for i, q in enumerate(conf.questions)
    )
    return Card(
        title=f"Standup settings · {eng.key}",
        fields=[
            Field("Prompt", f"{format_hhmm(conf.prompt_time)} in each participant's own zone"),
            Field("Days", format_days(conf.days)),
            Field("Reminder", f"after {int(conf.reminder.total_seconds() // 60)} min" if conf.reminder else "none"),
            Field("Digest", f"{format_hhmm(conf.digest_time)} {conf.digest_zone.key}, the following client morning"),
            Field("Digest channel", "the digest channel" if raw.get("digest_channel") == "digest" else "home channel"),
            Field("Participants", "roles " + ", ".join(sorted(conf.roles)) + " + whoever `/standup join`s"),
            Field("Questions", questions or "none", short=False),
        ],
        text="" if conf.enabled else "Standups are switched off (`/standup config on`).",
    )


def setting_text(key: str, value: Any) -> str:
    """A setting's value as a change announcement shows it."""
    if value is None:
        return "default"
    if key == "days":
        return format_days(value)
    if isinstance(value, list):
        return " | ".join(str(v) for v in value) or "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def config_form(eng: Engagement) -> Form:
    conf = settings(eng)
    raw = feature_settings(eng, FEATURE)
    return Form(
        form_id=CONFIG_FORM,
        title="Standup settings",
        submit_label="Save",
        inputs=[
            Input(
                "prompt_time",
                "Prompt time (each participant's local time)",
                initial=format_hhmm(conf.prompt_time),
                placeholder=DEFAULTS["prompt_time"],
                max_length=8,
            ),
            Input(
                "days",
                "Standup days",
                initial=",".join(("mon", "tue", "wed", "thu", "fri", "sat", "sun")[d] for d in sorted(conf.days)),
                placeholder="mon-fri",
                max_length=40,
            ),
            Input(
                "questions",
                "Questions, one per line",
                kind="multiline",
                initial="\n".join(conf.questions),
                max_length=MAX_QUESTIONS * (MAX_QUESTION_LEN + 1),
            ),
            Input(
                "blocker_question",
                "Number of the blocker question (0 = none)",
                kind="number",
                initial=str(int(raw.get("blocker_question") or 0)),
            ),
            Input(
                "reminder_minutes",
                "Reminder after (minutes, 0 = none)",
                kind="number",
                initial=str(int(conf.reminder.total_seconds() // 60)),
            ),
            Input("digest_time", "Digest time", initial=format_hhmm(conf.digest_time), max_length=8),
            Input("digest_zone", "Digest time zone", initial=conf.digest_zone.key, max_length=64),
            Input(
                "digest_channel",
                "Post the digest in",
                kind="select",
                initial="digest" if raw.get("digest_channel") == "digest" else "home",
                options=[
                    Option("the home channel", "home"),
                    Option("the digest channel (`/standup config channel here`)", "digest"),
                ],
            ),
        ],
        state={"engagement_id": eng.id},
    )
