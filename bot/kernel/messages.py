"""The neutral message model. The domain speaks in Cards and Forms; each front end renders them into
Block Kit, Adaptive Cards or console text. Nothing here knows a platform."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from bot.kernel.text import strip_tokens

InputKind = Literal["text", "multiline", "select", "date", "number", "datetime"]
ButtonStyle = Literal["default", "primary", "danger"]


@dataclass
class Field:
    label: str
    value: str
    short: bool = True


@dataclass
class Button:
    label: str
    action_id: str  # routed to the action handler registered under this id, e.g. "cr.approve"
    value: str = ""  # opaque to front ends; re-validated server-side by the handler
    style: ButtonStyle = "default"
    # The person ids who may press it, when the feature knows them (a change request's approvers); None:
    # whoever the handler lets. Only a hint for front ends that can show a button to some people alone
    # (Teams user-specific views): the handler still decides every press, and Slack and the console
    # show the button to everyone.
    allowed: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.allowed is not None:  # stored as a JSON list; compared and hashed as a tuple
            self.allowed = tuple(int(pid) for pid in self.allowed)


@dataclass
class Option:
    label: str
    value: str


@dataclass
class Input:
    id: str
    label: str
    kind: InputKind = "text"
    required: bool = True
    initial: str | None = None
    placeholder: str | None = None
    options: list[Option] = field(default_factory=list)
    max_length: int | None = None
    hint: str | None = None


@dataclass
class Attachment:
    filename: str
    content_b64: str
    mime: str = "application/octet-stream"
    title: str | None = None


@dataclass
class Card:
    """A message: title, text, fields, buttons. `tone` hints colour (info, good, warning, danger)."""

    title: str = ""
    text: str = ""
    fields: list[Field] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    sections: list[Card] = field(default_factory=list)
    footer: str = ""
    tone: str = "info"
    attachments: list[Attachment] = field(default_factory=list)
    image_url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        # By hand, not dataclasses.asdict (a deep copy through every value): every outgoing message is
        # stored as this dict, and asdict was a tenth of the cost of firing a timer (bench/timer_lateness.py).
        return {
            "title": self.title,
            "text": self.text,
            "fields": [dict(vars(f)) for f in self.fields],
            "buttons": [dict(vars(b)) for b in self.buttons],
            "sections": [s.to_dict() for s in self.sections],
            "footer": self.footer,
            "tone": self.tone,
            "attachments": [dict(vars(a)) for a in self.attachments],
            "image_url": self.image_url,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Card:
        data = dict(data)
        data["fields"] = [Field(**f) for f in data.get("fields", [])]
        data["buttons"] = [Button(**b) for b in data.get("buttons", [])]
        data["sections"] = [Card.from_dict(s) for s in data.get("sections", [])]
        data["attachments"] = [Attachment(**a) for a in data.get("attachments", [])]
        return cls(**data)

    def plain(self) -> str:
        """A text fallback (notifications, logs)."""
        parts = [p for p in (self.title, self.text) if p]
        parts += [f"{f.label}: {f.value}" for f in self.fields]
        return strip_tokens("\n".join(parts))


@dataclass
class Form:
    """A form to open: Slack modal, Adaptive Card with inputs, console prompts.
    `form_id` routes the submission to the handler registered under it; `state` comes back with it
    (handlers still re-check everything: a client can tamper with it)."""

    form_id: str
    title: str
    inputs: list[Input]
    submit_label: str = "Submit"
    state: dict[str, Any] = field(default_factory=dict)
    text: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Form:
        data = dict(data)
        data["inputs"] = [
            Input(**{**i, "options": [Option(**o) for o in i.get("options", [])]}) for i in data["inputs"]
        ]
        return cls(**data)


@dataclass
class Reply:
    """What a command, click or form submission answers.

    - `private`: shown only to the person who acted (Slack ephemeral / Teams reply in the same
      conversation / console).
    - `public`: posted in the conversation where the person acted, visible to all.
    - `form`: a form to open for the person.
    - `update`: replaces the message whose button was clicked.
    - `errors`: per-input validation errors for a submitted form (nothing was changed).
    - `refused`: the request was refused as a whole (no permission, wrong state, bad input): nothing was
      changed. Distinct from success, so a front end keeps a submitted form open (Teams: the form card stays
      and only the presser sees why) instead of treating the submission as done.
    """

    private: list[Card] = field(default_factory=list)
    public: list[Card] = field(default_factory=list)
    form: Form | None = None
    update: Card | None = None
    errors: dict[str, str] = field(default_factory=dict)
    refused: bool = False

    @property
    def succeeded(self) -> bool:
        """The work was done: neither refused nor sent back with per-field errors."""
        return not self.refused and not self.errors

    @classmethod
    def say(cls, text: str, title: str = "", tone: str = "info") -> Reply:
        return cls(private=[Card(title=title, text=text, tone=tone)])

    @classmethod
    def refuse(cls, text: str) -> Reply:
        return cls(private=[Card(text=text, tone="warning")], refused=True)
