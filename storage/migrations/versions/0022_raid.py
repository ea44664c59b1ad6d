"""the RAID log (issue 23)

Revision ID: 0022_raid
Revises: 0021_decisions
"""

revision = "0022_raid"
down_revision = "0021_decisions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the feature


def downgrade() -> None:
    pass
