"""teams files: exports and calendar invites offered to Teams users as short-lived signed download links

Revision ID: 0012_teams_files
Revises: 0011_external_identities
"""
from alembic import op
import sqlalchemy as sa

import storage.types

revision = "0012_teams_files"
down_revision = "0011_external_identities"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("mime", sa.String(length=100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams_files")),
        sa.UniqueConstraint("token", name=op.f("uq_teams_files_token")),
    )
    with op.batch_alter_table("teams_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_teams_files_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("teams_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_teams_files_expires_at"))
    op.drop_table("teams_files")
