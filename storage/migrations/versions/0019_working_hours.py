"""working hours: each person's working hours (issue 23)

Revision ID: 0019_working_hours
Revises: 0018_demo_milestone
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_working_hours"
down_revision = "0018_demo_milestone"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Minutes after local midnight; NULL = the default working hours (bot/kernel/people.py: WORKING_HOURS).
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("work_start_minute", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("work_end_minute", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.drop_column("work_end_minute")
        batch.drop_column("work_start_minute")
