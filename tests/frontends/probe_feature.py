"""A tiny feature used only by the Slack end-to-end tests: a modal with every input kind, and an
approval card with the rules the real features follow (only an approver may click; a second click
is told it was already decided). It lets the Slack tests exercise every path of the front end
without depending on the state of the real features."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.kernel.context import Ctx
from bot.kernel.messages import Button, Card, Field, Form, Input, Option, Reply
from bot.kernel.registry import Registry
from bot.kernel.text import person, when

FORM = "zzprobe.form"
APPROVE = "zzprobe.approve"
REJECT = "zzprobe.reject"


@dataclass
class Probe:
    items: dict[int, dict] = field(default_factory=dict)
    submissions: list[dict] = field(default_factory=list)
    dm_texts: list[str] = field(default_factory=list)

    def register(self, registry: Registry) -> None:
        registry.add_command("cadence", "zzprobe", self.open_form, usage="/cadence zzprobe", summary="test form")
        registry.add_form(FORM, self.submitted)
        registry.add_action(APPROVE, self.approve)
        registry.add_action(REJECT, self.approve)

        async def home(session, core, person_):
            return [
                Card(
                    title="Pending approvals",
                    text=f"PROBE-1 waits for you, due {when(core.clock.now())}",
                    buttons=[Button("Approve", APPROVE, "1", "primary")],
                )
            ]

        registry.add_home_section(home)

        async def dm(ctx, text):
            if not text.startswith("zz"):
                return None
            self.dm_texts.append(text)
            return Reply.say(f"Noted: {text}")

        registry.add_dm_listener(dm)

    async def open_form(self, ctx: Ctx) -> Reply:
        return Reply(
            form=Form(
                FORM,
                "Probe request",
                [
                    Input("title", "Title", max_length=80, placeholder="Short title"),
                    Input("details", "Details", kind="multiline", required=False),
                    Input(
                        "priority",
                        "Priority",
                        kind="select",
                        options=[Option("High", "high"), Option("Low", "low")],
                        initial="low",
                    ),
                    Input("wanted", "Wanted by", kind="date", required=False),
                    Input("hours", "Effort (hours)", kind="number", required=False),
                    Input("at", "Meeting", kind="datetime", required=False),
                ],
                submit_label="File it",
                state={"origin": "probe", "n": 7},
            )
        )

    async def submitted(self, ctx: Ctx, values: dict[str, str], state: dict) -> Reply:
        if values.get("title", "").strip().lower() == "refuse me":  # a refusal as a whole, as permissions give
            return Reply.refuse("You may not file this probe. Nothing was changed.")
        errors = {}
        if values.get("title", "").strip().lower() == "bad":
            errors["title"] = "A title cannot be just “bad”."
        if values.get("hours") and not values["hours"].replace(".", "", 1).isdigit():
            errors["hours"] = "Effort must be a number of hours."
        if errors:
            return Reply(errors=errors)
        n = len(self.items) + 1
        self.items[n] = {"decided_by": None, "by_person": ctx.person.id}
        self.submissions.append({"values": values, "state": state, "place": ctx.place})
        card = Card(
            title=f"PROBE-{n}: {values['title']}",
            text=values.get("details", ""),
            fields=[
                Field("Priority", values["priority"]),
                Field("Requested by", person(ctx.person.id, ctx.person.display_name)),
            ],
            buttons=[Button("Approve", APPROVE, str(n), "primary"), Button("Reject", REJECT, str(n), "danger")],
        )
        return Reply(private=[Card(text=f"Filed PROBE-{n}.")], public=[card])

    async def approve(self, ctx: Ctx, value: str) -> Reply:
        item = self.items.get(int(value or 0))
        if item is None:
            return Reply.refuse("No such probe.")
        if "client_sponsor" not in ctx.roles:
            return Reply.refuse("Only a client sponsor can approve PROBE items. Nothing was changed.")
        if item["decided_by"]:
            return Reply.say(f"PROBE-{value} was already approved by {item['decided_by']} ({when(item['at'])}).")
        item["decided_by"] = ctx.person.display_name
        item["at"] = ctx.now
        return Reply(
            update=Card(
                title=f"PROBE-{value}: approved",
                text=f"Approved by {person(ctx.person.id, ctx.person.display_name)} at {when(ctx.now)}",
            ),
            private=[Card(text=f"You approved PROBE-{value}.")],
        )
