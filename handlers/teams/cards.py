"""Neutral Card / Form (bot/kernel/messages.py) → Adaptive Card 1.5 JSON for Microsoft Teams.

Pure functions: no I/O, no botbuilder import. Every piece of text goes through `render_text`, which
escapes markdown link / HTML / mention syntax in what the domain gives us (it may contain user input),
and turns the domain's inline tokens into their Teams form:

- time tokens → `{{DATE(2027-01-04T08:00:00Z, SHORT)}} {{TIME(2027-01-04T08:00:00Z)}}`, which Teams renders
  in the reader's own time zone;
- person tokens → `<at>Name</at>` plus a mention entity when the person has a Teams identity (`people`
  maps person id → (teams user id, name)), else the plain name.

Buttons are `Action.Execute` (verb = action id) with an `Action.Submit` fallback carrying the same data, so
a click arrives either as an `adaptiveCard/action` invoke or as a message activity with `value`.

Buttons only some people may press (`Button.allowed`) use Teams' user-specific views (Universal Actions
`refresh`, see `Views`): the card everyone sees names who decides instead of showing the buttons, and the
Teams client of each of those people (`refresh.userIds`, at most 60) asks the bot for their own view, which
has the buttons. The server still refuses anyone else's press.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.kernel.help import retype_commands
from bot.kernel.messages import Attachment, Button, Card, Form, Input
from bot.kernel.text import TOKEN_RE, parse_token, strip_tokens

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
# Key under which our routing data travels in Action.Execute / Action.Submit data.
DATA_KEY = "_cadence"
FORM_VERB = "cadence.form"
# Suffix of the Input.Time that accompanies the Input.Date of a `datetime` input.
TIME_SUFFIX = "__time"
# Images larger than this (base64 characters) are not inlined in the card (Teams caps a card near 28 KB);
# they are sent as a separate image attachment on the same message.
INLINE_IMAGE_LIMIT = 20_000
# The verb of a card's `refresh` action: Teams sends it as an `adaptiveCard/action` invoke when one of the
# card's `userIds` views it, and the bot answers with that person's view of the card.
REFRESH_VERB = "cadence.refresh"
# Teams refreshes a card automatically for at most 60 listed users ("Maximum 60 different users can see a
# different version of the card"); beyond that it offers no automatic refresh.
MAX_REFRESH_USERS = 60
# How many deciders a card names before "and N others".
NAMES_SHOWN = 5

_TONE_COLOR = {"good": "Good", "warning": "Warning", "danger": "Attention", "info": "Default"}
_TONE_STYLE = {"good": "good", "warning": "warning", "danger": "attention", "info": "emphasis"}
_BUTTON_STYLE = {"primary": "positive", "danger": "destructive", "default": "default"}

# Characters that could form a markdown link, an autolink, raw HTML or a mention in a TextBlock.
_ESCAPE_RE = re.compile(r"([\\\[\]<>])")
# The domain writes command hints for Slack (`/cr approve 7`): Teams users type the words after @Cadence
# (or directly in the personal chat), and Adaptive Card markdown shows backticks raw.
_CODE_RE = re.compile(r"`([^`\n]+)`")


def teams_words(text: str) -> str:
    """Slack-style command hints as Teams users type them: no leading slash, code spans in bold."""
    text = retype_commands(text, "")
    return _CODE_RE.sub(lambda m: f"**{m.group(1)}**", text)


def escape(text: str) -> str:
    """Make untrusted text inert in an Adaptive Card TextBlock: no `[x](url)` links, no `<at>` mentions,
    no HTML/autolinks, no `{{DATE()}}` template functions. Emphasis (`*`, `_`) is left alone."""
    text = _ESCAPE_RE.sub(r"\\\1", text)
    # A word joiner between braces keeps `{{DATE(...)}}` from being evaluated as a text function.
    return text.replace("{{", "{\u2060{").replace("}}", "}\u2060}")


@dataclass(frozen=True)
class FileLink:
    """A file served by Cadence behind a signed link that ends at `expires_at` (handlers/teams/files.py)."""

    url: str
    expires_at: datetime


@dataclass
class Mentions:
    """Mention entities collected while rendering one card (`msteams.entities`)."""

    entities: list[dict[str, Any]] = field(default_factory=list)

    def add(self, user_id: str, name: str) -> str:
        text = f"<at>{name}</at>"
        if not any(e["mentioned"]["id"] == user_id for e in self.entities):
            self.entities.append({"type": "mention", "text": text, "mentioned": {"id": user_id, "name": name}})
        return text


def _iso(ts: str) -> str:
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_text(
    text: str, people: Mapping[int, tuple[str, str]] | None = None, mentions: Mentions | None = None
) -> str:
    """Escape `text` and render its inline tokens for Teams."""
    people = people or {}
    out: list[str] = []
    pos = 0
    for m in TOKEN_RE.finditer(text or ""):
        out.append(escape(teams_words(text[pos : m.start()])))
        pos = m.end()
        kind = m.group(1)
        value, extra = parse_token(kind, m.group(2))
        if kind in ("time", "date"):
            try:
                iso = _iso(value)
            except (TypeError, ValueError, OverflowError):
                out.append(escape(value))
                continue
            style = extra or ("date" if kind == "date" else "datetime")
            if style == "date":
                out.append(f"{{{{DATE({iso}, SHORT)}}}}")
            elif style == "time":
                out.append(f"{{{{TIME({iso})}}}}")
            else:
                out.append(f"{{{{DATE({iso}, SHORT)}}}} {{{{TIME({iso})}}}}")
        elif kind == "person":
            try:
                who = people.get(int(value))
            except ValueError:
                who = None
            name = _mention_name(extra or value)
            if who and mentions is not None:
                user_id, known_name = who
                out.append(mentions.add(user_id, _mention_name(known_name or name)))
            else:
                out.append(escape(extra or value))
        else:  # pragma: no cover - TOKEN_RE only knows the kinds above
            out.append(escape(extra or value))
    out.append(escape(teams_words((text or "")[pos:])))
    return "".join(out)


def _zone(tz: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def plain_text(text: str, tz: str | None) -> str:
    """Text for places without card rendering (the pop-up answer to a button, a notification preview):
    times in the reader's own zone `tz`, written as people read them, never an ISO string."""
    zone = _zone(tz)
    label = zone.key if zone.key != "UTC" else "UTC"

    def render(kind: str, value: str, extra: str) -> str:
        if kind in ("time", "date"):
            try:
                at = datetime.fromtimestamp(int(value), UTC).astimezone(zone)
            except (TypeError, ValueError, OverflowError):
                return value
            style = extra or ("date" if kind == "date" else "datetime")
            if style == "date":
                return f"{at:%a} {at.day} {at:%b}"
            if style == "time":
                return f"{at:%H:%M} ({label})"
            return f"{at:%a} {at.day} {at:%b} {at:%H:%M} ({label})"
        return extra or value

    return teams_words(strip_tokens(text or "", render)).replace("**", "")


