"""milestone links: a change request names its milestone (schedule impact) and the defect it was converted
from (out of warranty); the typed warranty end retired (issue 22, second part)

Revision ID: 0017_milestone_links
Revises: 0016_milestones
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_milestone_links"
down_revision = "0016_milestones"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("change_requests") as batch:
        batch.add_column(sa.Column("milestone_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("defect_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_change_requests_milestone_id_milestones"), "milestones", ["milestone_id"], ["id"]
        )
        batch.create_foreign_key(op.f("fk_change_requests_defect_id_defects"), "defects", ["defect_id"], ["id"])
        batch.create_index(op.f("ix_change_requests_defect_id"), ["defect_id"], unique=True)
    # The warranty end is no longer a contract term (it is derived from the project acceptance): a proposal
    # still waiting to type one can never apply.
    op.execute(
        "UPDATE contract_changes SET status = 'withdrawn', "
        "reason = 'The warranty end is derived from the project acceptance now.' "
        "WHERE term = 'warranty_end' AND status = 'pending'"
    )


def downgrade() -> None:
    with op.batch_alter_table("change_requests") as batch:
        batch.drop_index(op.f("ix_change_requests_defect_id"))
        batch.drop_constraint(op.f("fk_change_requests_defect_id_defects"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_change_requests_milestone_id_milestones"), type_="foreignkey")
        batch.drop_column("defect_id")
        batch.drop_column("milestone_id")
