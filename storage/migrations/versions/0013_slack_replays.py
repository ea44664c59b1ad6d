"""slack seen requests: signatures of signed Slack requests within the replay window (a replay is not applied)

Revision ID: 0013_slack_replays
Revises: 0012_teams_files
"""
from alembic import op
import sqlalchemy as sa

import storage.types

revision = "0013_slack_replays"
down_revision = "0012_teams_files"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_seen_requests",
        sa.Column("signature", sa.String(length=80), nullable=False),
        sa.Column("seen_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("signature", name=op.f("pk_slack_seen_requests")),
    )
    op.create_index(op.f("ix_slack_seen_requests_seen_at"), "slack_seen_requests", ["seen_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_slack_seen_requests_seen_at"), table_name="slack_seen_requests")
    op.drop_table("slack_seen_requests")