def card_plain(card: Card, tz: str | None) -> str:
    """A card as one plain text (title, text, fields) for `plain_text`'s places."""
    parts = [p for p in (card.title, card.text) if p]
    parts += [f"{f.label}: {f.value}" for f in card.fields]
    return plain_text("\n".join(parts), tz)


def _mention_name(name: str) -> str:
    # Inside <at>…</at>: no angle brackets, no markdown link brackets.
    return re.sub(r"[<>\[\]\\{}]", "", name).strip() or "someone"


def person_ids(text: str) -> set[int]:
    """Person ids referenced by tokens in `text` (to look up their Teams identities before rendering)."""
    ids: set[int] = set()
    for m in TOKEN_RE.finditer(text or ""):
        if m.group(1) == "person":
            value, _ = parse_token("person", m.group(2))
            if value.isdigit():
                ids.add(int(value))
    return ids


def card_person_ids(card: Card | Form) -> set[int]:
    ids: set[int] = set()
    if isinstance(card, Form):
        ids |= person_ids(card.title) | person_ids(card.text)
        for i in card.inputs:
            ids |= person_ids(i.label) | person_ids(i.hint or "")
        return ids
    for t in (card.title, card.text, card.footer):
        ids |= person_ids(t)
    for f in card.fields:
        ids |= person_ids(f.label) | person_ids(f.value)
    for s in card.sections:
        ids |= card_person_ids(s)
    return ids


def _text_block(text: str, **props: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **props}


