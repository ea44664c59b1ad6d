"""Neutral Card / Form → Block Kit, and modal submissions back to neutral values.

Every piece of text is escaped (`&`, `<`, `>`) before the inline tokens of bot/kernel/text.py are turned into
Slack syntax, so user text can never ping `<!channel>` or forge a link; only our own tokens become
`<!date^…>` or `<@U…>`. Block Kit limits are respected (50 blocks, 3000 characters of section text,
10 fields, 75 characters of button text, 24 of modal titles)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from bot.kernel import directory
from bot.kernel.messages import Card, Form, Input
from bot.kernel.text import TOKEN_RE, moment_text, parse_token, truncate

if TYPE_CHECKING:
    from bot.kernel.dispatcher import Cadence

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_FIELD = 2000
MAX_FIELDS = 10
MAX_BUTTON = 75
MAX_HEADER = 150
MAX_ACTIONS = 25
MAX_VALUE = 2000
MAX_MODAL_TITLE = 24
MAX_METADATA = 3000
ACTION_SEP = "#"  # Slack action_id = "<neutral action id>#<n>": unique within its block

TONE_EMOJI = {"warning": ":warning: ", "danger": ":red_circle: ", "good": ":white_check_mark: "}
DATE_FORMATS = {"datetime": "{date_short_pretty} {time}", "date": "{date_short_pretty}", "time": "{time}"}

Mentions = Mapping[int, str]  # person id → Slack user id (in this workspace)


def escape(text: str) -> str:
    """Slack's three control characters. After this, `<!channel>` is just text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fallback_time(epoch: int, style: str) -> str:
    return moment_text(datetime.fromtimestamp(epoch, UTC), style, "UTC")


def mrkdwn(text: str, mentions: Mentions | None = None) -> str:
    """Escape `text`, then render our tokens: times as `<!date^…>`, people as `<@U…>` or their name.
    (Token bodies are escaped with the rest, so their fallback text is safe as it stands.)"""
    mentions = mentions or {}

    def _token(m: re.Match[str]) -> str:
        kind = m.group(1)
        value, extra = parse_token(kind, m.group(2))
        if kind in ("time", "date"):
            try:
                epoch = int(value)
            except ValueError:
                return extra or value
            style = extra if extra in DATE_FORMATS else "datetime"
            fallback = _fallback_time(epoch, style)
            return f"<!date^{epoch}^{DATE_FORMATS[style]}|{fallback}>"
        if kind == "person":
            try:
                slack_id = mentions.get(int(value))
            except ValueError:
                slack_id = None
            return f"<@{slack_id}>" if slack_id else (extra or value)
        return extra or value

    return TOKEN_RE.sub(_token, escape(text))


def plain(text: str) -> str:
    """For plain_text objects (headers, button labels, titles): tokens become their fallback text."""

    def _token(m: re.Match[str]) -> str:
        kind = m.group(1)
        value, extra = parse_token(kind, m.group(2))
        if kind in ("time", "date"):
            try:
                return _fallback_time(int(value), extra if extra in DATE_FORMATS else "datetime")
            except ValueError:
                return extra or value
        return extra or value

    return TOKEN_RE.sub(_token, text)


def person_ids(cards: Iterable[Card | None]) -> set[int]:
    """Every person mentioned by a token anywhere in these cards."""
    ids: set[int] = set()

    def walk(card: Card) -> None:
        texts = [card.title, card.text, card.footer] + [f.label for f in card.fields] + [f.value for f in card.fields]
        for t in texts:
            for m in TOKEN_RE.finditer(t or ""):
                if m.group(1) == "person":
                    value, _ = parse_token("person", m.group(2))
                    if value.isdigit():
                        ids.add(int(value))
        for s in card.sections:
            walk(s)

    for c in cards:
        if c is not None:
            walk(c)
    return ids


async def load_mentions(core: Cadence | None, workspace_id: str, cards: Iterable[Card | None]) -> dict[int, str]:
    """Slack user ids (in `workspace_id`) of the people the cards mention (none without a core to ask)."""
    ids = person_ids(cards)
    if not ids or core is None:
        return {}
    return await directory.platform_user_ids(core, "slack", workspace_id, ids)


# -- cards ------------------------------------------------------------------------------------------


def _split(text: str, limit: int) -> list[str]:
    """Split rendered mrkdwn at line breaks into pieces of at most `limit` characters."""
    if len(text) <= limit:
        return [text]
    out: list[str] = []
    cur = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if cur:
                out.append(cur)
                cur = ""
            out.append(line[:limit])
            line = line[limit:]
        if cur and len(cur) + 1 + len(line) > limit:
            out.append(cur)
            cur = line
        else:
            cur = f"{cur}\n{line}" if cur else line
    if cur:
        out.append(cur)
    return out


