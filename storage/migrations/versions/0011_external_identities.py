"""identities.external_team_id: the person's own team or tenant when it is another company's

Revision ID: 0011_external_identities
Revises: 0010_slack_inbox
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_external_identities"
down_revision = "0010_slack_inbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("identities") as batch:
        batch.add_column(sa.Column("external_team_id", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("identities") as batch:
        batch.drop_column("external_team_id")