def _text_blocks(text: str, **props: Any) -> list[dict[str, Any]]:
    """Rendered multi-line text as one TextBlock per line: Teams joins the lines of one block written with
    single newlines into a run-on line. Blank lines become a little space before the next block."""
    blocks: list[dict[str, Any]] = []
    gap = False
    for line in text.split("\n"):
        if not line.strip():
            gap = True
            continue
        extra = {} if not blocks else {"spacing": "Medium" if gap else "None"}
        blocks.append(_text_block(line, **{**props, **extra}))
        gap = False
    return blocks or [_text_block(text, **props)]


@dataclass(frozen=True)
class Views:
    """How a card's restricted buttons (`Button.allowed`) are shown.

    - `viewer`: the card is for this one person (their 1:1 chat, or their own view answering a refresh):
      the buttons they may press are shown, the others are replaced by a line naming who decides.
    - else, with `ref` (what the refresh invoke re-renders the card from: a stored message), the card is the
      base everyone sees: restricted buttons become that line, and `refresh.userIds` lists the Teams ids of
      the allowed people, whose clients ask for their own view. When some allowed person's Teams id is
      unknown, or there are more than MAX_REFRESH_USERS of them, the buttons stay in the base card (the
      server refuses whoever may not press) and `refresh` has no `userIds` (Teams' rule: then it refreshes
      for everyone in a conversation of up to 60 members, and anyone may refresh by hand).
    - Without either (a reply nobody can refresh), the buttons are shown to everyone, as before.
    """

    mris: Mapping[int, str] = field(default_factory=dict)  # person id → Teams user id (MRI, `29:…`)
    names: Mapping[int, str] = field(default_factory=dict)  # person id → display name
    unreachable: frozenset[int] = frozenset()  # allowed people with a Teams identity but no known MRI
    viewer: int | None = None
    ref: Mapping[str, Any] | None = None


def restricted_ids(card: Card) -> set[int]:
    """Every person id that some button of `card` (or of its sections) is restricted to."""
    ids: set[int] = set()
    for b in card.buttons:
        ids.update(b.allowed or ())
    for s in card.sections:
        ids |= restricted_ids(s)
    return ids


def has_restricted(card: Card) -> bool:
    return any(b.allowed is not None for b in card.buttons) or any(has_restricted(s) for s in card.sections)


def _all_allowed(card: Card) -> list[int]:
    out: list[int] = []
    for b in card.buttons:
        out += [p for p in b.allowed or () if p not in out]
    for s in card.sections:
        out += [p for p in _all_allowed(s) if p not in out]
    return out


def _names(ids: tuple[int, ...], names: Mapping[int, str]) -> str:
    shown = [_mention_name(names.get(pid, f"person {pid}")) for pid in ids[:NAMES_SHOWN]]
    rest = len(ids) - len(shown)
    if rest:
        return ", ".join(shown) + f" and {rest} other{'s' if rest > 1 else ''}"
    if len(shown) > 1:
        return ", ".join(shown[:-1]) + " and " + shown[-1]
    return shown[0] if shown else "nobody yet"


