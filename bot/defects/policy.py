"""`/defect policy`: show the engagement's SLA policy, or change one value (vendor PM / client sponsor).
Changes apply to defects filed afterwards (each defect keeps the policy it was filed under)."""

from __future__ import annotations

from bot import audit
from bot.context import Ctx
from bot.defects import states as st
from bot.defects.calendar import BusinessHours, check_country
from bot.defects.service import FEATURE, engagement_policy
from bot.defects.severity import MEANING, SEVERITIES, label, parse_severity
from bot.defects.sla import CAL_BUSINESS, validate_change
from bot.engagements import feature_settings, update_feature_settings
from bot.errors import UserError
from bot.messages import Card, Field, Reply
from bot.zones import resolve_zone

HELP = (
    "`/defect policy s3 response 6h` · `/defect policy s2 resolution 2d` · `/defect policy s3 calendar 24x7` · "
    "`/defect policy hours 08:00-17:00` · `/defect policy zone Europe/Berlin` · `/defect policy country DE` · "
    "`/defect policy warn 80`"
)


def policy_card(ctx: Ctx) -> Card:
    engagement = ctx.require_engagement()
    policy = engagement_policy(engagement)
    hours = policy.business_hours()
    fields = []
    for sev in SEVERITIES:
        entry = policy.data[sev]
        cal = "business hours" if entry.get("calendar") == CAL_BUSINESS else "24×7"
        fields.append(
            Field(
                f"{label(sev)} — {MEANING[sev]}",
                f"response {entry['response']} · resolution {entry['resolution']} · {cal}",
                short=False,
            )
        )
    fields.append(Field("Business hours", hours.describe(), short=False))
    fields.append(Field("Warning at", f"{policy.warn_pct} % of a target"))
    return Card(
        title=f"{engagement.key} SLA policy",
        fields=fields,
        text="Business days are one business-hours window long. Changes apply to defects filed afterwards.",
        footer=HELP,
    )


async def policy_command(ctx: Ctx) -> Reply:
    engagement = ctx.require_engagement()
    words = (ctx.args or "").split()
    if not words:
        return Reply(private=[policy_card(ctx)])
    ctx.require_role(*st.POLICY_ROLES)
    head = words[0].lower()
    before = feature_settings(engagement, FEATURE)
    sev = parse_severity(head)
    try:
        if sev and len(words) >= 3:
            settings = validate_change(engagement_policy(engagement).data, sev, words[1].lower(), " ".join(words[2:]))
            changes = {sev: settings[sev]}
            what = f"{label(sev)} {words[1].lower()}"
        elif head == "hours" and len(words) == 2 and "-" in words[1]:
            start, end = words[1].split("-", 1)
            from bot.defects.sla import _hhmm

            BusinessHours(start=_hhmm(start), end=_hhmm(end))
            hours = dict(before.get("hours") or {})
            hours.update({"start": f"{_hhmm(start):%H:%M}", "end": f"{_hhmm(end):%H:%M}"})
            changes, what = {"hours": hours}, "business hours"
        elif head == "warn" and len(words) == 2:
            pct = int(words[1].rstrip("%"))
            if not 1 <= pct <= 99:
                raise ValueError("The warning must be between 1 and 99 %.")
            changes, what = {"warn_pct": pct}, "warning threshold"
        elif head == "zone" and len(words) >= 2:
            tz = resolve_zone(" ".join(words[1:]))
            old = engagement.support_tz
            engagement.support_tz = tz
            await audit.record(
                ctx.session,
                now=ctx.now,
                engagement_id=engagement.id,
                entity_type="engagement",
                entity_id=engagement.id,
                action="defect_policy_changed",
                actor=ctx.person,
                data={"support_tz": {"from": old, "to": tz}},
            )
            await ctx.core.emit(ctx.session, "engagement_settings_changed", engagement=engagement, feature=FEATURE)
            return Reply(private=[Card(text=f"Support zone is now {tz}.", tone="good"), policy_card(ctx)])
        elif head == "country" and len(words) == 2:
            country = None if words[1].lower() in ("none", "-") else check_country(words[1])
            old_country = engagement.support_country
            engagement.support_country = country
            await audit.record(
                ctx.session,
                now=ctx.now,
                engagement_id=engagement.id,
                entity_type="engagement",
                entity_id=engagement.id,
                action="defect_policy_changed",
                actor=ctx.person,
                data={"support_country": {"from": old_country, "to": country}},
            )
            await ctx.core.emit(ctx.session, "engagement_settings_changed", engagement=engagement, feature=FEATURE)
            return Reply(
                private=[Card(text=f"Support holidays are now {country or 'none'}.", tone="good"), policy_card(ctx)]
            )
        else:
            raise ValueError(f"I didn't understand that. {HELP}")
    except ValueError as exc:
        raise UserError(str(exc)) from None
    update_feature_settings(engagement, FEATURE, changes)
    await audit.record(
        ctx.session,
        now=ctx.now,
        engagement_id=engagement.id,
        entity_type="engagement",
        entity_id=engagement.id,
        action="defect_policy_changed",
        actor=ctx.person,
        data={"changes": changes, "before": {k: before.get(k) for k in changes}},
    )
    await ctx.core.emit(ctx.session, "engagement_settings_changed", engagement=engagement, feature=FEATURE)
    return Reply(
        private=[Card(text=f"Changed {what}. Defects filed from now on use it.", tone="good"), policy_card(ctx)]
    )
