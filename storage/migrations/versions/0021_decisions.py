"""decisions and action items (issue 23)

Revision ID: 0021_decisions
Revises: 0020_meetings
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0021_decisions"
down_revision = "0020_meetings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("occurrence_id", sa.Integer(), nullable=True),
        sa.Column("meeting_ref", sa.String(length=200), nullable=True),
        sa.Column("link_kind", sa.String(length=16), nullable=True),
        sa.Column("link_id", sa.Integer(), nullable=True),
        sa.Column("link_ref", sa.String(length=220), nullable=True),
        sa.Column("dispute_closes_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("disputed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("disputed_by_id", sa.Integer(), nullable=True),
        sa.Column("dispute_reason", sa.Text(), nullable=True),
        sa.Column("card_ref", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["engagement_id"], ["engagements.id"], name=op.f("fk_decisions_engagement_id_engagements")
        ),
        sa.ForeignKeyConstraint(["decided_by_id"], ["people.id"], name=op.f("fk_decisions_decided_by_id_people")),
        sa.ForeignKeyConstraint(["disputed_by_id"], ["people.id"], name=op.f("fk_decisions_disputed_by_id_people")),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name=op.f("fk_decisions_meeting_id_meetings")),
        sa.ForeignKeyConstraint(
            ["occurrence_id"], ["meeting_occurrences.id"], name=op.f("fk_decisions_occurrence_id_meeting_occurrences")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
        sa.UniqueConstraint("engagement_id", "number", name=op.f("uq_decisions_engagement_id_number")),
    )
    op.create_index(op.f("ix_decisions_engagement_id"), "decisions", ["engagement_id"], unique=False)
    op.create_table(
        "action_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("done_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("occurrence_id", sa.Integer(), nullable=True),
        sa.Column("meeting_ref", sa.String(length=200), nullable=True),
        sa.Column("from_standup_answer_id", sa.Integer(), nullable=True),
        sa.Column("overdue_flagged_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("card_ref", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["engagement_id"], ["engagements.id"], name=op.f("fk_action_items_engagement_id_engagements")
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["people.id"], name=op.f("fk_action_items_owner_id_people")),
        sa.ForeignKeyConstraint(["created_by_id"], ["people.id"], name=op.f("fk_action_items_created_by_id_people")),
        sa.ForeignKeyConstraint(["done_by_id"], ["people.id"], name=op.f("fk_action_items_done_by_id_people")),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name=op.f("fk_action_items_meeting_id_meetings")),
        sa.ForeignKeyConstraint(
            ["occurrence_id"],
            ["meeting_occurrences.id"],
            name=op.f("fk_action_items_occurrence_id_meeting_occurrences"),
        ),
        sa.ForeignKeyConstraint(
            ["from_standup_answer_id"],
            ["standup_entries.id"],
            name=op.f("fk_action_items_from_standup_answer_id_standup_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_items")),
        sa.UniqueConstraint("engagement_id", "number", name=op.f("uq_action_items_engagement_id_number")),
    )
    op.create_index(op.f("ix_action_items_engagement_id"), "action_items", ["engagement_id"], unique=False)
    op.create_index(op.f("ix_action_items_owner_id"), "action_items", ["owner_id"], unique=False)


def downgrade() -> None:
    op.drop_table("action_items")
    op.drop_table("decisions")