def _split_buttons(
    buttons: list[Button], views: Views | None, hide: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The actions to render, and the lines saying who may press the buttons left out: for the viewer, the
    ones they may not press; in the base card (`hide`), every restricted one."""
    actions: list[dict[str, Any]] = []
    left_out: dict[tuple[int, ...], list[str]] = {}
    for b in buttons:
        if b.allowed is not None and views is not None:
            shown = views.viewer in b.allowed if views.viewer is not None else not hide
            if not shown:
                left_out.setdefault(b.allowed, []).append(b.label)
                continue
        actions.append(render_button(b, views.ref if views is not None else None))
    lines = [
        _text_block(
            escape(f"{' / '.join(labels)}: for {_names(ids, views.names if views else {})}"),
            isSubtle=True,
            size="Small",
        )
        for ids, labels in left_out.items()
    ]
    return actions, lines


def _hides(card: Card, views: Views | None) -> bool:
    """Whether the base card leaves its restricted buttons out (see `Views`)."""
    if views is None or views.viewer is not None or views.ref is None:
        return False
    allowed = _all_allowed(card)
    reachable = [pid for pid in allowed if pid in views.mris]
    return len(reachable) <= MAX_REFRESH_USERS and not views.unreachable.intersection(allowed)


def _refresh(card: Card, views: Views | None, hide: bool) -> dict[str, Any] | None:
    """The card's `refresh` block: the invoke Teams sends for a listed person's own view."""
    if views is None or views.ref is None or not has_restricted(card):
        return None
    data = {DATA_KEY: {"t": "refresh", **views.ref}}
    action = {"type": "Action.Execute", "title": "Refresh", "verb": REFRESH_VERB, "data": data}
    refresh: dict[str, Any] = {"action": action}
    ids = [views.mris[pid] for pid in _all_allowed(card) if pid in views.mris]
    if len(ids) <= MAX_REFRESH_USERS:  # beyond that Teams takes no list: no automatic refresh for anyone
        refresh["userIds"] = ids
    return refresh


def _action_data(button: Button, ref: Mapping[str, Any] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"t": "action", "id": button.action_id}
    if ref:
        # The stored message the card came from: the card a click turns it into keeps its refresh.
        meta.update(ref)
    return {DATA_KEY: meta, "value": button.value}


def render_button(button: Button, ref: Mapping[str, Any] | None = None) -> dict[str, Any]:
    data = _action_data(button, ref)
    style = _BUTTON_STYLE.get(button.style, "default")
    action: dict[str, Any] = {
        "type": "Action.Execute",
        "title": button.label,
        "verb": button.action_id,
        "data": data,
        "fallback": {"type": "Action.Submit", "title": button.label, "data": data},
    }
    if style != "default":
        action["style"] = style
        action["fallback"]["style"] = style
    return action


def _body(
    card: Card,
    people: Mapping[int, tuple[str, str]],
    mentions: Mentions,
    top: bool,
    files: Mapping[str, FileLink] | None = None,
    views: Views | None = None,
    hide: bool = False,
) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = []
    if card.title:
        body.append(
            _text_block(
                render_text(card.title, people, mentions),
                size="Medium" if top else "Default",
                weight="Bolder",
                color=_TONE_COLOR.get(card.tone, "Default"),
            )
        )
    if card.text:
        body.extend(_text_blocks(render_text(card.text, people, mentions)))
    facts: list[dict[str, str]] = []
    for f in card.fields:
        label = render_text(f.label, people, mentions)
        value = render_text(f.value, people, mentions) or "—"
        if f.short and "{{" not in value and "\n" not in value:
            facts.append({"title": label, "value": value})
        else:
            if facts:
                body.append({"type": "FactSet", "facts": facts})
                facts = []
            body.append(_text_block(f"**{label}**", spacing="Small"))
            body.extend(_text_blocks(value, spacing="None"))
    if facts:
        body.append({"type": "FactSet", "facts": facts})
    if card.image_url and card.image_url.startswith(("https://", "data:image/")):
        body.append({"type": "Image", "url": card.image_url, "altText": card.title or "image"})
    for a in card.attachments:
        if a.mime.startswith("image/") and len(a.content_b64) <= INLINE_IMAGE_LIMIT:
            body.append(
                {"type": "Image", "url": f"data:{a.mime};base64,{a.content_b64}", "altText": a.title or a.filename}
            )
        elif a.mime.startswith("image/"):
            body.append(_text_block(f"📎 {escape(a.title or a.filename)} (image below)", isSubtle=True, size="Small"))
        elif files and a.filename in files:
            body.append(_text_block(_file_link(a, files[a.filename])))
        else:
            body.append(_text_block(_file_note(a.filename, a.content_b64, a.title), isSubtle=True, size="Small"))
    for s in card.sections:
        inner = _body(s, people, mentions, top=False, files=files, views=views, hide=hide)
        actions, lines = _split_buttons(s.buttons, views, hide)
        if actions:
            inner.append({"type": "ActionSet", "actions": actions})
        inner += lines
        if inner:
            body.append({"type": "Container", "separator": True, "spacing": "Medium", "items": inner})
    if top and card.footer:
        body.append(_text_block(render_text(card.footer, people, mentions), isSubtle=True, size="Small"))
    return body


def _kb(content_b64: str) -> int:
    try:
        size = len(base64.b64decode(content_b64, validate=False))
    except (ValueError, TypeError):
        size = 0
    return max(1, round(size / 1024)) if size else 0


def _file_link(a: Attachment, link: FileLink) -> str:
    """A download link Cadence serves; its end in the reader's own time."""
    iso = link.expires_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    name = _mention_name(a.title or a.filename)
    return (
        f"📎 [{name}]({link.url}) ({escape(a.filename)}, {_kb(a.content_b64)} KB) — "
        f"download link valid until {{{{TIME({iso})}}}}; ask again for a fresh one."
    )


def _file_note(filename: str, content_b64: str, title: str | None) -> str:
    label = escape(title or filename)
    return (
        f"📎 {label} ({escape(filename)}, {_kb(content_b64)} KB) — Cadence has no public address for "
        "download links yet (PUBLIC_URL); get it from Slack or the console."
    )


def render_card(
    card: Card,
    people: Mapping[int, tuple[str, str]] | None = None,
    files: Mapping[str, FileLink] | None = None,
    views: Views | None = None,
) -> dict[str, Any]:
    """An Adaptive Card (the attachment content) for a neutral Card; `files` are the download links of its
    non-image attachments (filename → link); `views`: how restricted buttons are shown (see `Views`)."""
    people = people or {}
    mentions = Mentions()
    hide = _hides(card, views)
    body = _body(card, people, mentions, top=True, files=files, views=views, hide=hide)
    actions, lines = _split_buttons(card.buttons, views, hide)
    body += lines
    if card.tone in ("good", "warning", "danger"):
        body = [{"type": "Container", "style": _TONE_STYLE[card.tone], "bleed": True, "items": body}]
    content: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "body": body or [_text_block(" ")],
        "msteams": {"width": "Full"},
    }
    if actions:
        content["actions"] = actions
    refresh = _refresh(card, views, hide)
    if refresh is not None:
        content["refresh"] = refresh
    if mentions.entities:
        content["msteams"]["entities"] = mentions.entities
    return content


