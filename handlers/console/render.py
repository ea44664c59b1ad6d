"""Cards and forms as readable text, times in the viewer's zone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.kernel.messages import Card, Form
from bot.kernel.text import moment_text, strip_tokens

TONE = {"good": "✔", "warning": "!", "danger": "‼", "info": "•"}


def render_text(text: str, viewer_tz: ZoneInfo, names: Callable[[int], str] | None = None) -> str:
    def token(kind: str, value: str, extra: str) -> str:
        if kind == "time":
            dt = datetime.fromtimestamp(int(value), tz=UTC).astimezone(viewer_tz)
            return moment_text(dt, extra if extra in ("date", "time") else "datetime")
        if kind == "person":
            return "@" + (names(int(value)) if names else (extra or value))
        return extra or value

    return strip_tokens(text, token)


def render_card(card: Card, viewer_tz: ZoneInfo, *, numbering: list | None = None, indent: str = "") -> str:
    """`numbering` collects (action_id, value, label) of each button so `click N` can press it."""
    lines: list[str] = []
    head = render_text(card.title, viewer_tz) if card.title else ""
    if head:
        lines.append(f"{indent}{TONE.get(card.tone, '•')} {head}")
    if card.text:
        lines.extend(indent + "  " + line for line in render_text(card.text, viewer_tz).splitlines())
    for f in card.fields:
        value = render_text(f.value, viewer_tz).replace("\n", "\n" + indent + "    ")
        lines.append(f"{indent}  {render_text(f.label, viewer_tz)}: {value}")
    for section in card.sections:
        lines.append(render_card(section, viewer_tz, numbering=numbering, indent=indent + "  "))
    if card.buttons:
        labels = []
        for b in card.buttons:
            if numbering is not None:
                numbering.append((b.action_id, b.value, b.label))
                labels.append(f"[{len(numbering)}] {b.label}")
            else:
                labels.append(f"[{b.label}]")
        lines.append(indent + "  " + "  ".join(labels))
    for a in card.attachments:
        lines.append(f"{indent}  📎 {a.filename} ({a.mime})")
    if card.footer:
        lines.append(indent + "  " + render_text(card.footer, viewer_tz))
    return "\n".join(lines)


def render_form(form: Form, viewer_tz: ZoneInfo) -> str:
    lines = [f"▤ {form.title}"]
    if form.text:
        lines.append("  " + render_text(form.text, viewer_tz))
    for i in form.inputs:
        opts = f" ({'/'.join(o.value for o in i.options)})" if i.options else ""
        req = "" if i.required else " [optional]"
        lines.append(f"  - {i.id}: {i.label}{opts}{req}")
    return "\n".join(lines)
