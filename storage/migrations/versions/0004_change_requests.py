"""change_requests tables: requests and approvers' decisions (one per approver per round)

Revision ID: 0004_change_requests
Revises: 0003_demos
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import storage.types
from storage.migrations.helpers import drop_append_only, make_append_only

revision = "0004_change_requests"
down_revision = "0003_demos"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('change_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('engagement_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('business_reason', sa.Text(), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('wanted_by', sa.Date(), nullable=True),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('effort_hours', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('cost', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('schedule_impact_days', sa.Integer(), nullable=True),
    sa.Column('risk', sa.String(length=16), nullable=True),
    sa.Column('assessment_notes', sa.Text(), nullable=True),
    sa.Column('assessed_by_id', sa.Integer(), nullable=True),
    sa.Column('assessed_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('policy', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('pending_since', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_comment', sa.Text(), nullable=True),
    sa.Column('scheduled_for', sa.Date(), nullable=True),
    sa.Column('from_standup_answer_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assessed_by_id'], ['people.id'], name=op.f('fk_change_requests_assessed_by_id_people')),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagements.id'], name=op.f('fk_change_requests_engagement_id_engagements')),
    sa.ForeignKeyConstraint(['requester_id'], ['people.id'], name=op.f('fk_change_requests_requester_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_requests')),
    sa.UniqueConstraint('engagement_id', 'number', name=op.f('uq_change_requests_engagement_id_number'))
    )
    op.create_index(op.f('ix_change_requests_engagement_id'), 'change_requests', ['engagement_id'], unique=False)
    op.create_index(op.f('ix_change_requests_requester_id'), 'change_requests', ['requester_id'], unique=False)
    op.create_table('change_request_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('approver_id', sa.Integer(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approver_id'], ['people.id'], name=op.f('fk_change_request_decisions_approver_id_people')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['people.id'], name=op.f('fk_change_request_decisions_decided_by_id_people')),
    sa.ForeignKeyConstraint(['request_id'], ['change_requests.id'], name=op.f('fk_change_request_decisions_request_id_change_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_request_decisions')),
    sa.UniqueConstraint('request_id', 'approver_id', 'round', name=op.f('uq_change_request_decisions_request_id_approver_id_round'))
    )
    op.create_index(op.f('ix_change_request_decisions_request_id'), 'change_request_decisions', ['request_id'], unique=False)
    # A decision is never edited or removed (a new round adds new rows).
    make_append_only('change_request_decisions')


def downgrade() -> None:
    drop_append_only('change_request_decisions')
    op.drop_index(op.f('ix_change_request_decisions_request_id'), table_name='change_request_decisions')
    op.drop_table('change_request_decisions')
    op.drop_index(op.f('ix_change_requests_requester_id'), table_name='change_requests')
    op.drop_index(op.f('ix_change_requests_engagement_id'), table_name='change_requests')
    op.drop_table('change_requests')