def large_images(card: Card) -> list[dict[str, str]]:
    """Image attachments too large to inline in the card: sent as message attachments (data URLs)."""
    return [
        {"contentType": a.mime, "contentUrl": f"data:{a.mime};base64,{a.content_b64}", "name": a.filename}
        for a in card.attachments
        if a.mime.startswith("image/") and len(a.content_b64) > INLINE_IMAGE_LIMIT
    ]


def _input(
    inp: Input, people: Mapping[int, tuple[str, str]], mentions: Mentions, values: Mapping[str, str] | None
) -> list[dict[str, Any]]:
    label = render_text(inp.label, people, mentions)
    initial = (values or {}).get(inp.id, inp.initial)
    common: dict[str, Any] = {"id": inp.id, "label": label, "isRequired": bool(inp.required)}
    if inp.required:
        common["errorMessage"] = f"{inp.label} is required."
    elements: list[dict[str, Any]] = []
    if inp.kind in ("text", "multiline"):
        el = {"type": "Input.Text", **common}
        if inp.kind == "multiline":
            el["isMultiline"] = True
        if inp.max_length:
            el["maxLength"] = int(inp.max_length)
        if inp.placeholder:
            el["placeholder"] = inp.placeholder
        if initial:
            el["value"] = str(initial)
        elements.append(el)
    elif inp.kind == "select":
        el = {
            "type": "Input.ChoiceSet",
            "style": "compact",
            **common,
            "choices": [{"title": o.label, "value": o.value} for o in inp.options],
        }
        if initial:
            el["value"] = str(initial)
        if inp.placeholder:
            el["placeholder"] = inp.placeholder
        elements.append(el)
    elif inp.kind == "date":
        el = {"type": "Input.Date", **common}
        if initial:
            el["value"] = str(initial)[:10]
        elements.append(el)
    elif inp.kind == "number":
        el = {"type": "Input.Number", **common}
        if initial not in (None, ""):
            try:
                el["value"] = float(initial) if "." in str(initial) else int(initial)
            except ValueError:
                pass
        if inp.placeholder:
            el["placeholder"] = inp.placeholder
        elements.append(el)
    elif inp.kind == "datetime":
        date_part, time_part = _split_datetime(initial)
        d = {"type": "Input.Date", **common}
        if date_part:
            d["value"] = date_part
        t = {"type": "Input.Time", "id": inp.id + TIME_SUFFIX, "isRequired": bool(inp.required)}
        if inp.required:
            t["errorMessage"] = f"{inp.label}: the time is required."
        if time_part:
            t["value"] = time_part
        elements.append(
            {
                "type": "ColumnSet",
                "columns": [
                    {"type": "Column", "width": "stretch", "items": [d]},
                    {"type": "Column", "width": "stretch", "items": [{**t, "label": "Time"}]},
                ],
            }
        )
    else:  # unknown kind: a plain text input is the safe fallback
        elements.append({"type": "Input.Text", **common, **({"value": str(initial)} if initial else {})})
    if inp.hint:
        elements.append(
            _text_block(render_text(inp.hint, people, mentions), isSubtle=True, size="Small", spacing="None")
        )
    return elements