def encode_action_id(action_id: str, n: int) -> str:
    return f"{action_id}{ACTION_SEP}{n}"


def decode_action_id(slack_action_id: str) -> str:
    base, sep, n = slack_action_id.rpartition(ACTION_SEP)
    return base if sep and n.isdigit() else slack_action_id


def card_blocks(card: Card, mentions: Mentions | None = None, *, nested: bool = False) -> list[dict[str, Any]]:
    """One card as Block Kit blocks (not yet bounded to 50: see `blocks_for`)."""
    blocks: list[dict[str, Any]] = []
    if card.title:
        if nested:
            title = f"*{mrkdwn(card.title, mentions)}*"
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": truncate(title, MAX_SECTION)}})
        else:
            title = TONE_EMOJI.get(card.tone, "") + plain(card.title)
            blocks.append(
                {"type": "header", "text": {"type": "plain_text", "text": truncate(title, MAX_HEADER), "emoji": True}}
            )
    if card.text:
        for piece in _split(mrkdwn(card.text, mentions), MAX_SECTION):
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": piece}})
    short: list[dict[str, str]] = []

    def flush() -> None:
        for i in range(0, len(short), MAX_FIELDS):
            blocks.append({"type": "section", "fields": short[i : i + MAX_FIELDS]})
        short.clear()

    for f in card.fields:
        body = f"*{mrkdwn(f.label, mentions)}*\n{mrkdwn(f.value, mentions) or '—'}"
        if f.short:
            short.append({"type": "mrkdwn", "text": truncate(body, MAX_FIELD)})
        else:
            flush()
            for piece in _split(body, MAX_SECTION):
                blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": piece}})
    flush()
    if card.image_url:
        blocks.append(
            {"type": "image", "image_url": card.image_url, "alt_text": truncate(plain(card.title) or "image", 2000)}
        )
    if card.buttons:
        elements = []
        for n, b in enumerate(card.buttons):
            el: dict[str, Any] = {
                "type": "button",
                "text": {"type": "plain_text", "text": truncate(plain(b.label), MAX_BUTTON), "emoji": True},
                "action_id": encode_action_id(b.action_id, n),
                "value": b.value[:MAX_VALUE],
            }
            if b.style in ("primary", "danger"):
                el["style"] = b.style
            elements.append(el)
        for i in range(0, len(elements), MAX_ACTIONS):
            blocks.append({"type": "actions", "elements": elements[i : i + MAX_ACTIONS]})
    for sub in card.sections:
        blocks.append({"type": "divider"})
        blocks.extend(card_blocks(sub, mentions, nested=True))
    if card.footer:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": truncate(mrkdwn(card.footer, mentions), MAX_SECTION)}],
            }
        )
    return blocks


def blocks_for(
    cards: Iterable[Card], mentions: Mentions | None = None, *, limit: int = MAX_BLOCKS
) -> list[dict[str, Any]]:
    """Several cards as one message (dividers between), bounded to Slack's block limit.
    Actions blocks get distinct block ids, so the same action id may appear in several of them."""
    blocks: list[dict[str, Any]] = []
    for i, card in enumerate(cards):
        if i:
            blocks.append({"type": "divider"})
        blocks.extend(card_blocks(card, mentions))
    if len(blocks) > limit:
        more = {"type": "context", "elements": [{"type": "mrkdwn", "text": "_…more not shown (message too long)._"}]}
        blocks = [*blocks[: limit - 1], more]
    n = 0
    for b in blocks:
        if b["type"] == "actions":
            b["block_id"] = f"cadence_actions_{n}"
            n += 1
    return blocks


def fallback_text(cards: Iterable[Card], mentions: Mentions | None = None) -> str:
    """The notification text of a message (also what screen readers get)."""
    parts: list[str] = []
    for c in cards:
        parts += [p for p in (c.title, c.text) if p]
    return truncate(mrkdwn("\n".join(parts), mentions), MAX_SECTION) or "Cadence"


def message(cards: Card | Iterable[Card], mentions: Mentions | None = None) -> dict[str, Any]:
    """`text` + `blocks` for chat.postMessage / chat.update / chat.postEphemeral / respond."""
    cards = [cards] if isinstance(cards, Card) else list(cards)
    return {"text": fallback_text(cards, mentions), "blocks": blocks_for(cards, mentions)}


def home_view(cards: list[Card], mentions: Mentions | None = None) -> dict[str, Any]:
    return {"type": "home", "blocks": blocks_for(cards, mentions, limit=100)}


# -- forms ------------------------------------------------------------------------------------------


def _initial_epoch(value: str) -> int | None:
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp())


