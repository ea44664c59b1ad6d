"""slack inbox: commands and clicks acknowledged before they ran, until the transaction that runs them

Revision ID: 0010_slack_inbox
Revises: 0009_perf
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import storage.types

revision = "0010_slack_inbox"
down_revision = "0009_perf"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                  nullable=False),
        sa.Column("received_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_inbox")),
    )


def downgrade() -> None:
    op.drop_table("slack_inbox")
