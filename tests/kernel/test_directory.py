"""Front ends reach the core's people and identities through bot/kernel/directory.py (issue 19): who is behind
a platform user, their names and accounts on a platform, and their 1:1 chats' references, each call its own
short transaction, nothing created unless asked."""

from __future__ import annotations

from dataclasses import replace

from bot.kernel import directory
from tests.helpers import actor


async def test_who_is_behind_a_platform_user(core):
    asha = replace(actor("asha", "Asia/Kolkata", platform="teams", workspace="t1"), handle="Asha.Rao")
    assert await directory.known_user(core, "teams", "t1", asha.user_id) is None
    seated = await directory.record_profile(core, asha)
    assert seated.handle == "Asha.Rao" and seated.tz == "Asia/Kolkata"
    known = await directory.known_user(core, "teams", "t1", asha.user_id)
    assert known == seated
    by_id = await directory.known_person(core, seated.person_id)
    assert by_id is not None and (by_id.person_id, by_id.tz, by_id.handle) == (seated.person_id, "Asia/Kolkata", None)
    assert await directory.known_person(core, seated.person_id + 1000) is None
    assert await directory.known_user(core, "teams", "t2", asha.user_id) is None  # another tenant: not her


async def test_people_on_a_platform_with_every_account(core):
    asha = await directory.record_profile(core, actor("asha", platform="teams", workspace="t1"))
    await directory.record_profile(core, actor("asha", platform="teams", workspace="t2"))  # another person
    ben = await directory.record_profile(core, actor("ben"))  # console only
    found = await directory.people_on(core, "teams", {asha.person_id, ben.person_id, 9999})
    assert set(found) == {asha.person_id, ben.person_id}
    assert found[asha.person_id].accounts == (("t1", "asha"),)
    assert found[ben.person_id].accounts == () and found[ben.person_id].display_name == ben.display_name
    assert await directory.people_on(core, "teams", set()) == {}


async def test_one_to_one_chat_references(core):
    asha = actor("asha", platform="teams", workspace="t1")
    assert await directory.any_dm_reference(core, "teams", "t1") is None
    await directory.save_dm_reference(core, "teams", "t1", "nobody", {"x": 1}, "a:nobody")  # never seated: ignored
    assert await directory.any_dm_reference(core, "teams", "t1") is None
    await directory.record_profile(core, asha)
    ref = {"conversation": {"id": "a:1"}, "bot": {"id": "28:bot"}}
    await directory.save_dm_reference(core, "teams", "t1", "asha", ref, "a:1")
    assert await directory.dm_reference(core, "teams", "t1", "asha") == ref
    assert await directory.dm_reference_in(core, "teams", "t1", "a:1") == ref
    assert await directory.dm_reference_in(core, "teams", "t2", "a:1") is None
    assert await directory.any_dm_reference(core, "teams", "t1") == ref
