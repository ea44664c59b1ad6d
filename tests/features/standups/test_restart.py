"""A restart between the prompt and the digest (a second Cadence on the same database): nothing
lost, nothing doubled — and two replicas draining at once still fire each standup timer once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from tests.features.standups.support import digests, entries, goto, prompts_to, reminders_to, timers
from tests.helpers import make_engagement, say_dm

UTC = UTC


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def test_restart_between_prompt_and_digest(any_db_url, clock, make_core):
    first = await make_core(any_db_url)
    people = await make_engagement(first)
    await goto(first, at(2027, 1, 5, 4, 5))  # Tuesday: Kolkata and Kathmandu were prompted
    assert len(prompts_to(first, "victor")) == 1 and len(prompts_to(first, "dev")) == 1
    r = await say_dm(first, people["victor"], "Sprint planning")
    assert "What will you do next" in r.private[0].text
    await first.engine.dispose()  # the process dies at 04:05 UTC

    # Down until 13:30 UTC: reminders (04:45–05:00), Monday's digest (10:00) and Quinn's Tuesday prompt
    # (13:00) are all overdue. A new process on the same database picks them up, late, once.
    clock.set(at(2027, 1, 5, 13, 30))
    second = await make_core(any_db_url)
    await second.drain()
    assert len(reminders_to(second, "dev")) == 1 and len(reminders_to(second, "lena")) == 1
    assert len(reminders_to(second, "victor")) == 1  # started but not finished
    assert len(prompts_to(second, "quinn")) == 1
    assert not prompts_to(second, "victor") and not prompts_to(second, "dev")  # not prompted again
    assert [d.card.title.split(" · ")[-1] for d in digests(second)] == ["Mon 4 Jan 2027"]
    fired = await timers(second, "standup.", "done")
    assert all(t.lateness_seconds is not None for t in fired)
    assert max(t.lateness_seconds for t in fired) > 8 * 3600  # the late ones show their lateness

    # Victor carries on where he stopped, in the new process.
    r = await say_dm(second, people["victor"], "Estimates")
    assert "blocking" in r.private[0].text
    await say_dm(second, people["victor"], "none")
    victor = next(e for e in await entries(second) if e.status == "answered" and e.answers[0] == "Sprint planning")
    assert victor.answers == ["Sprint planning", "Estimates", "none"]

    # A third process (another replica) drains at the same moments: nothing is done twice.
    third = await make_core(any_db_url)
    await goto(second, at(2027, 1, 6, 9, 59))
    clock.set(at(2027, 1, 6, 10, 0))
    await asyncio.gather(second.drain(), third.drain())
    tuesday = [d for d in digests(second) + digests(third) if "Tue 5 Jan" in d.card.title]
    assert len(tuesday) == 1
    card = tuesday[0].card
    assert any("Sprint planning" in f.value for s in card.sections for f in s.fields)
    prompt_keys = [t.key for t in await timers(second, "standup.prompt:")]
    assert len(prompt_keys) == len(set(prompt_keys))
    for name in ("victor", "lena", "dev", "quinn"):
        days = [d.card.title for d in prompts_to(second, name) + prompts_to(third, name)]
        assert len(days) == len(set(days)), name
    await second.engine.dispose()
    await third.engine.dispose()
