"""demos tables (filled in by that feature's issue)

Revision ID: 0003_demos
Revises: 0002_standups
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
from sqlalchemy import Text  # noqa: F401
from sqlalchemy.dialects import postgresql  # noqa: F401

import storage.types  # noqa: F401

revision = "0003_demos"
down_revision = "0002_standups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
