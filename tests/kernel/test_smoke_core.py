from tests.helpers import make_engagement, reply_text, run, sent


async def test_setup_and_roles(core):
    people = await make_engagement(core)
    r = await run(core, people["alice"], "/cadence members")
    assert "Victor" in reply_text(r) and "vendor pm" in reply_text(r)
    assert any("ACME" in d.text for d in sent(core))
