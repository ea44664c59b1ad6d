"""standups tables: standup_entries (one per engagement, person, local date) and standup_digests

Revision ID: 0002_standups
Revises: 0001_core
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import storage.types

revision = "0002_standups"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def _json():
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "standup_digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("ref_key", sa.String(length=200), nullable=False),
        sa.Column("posted_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("late_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["engagement_id"], ["engagements.id"],
                                name=op.f("fk_standup_digests_engagement_id_engagements")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standup_digests")),
        sa.UniqueConstraint("engagement_id", "day", name=op.f("uq_standup_digests_engagement_id_day")),
    )
    op.create_table(
        "standup_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("questions", _json(), nullable=False),
        sa.Column("blocker_index", sa.Integer(), nullable=True),
        sa.Column("answers", _json(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expected", sa.Boolean(), nullable=False),
        sa.Column("prompted_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answer_tz", sa.String(length=64), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("blocker", sa.Text(), nullable=True),
        sa.Column("blocker_of_id", sa.Integer(), nullable=True),
        sa.Column("blocker_closed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("blocker_closed_by", sa.String(length=16), nullable=True),
        sa.Column("extra", _json(), nullable=False),
        sa.ForeignKeyConstraint(["blocker_of_id"], ["standup_entries.id"],
                                name=op.f("fk_standup_entries_blocker_of_id_standup_entries")),
        sa.ForeignKeyConstraint(["engagement_id"], ["engagements.id"],
                                name=op.f("fk_standup_entries_engagement_id_engagements")),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_standup_entries_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standup_entries")),
        sa.UniqueConstraint("engagement_id", "person_id", "day",
                            name=op.f("uq_standup_entries_engagement_id_person_id_day")),
    )
    with op.batch_alter_table("standup_entries", schema=None) as batch_op:
        batch_op.create_index("ix_standup_entries_engagement_day", ["engagement_id", "day"], unique=False)
        batch_op.create_index(batch_op.f("ix_standup_entries_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("standup_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_standup_entries_person_id"))
        batch_op.drop_index("ix_standup_entries_engagement_day")
    op.drop_table("standup_entries")
    op.drop_table("standup_digests")
