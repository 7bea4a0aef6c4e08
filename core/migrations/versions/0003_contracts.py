"""contracts: technology contracts, amendments, indicator targets, events

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.money

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('indicator_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator', sa.String(length=40), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('region', sa.String(length=6), nullable=False),
    sa.Column('target_amount', core.money.Money(), nullable=True),
    sa.Column('target_count', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_indicator_targets_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_targets')),
    sa.UniqueConstraint('indicator', 'year', 'region', name='uq_indicator_targets_key')
    )
    with op.batch_alter_table('indicator_targets', schema=None) as batch_op:
        batch_op.create_index('ix_indicator_targets_year_region', ['year', 'region'], unique=False)

    op.create_table('match_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('region', sa.String(length=6), nullable=False),
    sa.Column('venue', sa.String(length=200), nullable=False),
    sa.Column('organizer_org_id', sa.Integer(), nullable=True),
    sa.Column('attendance', sa.Integer(), nullable=False),
    sa.Column('enterprises', sa.Integer(), nullable=False),
    sa.Column('matches_made', sa.Integer(), nullable=False),
    sa.Column('match_ids', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_match_events_created_by_id_users')),
    sa.ForeignKeyConstraint(['organizer_org_id'], ['organizations.id'], name=op.f('fk_match_events_organizer_org_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_events'))
    )
    with op.batch_alter_table('match_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_events_held_on'), ['held_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_match_events_region'), ['region'], unique=False)

    op.create_table('tech_contracts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reg_number', sa.String(length=16), nullable=False),
    sa.Column('project_name', sa.String(length=200), nullable=False),
    sa.Column('contract_type', sa.String(length=20), nullable=False),
    sa.Column('sub_type', sa.String(length=30), nullable=True),
    sa.Column('conversion_mode', sa.String(length=20), nullable=True),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('registered_on', sa.Date(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('seller_org_id', sa.Integer(), nullable=True),
    sa.Column('seller_name', sa.String(length=200), nullable=False),
    sa.Column('seller_region', sa.String(length=6), nullable=False),
    sa.Column('seller_type', sa.String(length=20), nullable=False),
    sa.Column('buyer_org_id', sa.Integer(), nullable=True),
    sa.Column('buyer_name', sa.String(length=200), nullable=False),
    sa.Column('buyer_region', sa.String(length=6), nullable=False),
    sa.Column('buyer_type', sa.String(length=20), nullable=False),
    sa.Column('total_amount', core.money.Money(), nullable=False),
    sa.Column('tech_amount', core.money.Money(), nullable=False),
    sa.Column('field', sa.String(length=20), nullable=False),
    sa.Column('ip_type', sa.String(length=30), nullable=True),
    sa.Column('match_id', sa.Integer(), nullable=True),
    sa.Column('problem_id', sa.Integer(), nullable=True),
    sa.Column('achievement_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('terminated_on', sa.Date(), nullable=True),
    sa.Column('termination_reason', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['achievement_id'], ['achievements.id'], name=op.f('fk_tech_contracts_achievement_id_achievements'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['buyer_org_id'], ['organizations.id'], name=op.f('fk_tech_contracts_buyer_org_id_organizations')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_tech_contracts_created_by_id_users')),
    sa.ForeignKeyConstraint(['match_id'], ['matches.id'], name=op.f('fk_tech_contracts_match_id_matches'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['problem_id'], ['tech_problems.id'], name=op.f('fk_tech_contracts_problem_id_tech_problems'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['seller_org_id'], ['organizations.id'], name=op.f('fk_tech_contracts_seller_org_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tech_contracts')),
    sa.UniqueConstraint('reg_number', name=op.f('uq_tech_contracts_reg_number'))
    )
    with op.batch_alter_table('tech_contracts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tech_contracts_achievement_id'), ['achievement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tech_contracts_buyer_org_id'), ['buyer_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tech_contracts_buyer_region'), ['buyer_region'], unique=False)
        batch_op.create_index(batch_op.f('ix_tech_contracts_contract_type'), ['contract_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_tech_contracts_match_id'), ['match_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tech_contracts_problem_id'), ['problem_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tech_contracts_registered_on'), ['registered_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_tech_contracts_seller_org_id'), ['seller_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tech_contracts_seller_region'), ['seller_region'], unique=False)
        batch_op.create_index(batch_op.f('ix_tech_contracts_status'), ['status'], unique=False)

    op.create_table('contract_amendments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_contract_amendments_actor_id_users')),
    sa.ForeignKeyConstraint(['contract_id'], ['tech_contracts.id'], name=op.f('fk_contract_amendments_contract_id_tech_contracts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_amendments'))
    )
    with op.batch_alter_table('contract_amendments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_amendments_contract_id'), ['contract_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('contract_amendments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_amendments_contract_id'))

    op.drop_table('contract_amendments')
    with op.batch_alter_table('tech_contracts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tech_contracts_status'))
        batch_op.drop_index(batch_op.f('ix_tech_contracts_seller_region'))
        batch_op.drop_index(batch_op.f('ix_tech_contracts_seller_org_id'))
        batch_op.drop_index(batch_op.f('ix_tech_contracts_registered_on'))
        batch_op.drop_index(batch_op.f('ix_tech_contracts_problem_id'))
        batch_op.drop_index(batch_op.f('ix_tech_contracts_match_id'))
        batch_op.drop_index(batch_op.f('ix_tech_contracts_contract_type'))
        batch_op.drop_index(batch_op.f('ix_tech_contracts_buyer_region'))
        batch_op.drop_index(batch_op.f('ix_tech_contracts_buyer_org_id'))
        batch_op.drop_index(batch_op.f('ix_tech_contracts_achievement_id'))

    op.drop_table('tech_contracts')
    with op.batch_alter_table('match_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_events_region'))
        batch_op.drop_index(batch_op.f('ix_match_events_held_on'))

    op.drop_table('match_events')
    with op.batch_alter_table('indicator_targets', schema=None) as batch_op:
        batch_op.drop_index('ix_indicator_targets_year_region')

    op.drop_table('indicator_targets')
