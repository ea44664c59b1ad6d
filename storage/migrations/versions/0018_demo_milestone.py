"""demo milestone: a demo may be tied to a milestone (its "not accepted" reasons become that milestone's
rectification items) (issue 22, third part)

Revision ID: 0018_demo_milestone
Revises: 0017_milestone_links
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_demo_milestone"
down_revision = "0017_milestone_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("demos") as batch:
        batch.add_column(sa.Column("milestone_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_demos_milestone_id_milestones"), "milestones", ["milestone_id"], ["id"])
        batch.create_index(op.f("ix_demos_milestone_id"), ["milestone_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("demos") as batch:
        batch.drop_index(op.f("ix_demos_milestone_id"))
        batch.drop_constraint(op.f("fk_demos_milestone_id_milestones"), type_="foreignkey")
        batch.drop_column("milestone_id")
