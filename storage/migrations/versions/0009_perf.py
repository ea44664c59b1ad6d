"""performance indexes: unsent outbox rows (the delivery claim no longer walks the history of sent
messages) and timer key prefixes on PostgreSQL (cancel_prefix and per-person prompt look-ups)

Revision ID: 0009_perf
Revises: 0007_teams
"""
from alembic import op
import sqlalchemy as sa

revision = "0009_perf"
down_revision = "0007_teams"
branch_labels = None
depends_on = None

UNSENT = "status IN ('pending', 'sending')"


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_unsent", ["id"], unique=False, postgresql_where=sa.text(UNSENT),
                              sqlite_where=sa.text(UNSENT))
        batch_op.create_index("ix_outbox_unsent_conversation", ["conversation_key", "id"], unique=False,
                              postgresql_where=sa.text(UNSENT), sqlite_where=sa.text(UNSENT))
    with op.batch_alter_table("timers", schema=None) as batch_op:
        batch_op.create_index("ix_timers_key_prefix", ["key"], unique=False,
                              postgresql_ops={"key": "varchar_pattern_ops"})


def downgrade() -> None:
    with op.batch_alter_table("timers", schema=None) as batch_op:
        batch_op.drop_index("ix_timers_key_prefix")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_unsent_conversation")
        batch_op.drop_index("ix_outbox_unsent")
