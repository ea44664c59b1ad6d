"""meetings: meetings, their occurrences and members' agenda items (issue 23)

Revision ID: 0020_meetings
Revises: 0019_working_hours
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import storage.types

revision = "0020_meetings"
down_revision = "0019_working_hours"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=150), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=False),
        sa.Column("start_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("rrule", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("uid", sa.String(length=120), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("exdates", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False),
        sa.Column("draft_key", sa.String(length=64), nullable=True),
        sa.Column("organizer_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["engagement_id"], ["engagements.id"], name=op.f("fk_meetings_engagement_id_engagements")
        ),
        sa.ForeignKeyConstraint(["organizer_id"], ["people.id"], name=op.f("fk_meetings_organizer_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
        sa.UniqueConstraint("draft_key", name=op.f("uq_meetings_draft_key")),
        sa.UniqueConstraint("engagement_id", "number", name=op.f("uq_meetings_engagement_id_number")),
        sa.UniqueConstraint("uid", name=op.f("uq_meetings_uid")),
    )
    op.create_index(op.f("ix_meetings_engagement_id"), "meetings", ["engagement_id"], unique=False)
    op.create_table(
        "meeting_occurrences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("original_start", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("starts_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("agenda_posted_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["engagement_id"], ["engagements.id"], name=op.f("fk_meeting_occurrences_engagement_id_engagements")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_meeting_occurrences_meeting_id_meetings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_occurrences")),
        sa.UniqueConstraint(
            "meeting_id", "original_start", name=op.f("uq_meeting_occurrences_meeting_id_original_start")
        ),
    )
    op.create_index(
        op.f("ix_meeting_occurrences_engagement_id"), "meeting_occurrences", ["engagement_id"], unique=False
    )
    op.create_index(op.f("ix_meeting_occurrences_meeting_id"), "meeting_occurrences", ["meeting_id"], unique=False)
    op.create_index(op.f("ix_meeting_occurrences_starts_at"), "meeting_occurrences", ["starts_at"], unique=False)
    op.create_table(
        "meeting_agenda_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurrence_id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["engagement_id"], ["engagements.id"], name=op.f("fk_meeting_agenda_items_engagement_id_engagements")
        ),
        sa.ForeignKeyConstraint(
            ["occurrence_id"],
            ["meeting_occurrences.id"],
            name=op.f("fk_meeting_agenda_items_occurrence_id_meeting_occurrences"),
        ),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_meeting_agenda_items_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_agenda_items")),
    )
    op.create_index(
        op.f("ix_meeting_agenda_items_engagement_id"), "meeting_agenda_items", ["engagement_id"], unique=False
    )
    op.create_index(
        op.f("ix_meeting_agenda_items_occurrence_id"), "meeting_agenda_items", ["occurrence_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("meeting_agenda_items")
    op.drop_table("meeting_occurrences")
    op.drop_table("meetings")
