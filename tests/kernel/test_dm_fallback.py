"""No message lost to a DM refused for good (bot/kernel/dm_fallback.py), on the console messenger: the message is
said in the engagement's home channel, in one thread per person that mentions them; later DMs go straight
there; a person who is gone (account deactivated) gets no thread."""

from __future__ import annotations

from sqlalchemy import select

from bot.kernel.delivery import Outgoing, PermanentFailure, Sent
from bot.kernel.engagements import by_key
from bot.kernel.messages import Card
from bot.kernel.people import members_with_roles
from storage.models import Identity
from tests.helpers import make_engagement


class RefusesDms:
    """Delivers everything except DMs to the named users, refused with `reason`."""

    platform = "console"

    def __init__(self, users: set[str], reason: str) -> None:
        self.users, self.reason = users, reason
        self.delivered: list[Outgoing] = []

    async def send(self, out: Outgoing) -> Sent:
        if out.op == "dm" and out.address.get("user_id") in self.users:
            raise PermanentFailure(self.reason)
        self.delivered.append(out)
        return Sent(message_id=f"m{len(self.delivered)}", channel_id=out.address.get("channel_id") or "dm")


async def dm_dev(core, text: str) -> None:
    async with core.session_factory() as s, s.begin():
        eng = await by_key(s, "ACME")
        dev = (await members_with_roles(s, eng, ["developer"]))[0]
        await core.outbox.dm(s, dev, Card(title="Prompt", text=text), engagement_id=eng.id)
    await core.drain()


async def test_a_refused_dm_is_said_in_a_thread_of_the_home_channel(core):
    await make_engagement(core)
    m = RefusesDms({"dev"}, "cannot_dm_bot")
    core.messengers["console"] = m
    await dm_dev(core, "first")
    await dm_dev(core, "second")
    posts = [o for o in m.delivered if o.op == "post" and o.address.get("channel_id") == "general"]
    parents = [o for o in posts if not o.address.get("thread_ref")]
    replies = [o for o in posts if o.address.get("thread_ref")]
    assert len(parents) == 1 and "cannot_dm_bot" in parents[0].card.text
    assert [o.card.text.split()[-1] for o in replies] == ["first", "second"]
    assert all(o.address["thread_id"] == "m" + str(m.delivered.index(parents[0]) + 1) for o in replies)
    assert all("cannot send you direct messages" in o.card.footer for o in replies)
    async with core.session_factory() as s:
        ident = await s.scalar(select(Identity).where(Identity.user_id == "dev"))
        assert ident.unreachable_reason == "cannot_dm_bot"


async def test_a_deactivated_persons_dms_are_not_posted_in_the_channel(core):
    await make_engagement(core)
    m = RefusesDms({"dev"}, "account_inactive")
    core.messengers["console"] = m
    await dm_dev(core, "first")
    assert not [o for o in m.delivered if o.address.get("thread_ref")]
