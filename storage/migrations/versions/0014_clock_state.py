"""clock state: the console's virtual clock survives a restart

Revision ID: 0014_clock_state
Revises: 0013_slack_replays
"""
from alembic import op
import sqlalchemy as sa

import storage.types

revision = "0014_clock_state"
down_revision = "0013_slack_replays"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clock_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("now", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_clock_state")),
    )


def downgrade() -> None:
    op.drop_table("clock_state")