def _split_datetime(value: str | None) -> tuple[str, str]:
    if not value:
        return "", ""
    value = str(value).strip().replace("T", " ")
    date_part, _, time_part = value.partition(" ")
    return date_part[:10], time_part[:5]


def render_form(
    form: Form,
    people: Mapping[int, tuple[str, str]] | None = None,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    *,
    dialog: bool = False,
) -> dict[str, Any]:
    """An Adaptive Card with inputs for a neutral Form; `errors` (input id → message) are shown under
    their inputs and `values` (what was submitted) are kept. `dialog`: for a dialog (task module), whose
    submit button is an Action.Submit (it arrives as a `task/submit` invoke)."""
    people = people or {}
    errors = errors or {}
    mentions = Mentions()
    body: list[dict[str, Any]] = []
    if form.title:
        body.append(_text_block(render_text(form.title, people, mentions), size="Medium", weight="Bolder"))
    if form.text:
        body.extend(_text_blocks(render_text(form.text, people, mentions)))
    known = {i.id for i in form.inputs}
    general = [msg for key, msg in errors.items() if key not in known]
    if errors:
        body.append(
            _text_block(
                "⚠️ " + escape("Please correct the highlighted fields." if not general else " ".join(general)),
                color="Attention",
                weight="Bolder",
            )
        )
    for inp in form.inputs:
        body.extend(_input(inp, people, mentions, values))
        if inp.id in errors:
            body.append(_text_block("⚠️ " + escape(errors[inp.id]), color="Attention", size="Small", spacing="None"))
    # The form itself travels with the submission so it can be shown again with per-field errors.
    data = {
        DATA_KEY: {
            "t": "form",
            "id": form.form_id,
            "state": form.state,
            "title": form.title[:150],
            "form": form.to_dict(),
        }
    }
    submit: dict[str, Any] = {"type": "Action.Submit", "title": form.submit_label, "data": data, "style": "positive"}
    if not dialog:
        submit = {
            "type": "Action.Execute",
            "title": form.submit_label,
            "verb": FORM_VERB,
            "data": data,
            "associatedInputs": "auto",
            "style": "positive",
            "fallback": submit,
        }
    content: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "body": body,
        "actions": [submit],
        "msteams": {"width": "Full"},
    }
    if mentions.entities:
        content["msteams"]["entities"] = mentions.entities
    return content


def dialog_launcher(form: Form) -> dict[str, Any]:
    """What a channel sees instead of a form: a button that opens the form in a dialog (task module) for
    whoever presses it, so a form, its draft and its answer stay with one person."""
    data = {"msteams": {"type": "task/fetch"}, DATA_KEY: {"t": "dialog", "form": form.to_dict()}}
    body = [_text_block(render_text(form.title), size="Medium", weight="Bolder")]
    body.append(_text_block("Opens a form only you can see.", isSubtle=True, size="Small"))
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "body": body,
        "actions": [{"type": "Action.Submit", "title": f"Open: {form.submit_label}", "data": data}],
        "msteams": {"width": "Full"},
    }


def dialog_form(data: Any) -> Form | None:
    """The form a `task/fetch` invoke asks for (its launcher's data), or None if not ours."""
    meta = data.get(DATA_KEY) if isinstance(data, dict) else None
    if not isinstance(meta, dict) or meta.get("t") != "dialog" or not isinstance(meta.get("form"), dict):
        return None
    try:
        return Form.from_dict(meta["form"])
    except (TypeError, KeyError, ValueError):
        return None


def task_continue(title: str, content: dict[str, Any]) -> dict[str, Any]:
    """Body of a `task/fetch` / `task/submit` answer that shows (or keeps) a card in the dialog."""
    return {
        "task": {"type": "continue", "value": {"title": title[:100], "width": "medium", "card": attachment(content)}}
    }


