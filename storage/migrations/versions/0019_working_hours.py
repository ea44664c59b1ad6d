"""working hours: each person's working hours (issue 23)

Revision ID: 0019_working_hours
Revises: 0018_demo_milestone
"""

revision = "0019_working_hours"
down_revision = "0018_demo_milestone"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the feature


def downgrade() -> None:
    pass
