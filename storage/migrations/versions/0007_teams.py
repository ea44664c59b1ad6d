"""teams tables (filled in by that feature's issue)

Revision ID: 0007_teams
Revises: 0006_slack
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
from sqlalchemy import Text  # noqa: F401
from sqlalchemy.dialects import postgresql  # noqa: F401

import storage.types  # noqa: F401

revision = "0007_teams"
down_revision = "0006_slack"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
