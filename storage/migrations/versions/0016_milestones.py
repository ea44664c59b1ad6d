"""milestones: milestones, acceptance rounds, rectification items, due-date proposals, project acceptance (issue 22)

Revision ID: 0016_milestones
Revises: 0015_contract
"""

import sqlalchemy as sa
from alembic import op

import storage.types
from storage.migrations.helpers import drop_append_only, make_append_only

revision = "0016_milestones"
down_revision = "0015_contract"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("deliverables", sa.Text(), nullable=True),
        sa.Column("criteria", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["people.id"], name=op.f("fk_milestones_created_by_id_people")),
        sa.ForeignKeyConstraint(
            ["engagement_id"], ["engagements.id"], name=op.f("fk_milestones_engagement_id_engagements")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestones")),
        sa.UniqueConstraint("engagement_id", "number", name=op.f("uq_milestones_engagement_id_number")),
    )
    op.create_index(op.f("ix_milestones_engagement_id"), "milestones", ["engagement_id"], unique=False)
    op.create_table(
        "milestone_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("old_due", sa.Date(), nullable=False),
        sa.Column("new_due", sa.Date(), nullable=False),
        sa.Column("proposed_by_id", sa.Integer(), nullable=True),
        sa.Column("proposed_side", sa.String(length=8), nullable=False),
        sa.Column("proposed_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["people.id"], name=op.f("fk_milestone_changes_decided_by_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["milestone_id"], ["milestones.id"], name=op.f("fk_milestone_changes_milestone_id_milestones")
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"], ["people.id"], name=op.f("fk_milestone_changes_proposed_by_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestone_changes")),
    )
    op.create_index(op.f("ix_milestone_changes_milestone_id"), "milestone_changes", ["milestone_id"], unique=False)
    op.create_table(
        "milestone_rectifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["done_by_id"], ["people.id"], name=op.f("fk_milestone_rectifications_done_by_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["milestone_id"], ["milestones.id"], name=op.f("fk_milestone_rectifications_milestone_id_milestones")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestone_rectifications")),
        sa.UniqueConstraint("milestone_id", "number", name=op.f("uq_milestone_rectifications_milestone_id_number")),
    )
    op.create_index(
        op.f("ix_milestone_rectifications_milestone_id"), "milestone_rectifications", ["milestone_id"], unique=False
    )
    op.create_table(
        "milestone_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("delivered", sa.Text(), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("window_ends_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deemed_acceptance", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("remarks", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["people.id"], name=op.f("fk_milestone_rounds_decided_by_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["milestone_id"], ["milestones.id"], name=op.f("fk_milestone_rounds_milestone_id_milestones")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"], ["people.id"], name=op.f("fk_milestone_rounds_submitted_by_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestone_rounds")),
        sa.UniqueConstraint("milestone_id", "round", name=op.f("uq_milestone_rounds_milestone_id_round")),
    )
    op.create_index(op.f("ix_milestone_rounds_milestone_id"), "milestone_rounds", ["milestone_id"], unique=False)
    op.create_table(
        "project_acceptances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("accepted_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_on", sa.Date(), nullable=False),
        sa.Column("accepted_by_id", sa.Integer(), nullable=True),
        sa.Column("deemed", sa.Boolean(), nullable=False),
        sa.Column("remarks", sa.Text(), nullable=True),
        sa.Column("warranty_months", sa.Integer(), nullable=False),
        sa.Column("warranty_until", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["accepted_by_id"], ["people.id"], name=op.f("fk_project_acceptances_accepted_by_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["engagement_id"], ["engagements.id"], name=op.f("fk_project_acceptances_engagement_id_engagements")
        ),
        sa.ForeignKeyConstraint(
            ["milestone_id"], ["milestones.id"], name=op.f("fk_project_acceptances_milestone_id_milestones")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_acceptances")),
        sa.UniqueConstraint("engagement_id", name=op.f("uq_project_acceptances_engagement_id")),
    )
    # The project acceptance is a record both sides rely on (warranty start): never edited afterwards.
    make_append_only("project_acceptances")


def downgrade() -> None:
    drop_append_only("project_acceptances")
    op.drop_table("project_acceptances")
    op.drop_index(op.f("ix_milestone_rounds_milestone_id"), table_name="milestone_rounds")
    op.drop_table("milestone_rounds")
    op.drop_index(op.f("ix_milestone_rectifications_milestone_id"), table_name="milestone_rectifications")
    op.drop_table("milestone_rectifications")
    op.drop_index(op.f("ix_milestone_changes_milestone_id"), table_name="milestone_changes")
    op.drop_table("milestone_changes")
    op.drop_index(op.f("ix_milestones_engagement_id"), table_name="milestones")
    op.drop_table("milestones")
