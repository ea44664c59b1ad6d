"""contract: the history of agreed terms and proposals to change them (issue 18)

Revision ID: 0015_contract
Revises: 0014_clock_state
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import storage.types

revision = "0015_contract"
down_revision = "0014_clock_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contract_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("old_text", sa.String(length=300), nullable=False),
        sa.Column("new_text", sa.String(length=300), nullable=False),
        sa.Column(
            "changes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("proposed_by_id", sa.Integer(), nullable=True),
        sa.Column("proposed_side", sa.String(length=8), nullable=False),
        sa.Column("proposed_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["engagement_id"], ["engagements.id"], name=op.f("fk_contract_changes_engagement_id_engagements")
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"], ["people.id"], name=op.f("fk_contract_changes_proposed_by_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["people.id"], name=op.f("fk_contract_changes_decided_by_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_changes")),
        sa.UniqueConstraint("engagement_id", "number", name=op.f("uq_contract_changes_engagement_id_number")),
    )
    op.create_index(op.f("ix_contract_changes_engagement_id"), "contract_changes", ["engagement_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_contract_changes_engagement_id"), table_name="contract_changes")
    op.drop_table("contract_changes")
