"""The standup job end to end through the real Teams front end: prompts in each person's 1:1 chat at
09:30 in their zone, answers in the chat and in an Adaptive Card form, the digest in the home
channel with blockers first, and a blocker turned into a change request form."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.features.standups.support import goto
from tests.frontends.teams.harness import card_text, find_action

UTC = UTC


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def mention(name: str) -> dict:
    return {
        "type": "mention",
        "text": f"<at>{name.capitalize()}</at>",
        "mentioned": {"id": f"29:{name}", "name": name.capitalize()},
    }


async def test_standup_day_on_teams(teams):
    asha = teams.user("asha", tz="Europe/London")
    victor = teams.user("victor", tz="Asia/Kolkata")
    dev = teams.user("dev", tz="Asia/Kathmandu")
    general = teams.channel("general")
    await teams.say(asha, "cadence setup ACME Acme web shop as client_sponsor", where=general)
    # Asha seats the vendor's first admin, who seats the developer.
    for user, role, seater in ((victor, "vendor_pm", asha), (dev, "developer", victor)):
        await teams.say(user, "cadence whoami", where=general)
        await teams.say(user, "cadence whoami")  # the 1:1 chat with the bot exists
        await teams.say(
            seater, f"cadence role <at>{user.name}</at> {role}", where=general, entities=[mention(user.key)]
        )
    await teams.drain()

    await goto(teams.core, at(2027, 1, 5, 4, 0))  # Tuesday 09:30 in Kathmandu and Kolkata
    victor_chat, dev_chat = teams.personal(victor).id, teams.personal(dev).id
    prompt = [c for c in teams.connector.sent(victor_chat) if "What did you finish" in c.text_dump()]
    assert len(prompt) == 1
    dev_prompt = [c for c in teams.connector.sent(dev_chat) if "What did you finish" in c.text_dump()]
    assert len(dev_prompt) == 1

    # Victor answers in the chat, one message per question.
    r = await teams.say(victor, "Sprint planning")
    assert "What will you do next" in r.text
    await teams.say(victor, "Estimates")
    r = await teams.say(victor, "Waiting for the staging database")
    assert "recorded" in r.text

    # Dev answers in the Adaptive Card form opened from the prompt.
    r = await teams.click(dev, dev_prompt[0], "Answer in a form")
    assert r.status == 200
    form_call = next(c for c in reversed(r.replies) if c.cards())
    form = form_call.cards()[0]
    assert "What will you do next" in card_text(form)
    r = await teams.click(
        dev, form_call, find_action(form, "Send")["title"], inputs={"q0": "Login API", "q1": "Tests", "q2": "none"}
    )
    assert r.status == 200
    await teams.drain()

    await goto(teams.core, at(2027, 1, 5, 10, 0))  # the digest, 10:00 London
    digest = [c for c in teams.connector.sent(general.id) if "Standup digest" in c.text_dump()]
    assert len(digest) == 1
    text = digest[0].text_dump()
    blocker = text.index("Waiting for the staging database")
    assert blocker < text.index("Sprint planning") and blocker < text.index("Login API")
    r = await teams.click(asha, digest[0], "Turn into change request")
    assert r.status == 200
    await teams.drain()
    forms = [c for c in r.replies if c.cards()] or [c for c in teams.connector.sent(general.id) if c.cards()]
    form = forms[-1].cards()[0]
    assert "Waiting for the staging database" in str(form) and "from_standup_answer" in str(form)