def task_message(text: str) -> dict[str, Any]:
    """Body of a `task/submit` answer that closes the dialog with a short message to the presser."""
    return {"task": {"type": "message", "value": text}}


@dataclass
class Submission:
    """What a click or a form submit carried, whichever way it arrived."""

    kind: str  # "action" | "form"
    id: str  # action id or form id
    value: str = ""
    values: dict[str, str] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    title: str = ""
    form: Form | None = None
    ref: dict[str, int] | None = None  # the stored message the card came from (see `refresh_ref`)


def refresh_ref(meta: Mapping[str, Any]) -> dict[str, int] | None:
    """The stored-message reference in a card's data (`{"o": outbox id}`), or None when it is missing or not
    a positive integer. Only a reference: whoever uses it checks that the message is the conversation's."""
    raw = meta.get("o")
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw < 2**63:
        return None
    return {"o": raw}


def refresh_target(data: Any) -> dict[str, int] | None:
    """The stored-message reference a refresh invoke (verb REFRESH_VERB) carries, or None when it is missing
    or malformed."""
    meta = data.get(DATA_KEY) if isinstance(data, dict) else None
    if not isinstance(meta, dict) or meta.get("t") != "refresh":
        return None
    return refresh_ref(meta)


def parse_submission(data: Any, verb: str | None = None) -> Submission | None:
    """Read Action.Execute data (`verb` given) or Action.Submit `activity.value`. None if not ours."""
    if not isinstance(data, dict):
        return None
    meta = data.get(DATA_KEY)
    if not isinstance(meta, dict):
        # An Action.Execute from a card we did not render with routing data: the verb is the action id.
        if verb and verb != FORM_VERB:
            return Submission(kind="action", id=verb, value=str(data.get("value", "")))
        return None
    kind = meta.get("t")
    ident = str(meta.get("id") or verb or "")
    if kind == "action" and ident:
        return Submission(kind="action", id=ident, value=str(data.get("value", "") or ""), ref=refresh_ref(meta))
    if kind == "form" and ident:
        raw_state = meta.get("state")
        state: dict[str, Any] = raw_state if isinstance(raw_state, dict) else {}
        raw = {k: v for k, v in data.items() if k not in (DATA_KEY, "msteams")}
        form = None
        if isinstance(meta.get("form"), dict):
            try:
                form = Form.from_dict(meta["form"])
                form.state = state
            except (TypeError, KeyError, ValueError):
                form = None
        return Submission(
            kind="form",
            id=ident,
            values=combine_inputs(raw),
            state=state,
            title=str(meta.get("title") or ""),
            form=form,
        )
    return None


def combine_inputs(raw: Mapping[str, Any]) -> dict[str, str]:
    """Input values as strings; a `datetime` input's date and time parts become `YYYY-MM-DD HH:MM`."""
    values: dict[str, str] = {}
    for key, value in raw.items():
        if key.endswith(TIME_SUFFIX):
            continue
        text = "" if value is None else str(value)
        if isinstance(value, float) and value.is_integer():
            text = str(int(value))
        tkey = key + TIME_SUFFIX
        if raw.get(tkey):
            text = f"{text} {raw[tkey]}".strip()
        values[key] = text
    return values


def attachment(content: dict[str, Any]) -> dict[str, Any]:
    """The message attachment wrapping an Adaptive Card."""
    return {"contentType": CONTENT_TYPE, "content": content}


def invoke_card_response(content: dict[str, Any]) -> dict[str, Any]:
    """Body of an `adaptiveCard/action` invoke response that replaces the card for the person who clicked."""
    return {"statusCode": 200, "type": CONTENT_TYPE, "value": content}


def invoke_error_response(status: int, message: str) -> dict[str, Any]:
    """Body of an `adaptiveCard/action` invoke response refusing the request (Universal Actions' error type)."""
    code = "BadRequest" if status == 400 else "NotFound" if status == 404 else "Forbidden"
    return {
        "statusCode": status,
        "type": "application/vnd.microsoft.error",
        "value": {"code": code, "message": message},
    }


def invoke_message_response(text: str) -> dict[str, Any]:
    """Body of an `adaptiveCard/action` invoke response that shows a short message and keeps the card."""
    return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text}
