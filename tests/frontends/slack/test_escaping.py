"""User text echoed by the bot is escaped: nobody can make Cadence ping @channel or forge a link."""

from __future__ import annotations


def parsed_texts(message: dict) -> str:
    """Every text Slack parses for mentions and links: the message text and mrkdwn objects.
    (plain_text objects, e.g. headers and button labels, never ping or link.)"""
    out = [message.get("text", "")]

    def walk(v) -> None:
        if isinstance(v, dict):
            if v.get("type") == "mrkdwn":
                out.append(v.get("text", ""))
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(message.get("blocks"))
    return "\n".join(out)


async def test_channel_ping_in_a_name_is_escaped(slack):
    await slack.command("alice", "/cadence setup ACME <!channel> & <https://evil.example|click me>")
    raw = parsed_texts(slack.posts()[-1])
    assert "<!channel>" not in raw and "<https://evil" not in raw
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click me&gt;" in raw


async def test_modal_text_is_escaped_in_the_posted_card(slack, probe):
    await slack.command("alice", "/cadence setup ACME Acme portal")
    await slack.command("alice", f"/cadence role {slack.mention('victor')} developer")  # only members file
    await slack.command("victor", "/cadence zzprobe")
    await slack.submit(
        "victor",
        slack.opened_view(),
        {"title": "<!here> urgent", "priority": "high", "details": "see <@UALICE> and <#C0SECRET|secret>"},
    )
    raw = parsed_texts(slack.posts()[-1])
    for forged in ("<!here>", "<@UALICE>", "<#C0SECRET"):
        assert forged not in raw
    assert "&lt;!here&gt; urgent" in raw


async def test_forged_tokens_are_stripped(slack, probe):
    """Our inline-token delimiters typed by a user are removed before anything is rendered."""
    await slack.command("alice", "/cadence setup ACME Acme portal")
    await slack.command("alice", f"/cadence role {slack.mention('victor')} developer")  # only members file
    await slack.command("victor", "/cadence zzprobe")
    await slack.submit("victor", slack.opened_view(), {"title": "x \ue000person:1|boss\ue001", "priority": "low"})
    raw = parsed_texts(slack.posts()[-1])
    assert "<@UALICE>" not in raw
