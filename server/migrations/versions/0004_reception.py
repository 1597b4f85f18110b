"""reception: visit windows, hosts, not-signed-out and cancelled visits, badge return, anonymising

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

OLD_STATES = "state IN ('expected', 'in', 'out')"
NEW_STATES = "state IN ('expected', 'in', 'out', 'not_signed_out', 'cancelled')"


def upgrade() -> None:
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index('uq_visits_badge_active', sqlite_where=sa.text("state != 'out'"),
                            postgresql_where=sa.text("state != 'out'"))
        batch_op.drop_constraint(batch_op.f('ck_visits_state'), type_='check')
        batch_op.alter_column('state', existing_type=sa.String(length=8), type_=sa.String(length=16))
        batch_op.alter_column('badge_uid', existing_type=sa.String(length=20), nullable=True)
        batch_op.add_column(sa.Column('host_person_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('registered_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('expected_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('valid_from', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closed_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('badge_returned_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint('state', sa.text(NEW_STATES))
        batch_op.create_foreign_key(batch_op.f('fk_visits_host_person_id_people'), 'people', ['host_person_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_visits_host_person_id'), ['host_person_id'], unique=False)
        batch_op.create_index('ix_visits_valid_from', ['valid_from'], unique=False)
        batch_op.create_index('ix_visits_entered_at', ['entered_at'], unique=False)
    # A finished visit's badge came back when the visitor tapped out.
    op.execute("UPDATE visits SET badge_returned_at = left_at WHERE state = 'out'")
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index('uq_visits_badge_lent', ['badge_uid'], unique=True,
                              sqlite_where=sa.text('badge_returned_at IS NULL'),
                              postgresql_where=sa.text('badge_returned_at IS NULL'))

    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visit_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_alerts_visit_id_visits'), 'visits', ['visit_id'], ['id'])
        batch_op.create_index('uq_alerts_type_visit', ['type', 'visit_id'], unique=True,
                              sqlite_where=sa.text('visit_id IS NOT NULL'),
                              postgresql_where=sa.text('visit_id IS NOT NULL'))


def downgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('uq_alerts_type_visit', sqlite_where=sa.text('visit_id IS NOT NULL'),
                            postgresql_where=sa.text('visit_id IS NOT NULL'))
        batch_op.drop_constraint(batch_op.f('fk_alerts_visit_id_visits'), type_='foreignkey')
        batch_op.drop_column('visit_id')
    # The old schema knows only expected / in / out, and every visit has a badge.
    op.execute("UPDATE visits SET state = 'out' WHERE state IN ('not_signed_out', 'cancelled')")
    op.execute("DELETE FROM visits WHERE badge_uid IS NULL")
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index('uq_visits_badge_lent', sqlite_where=sa.text('badge_returned_at IS NULL'),
                            postgresql_where=sa.text('badge_returned_at IS NULL'))
        batch_op.drop_index('ix_visits_entered_at')
        batch_op.drop_index('ix_visits_valid_from')
        batch_op.drop_index(batch_op.f('ix_visits_host_person_id'))
        batch_op.drop_constraint(batch_op.f('fk_visits_host_person_id_people'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('ck_visits_state'), type_='check')
        for column in ('anonymised_at', 'badge_returned_at', 'closed_by', 'closed_at', 'valid_until', 'valid_from',
                       'expected_at', 'registered_by', 'host_person_id'):
            batch_op.drop_column(column)
        batch_op.alter_column('badge_uid', existing_type=sa.String(length=20), nullable=False)
        batch_op.alter_column('state', existing_type=sa.String(length=16), type_=sa.String(length=8))
        batch_op.create_check_constraint('state', sa.text(OLD_STATES))
        batch_op.create_index('uq_visits_badge_active', ['badge_uid'], unique=True,
                              sqlite_where=sa.text("state != 'out'"), postgresql_where=sa.text("state != 'out'"))
