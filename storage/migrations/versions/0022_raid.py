"""the RAID log (issue 23)

Revision ID: 0022_raid
Revises: 0021_decisions
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import storage.types
from storage.migrations.helpers import drop_append_only, make_append_only

revision = "0022_raid"
down_revision = "0021_decisions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "raid_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("review_on", sa.Date(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["people.id"], name=op.f("fk_raid_items_created_by_id_people")),
        sa.ForeignKeyConstraint(
            ["engagement_id"], ["engagements.id"], name=op.f("fk_raid_items_engagement_id_engagements")
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["people.id"], name=op.f("fk_raid_items_owner_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raid_items")),
        sa.UniqueConstraint("engagement_id", "number", name=op.f("uq_raid_items_engagement_id_number")),
    )
    op.create_index(op.f("ix_raid_items_engagement_id"), "raid_items", ["engagement_id"], unique=False)
    op.create_index(op.f("ix_raid_items_owner_id"), "raid_items", ["owner_id"], unique=False)
    op.create_table(
        "raid_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "changes", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["people.id"], name=op.f("fk_raid_changes_actor_id_people")),
        sa.ForeignKeyConstraint(["item_id"], ["raid_items.id"], name=op.f("fk_raid_changes_item_id_raid_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raid_changes")),
    )
    op.create_index(op.f("ix_raid_changes_item_id"), "raid_changes", ["item_id"], unique=False)
    # The history of an item is never edited (docs/raid.md).
    make_append_only("raid_changes")


def downgrade() -> None:
    drop_append_only("raid_changes")
    op.drop_table("raid_changes")
    op.drop_table("raid_items")
