"""teams tables: Teams users (Bot Framework ids, service URLs) and identity link codes

Revision ID: 0007_teams
Revises: 0006_slack
"""
from alembic import op
import sqlalchemy as sa

import storage.types

revision = "0007_teams"
down_revision = "0006_slack"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=256), nullable=False),
        sa.Column("bf_id", sa.String(length=256), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("service_url", sa.String(length=500), nullable=True),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams_users")),
        sa.UniqueConstraint("tenant_id", "user_id", name=op.f("uq_teams_users_tenant_id_user_id")),
    )
    with op.batch_alter_table("teams_users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_teams_users_bf_id"), ["bf_id"], unique=False)

    op.create_table(
        "link_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_link_codes_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_link_codes_code_hash")),
    )
    with op.batch_alter_table("link_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_link_codes_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("link_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_link_codes_person_id"))
    op.drop_table("link_codes")
    with op.batch_alter_table("teams_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_teams_users_bf_id"))
    op.drop_table("teams_users")