def _element(inp: Input) -> dict[str, Any]:
    el: dict[str, Any]
    initial = inp.initial if inp.initial not in (None, "") else None
    if inp.kind in ("text", "multiline") or (inp.kind == "select" and not inp.options):
        el = {"type": "plain_text_input", "multiline": inp.kind == "multiline"}
        limit = min(inp.max_length or 3000, 3000)
        if inp.max_length:
            el["max_length"] = limit
        if initial is not None:
            el["initial_value"] = str(initial)[:limit]  # Slack refuses a view whose initial value is too long
    elif inp.kind == "select":
        options = [
            {"text": {"type": "plain_text", "text": truncate(plain(o.label), 75)}, "value": o.value[:150]}
            for o in inp.options[:100]
        ]
        el = {"type": "static_select", "options": options}
        chosen = next((o for o in options if o["value"] == initial), None)
        if chosen:
            el["initial_option"] = chosen
    elif inp.kind == "date":
        el = {"type": "datepicker"}
        if initial is not None:
            try:
                el["initial_date"] = date.fromisoformat(str(initial)[:10]).isoformat()
            except ValueError:
                pass
    elif inp.kind == "number":
        el = {"type": "number_input", "is_decimal_allowed": True}
        if initial is not None:
            try:
                float(str(initial).replace(",", ""))
                el["initial_value"] = str(initial).replace(",", "")
            except ValueError:
                pass  # Slack refuses a view whose number input starts with a non-number
    elif inp.kind == "datetime":
        el = {"type": "datetimepicker"}
        epoch = _initial_epoch(str(initial)) if initial is not None else None
        if epoch is not None:
            el["initial_date_time"] = epoch
    else:  # an unknown kind degrades to text rather than failing
        el = {"type": "plain_text_input"}
    el["action_id"] = inp.id
    if inp.placeholder and inp.kind not in ("datetime",):
        el["placeholder"] = {"type": "plain_text", "text": truncate(plain(inp.placeholder), 150)}
    return el


def modal(form: Form, metadata: dict[str, Any], mentions: Mentions | None = None) -> dict[str, Any]:
    """A modal view for `form`. `metadata` (form id, state, origin) goes into private_metadata."""
    blocks: list[dict[str, Any]] = []
    if form.text:
        for piece in _split(mrkdwn(form.text, mentions), MAX_SECTION):
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": piece}})
    for inp in form.inputs:
        block: dict[str, Any] = {
            "type": "input",
            "block_id": inp.id,
            "label": {"type": "plain_text", "text": truncate(plain(inp.label), 2000)},
            "element": _element(inp),
            "optional": not inp.required,
        }
        if inp.hint:
            block["hint"] = {"type": "plain_text", "text": truncate(plain(inp.hint), 2000)}
        blocks.append(block)
    private = json.dumps(metadata, separators=(",", ":"))
    if len(private) > MAX_METADATA:
        raise ValueError(f"form state too large for a Slack modal ({len(private)} characters)")
    return {
        "type": "modal",
        "callback_id": "cadence_form",
        "title": {"type": "plain_text", "text": truncate(plain(form.title) or "Cadence", MAX_MODAL_TITLE)},
        "submit": {"type": "plain_text", "text": truncate(plain(form.submit_label) or "Submit", MAX_MODAL_TITLE)},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": private,
        "blocks": blocks[:MAX_BLOCKS],
    }


def submitted_values(view: dict[str, Any]) -> dict[str, str]:
    """`view.state.values` → {input id: text}. Dates stay ISO (YYYY-MM-DD); date-times become ISO 8601
    in UTC; empty optional inputs give ""."""
    values: dict[str, str] = {}
    for block_id, actions in (view.get("state") or {}).get("values", {}).items():
        for _action_id, v in actions.items():
            kind = v.get("type")
            if kind == "static_select":
                opt = v.get("selected_option") or {}
                out = opt.get("value") or ""
            elif kind == "datepicker":
                out = v.get("selected_date") or ""
            elif kind == "datetimepicker":
                epoch = v.get("selected_date_time")
                out = datetime.fromtimestamp(int(epoch), UTC).isoformat() if epoch else ""
            elif kind == "timepicker":
                out = v.get("selected_time") or ""
            else:
                out = v.get("value") or ""
            values[block_id] = str(out)  # the core cleans every form value
    return values


def form_errors(form_inputs: Iterable[str], errors: Mapping[str, str]) -> dict[str, str]:
    """Reply.errors → `response_action: errors` (block ids are the input ids). An error about
    something that is not an input is shown on the first input, so it is never silently lost."""
    inputs = list(form_inputs)
    out: dict[str, str] = {}
    for key, msg in errors.items():
        target = key if key in inputs or not inputs else inputs[0]
        out[target] = f"{out[target]} {msg}".strip() if target in out else msg
    return {k: truncate(v, 2000) for k, v in out.items()}
