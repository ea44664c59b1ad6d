"""decisions and action items (issue 23)

Revision ID: 0021_decisions
Revises: 0020_meetings
"""

revision = "0021_decisions"
down_revision = "0020_meetings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the feature


def downgrade() -> None:
    pass
