"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('dead_letters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.Text(), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dead_letters'))
    )
    with op.batch_alter_table('dead_letters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dead_letters_reason'), ['reason'], unique=False)
        batch_op.create_index(batch_op.f('ix_dead_letters_received_at'), ['received_at'], unique=False)

    op.create_table('people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('key_holder', sa.Boolean(), nullable=False),
    sa.Column('training_on', sa.Date(), nullable=True),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people'))
    )
    op.create_table('readers',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('online', sa.Boolean(), nullable=True),
    sa.Column('status_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.String(length=64), nullable=True),
    sa.Column('queued', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('entrance', 'cabinet')", name=op.f('ck_readers_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_readers'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('admin', 'manager', 'receptionist', 'surveyor', 'auditor')", name=op.f('ck_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('name', name=op.f('uq_users_name'))
    )
    op.create_table('visitor_badges',
    sa.Column('uid', sa.String(length=20), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('uid', name=op.f('pk_visitor_badges'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('cabinet_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cabinet_id', sa.String(length=32), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_scan_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_reason', sa.String(length=16), nullable=True),
    sa.Column('scan_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['cabinet_id'], ['readers.id'], name=op.f('fk_cabinet_sessions_cabinet_id_readers')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_cabinet_sessions_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cabinet_sessions'))
    )
    with op.batch_alter_table('cabinet_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_cabinet_sessions_cabinet_opened', ['cabinet_id', 'opened_at'], unique=False)

    op.create_table('cards',
    sa.Column('uid', sa.String(length=20), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_cards_person_id_people')),
    sa.PrimaryKeyConstraint('uid', name=op.f('pk_cards'))
    )
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cards_person_id'), ['person_id'], unique=False)

    op.create_table('items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('tag_uid', sa.String(length=20), nullable=False),
    sa.Column('cabinet_id', sa.String(length=32), nullable=False),
    sa.Column('encrypted', sa.Boolean(), nullable=False),
    sa.Column('case_number', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('folder', 'phone', 'media', 'laptop', 'key')", name=op.f('ck_items_kind')),
    sa.CheckConstraint("status IN ('active', 'lost', 'retired')", name=op.f('ck_items_status')),
    sa.ForeignKeyConstraint(['cabinet_id'], ['readers.id'], name=op.f('fk_items_cabinet_id_readers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_items')),
    sa.UniqueConstraint('tag_uid', name=op.f('uq_items_tag_uid'))
    )
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_items_cabinet_id'), ['cabinet_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_case_number'), ['case_number'], unique=False)

    op.create_table('reader_events',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('reader_id', sa.String(length=32), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('scan_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['reader_id'], ['readers.id'], name=op.f('fk_reader_events_reader_id_readers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reader_events'))
    )
    with op.batch_alter_table('reader_events', schema=None) as batch_op:
        batch_op.create_index('ix_reader_events_reader_at', ['reader_id', 'at'], unique=False)

    op.create_table('visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visitor_name', sa.String(length=200), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.String(length=500), nullable=False),
    sa.Column('host', sa.String(length=200), nullable=False),
    sa.Column('badge_uid', sa.String(length=20), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('left_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('expected', 'in', 'out')", name=op.f('ck_visits_state')),
    sa.ForeignKeyConstraint(['badge_uid'], ['visitor_badges.uid'], name=op.f('fk_visits_badge_uid_visitor_badges')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits'))
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index('ix_visits_state', ['state'], unique=False)
        batch_op.create_index('uq_visits_badge_active', ['badge_uid'], unique=True, sqlite_where=sa.text("state != 'out'"), postgresql_where=sa.text("state != 'out'"))

    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('reader_id', sa.String(length=32), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('scan_id', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=200), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_alerts_item_id_items')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_alerts_person_id_people')),
    sa.ForeignKeyConstraint(['reader_id'], ['readers.id'], name=op.f('fk_alerts_reader_id_readers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_state_opened', ['state', 'opened_at'], unique=False)

    op.create_table('checkouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('out_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('returned_by_id', sa.Integer(), nullable=True),
    sa.Column('out_scan_id', sa.String(length=64), nullable=False),
    sa.Column('return_scan_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_checkouts_item_id_items')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_checkouts_person_id_people')),
    sa.ForeignKeyConstraint(['returned_by_id'], ['people.id'], name=op.f('fk_checkouts_returned_by_id_people')),
    sa.ForeignKeyConstraint(['session_id'], ['cabinet_sessions.id'], name=op.f('fk_checkouts_session_id_cabinet_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkouts'))
    )
    with op.batch_alter_table('checkouts', schema=None) as batch_op:
        batch_op.create_index('ix_checkouts_item_out', ['item_id', 'out_at'], unique=False)
        batch_op.create_index('ix_checkouts_open_due', ['due_at'], unique=False, sqlite_where=sa.text('returned_at IS NULL'), postgresql_where=sa.text('returned_at IS NULL'))
        batch_op.create_index('ix_checkouts_person_out', ['person_id', 'out_at'], unique=False)
        batch_op.create_index('uq_checkouts_open_item', ['item_id'], unique=True, sqlite_where=sa.text('returned_at IS NULL'), postgresql_where=sa.text('returned_at IS NULL'))

    op.create_table('presence_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('reader_id', sa.String(length=32), nullable=False),
    sa.Column('scan_id', sa.String(length=64), nullable=False),
    sa.CheckConstraint("kind IN ('entry', 'exit')", name=op.f('ck_presence_events_kind')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_presence_events_person_id_people')),
    sa.ForeignKeyConstraint(['reader_id'], ['readers.id'], name=op.f('fk_presence_events_reader_id_readers')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_presence_events_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_presence_events'))
    )
    with op.batch_alter_table('presence_events', schema=None) as batch_op:
        batch_op.create_index('ix_presence_at', ['at'], unique=False)
        batch_op.create_index('ix_presence_person_at', ['person_id', 'at'], unique=False)

    op.create_table('scans',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('reader_id', sa.String(length=32), nullable=False),
    sa.Column('uid', sa.String(length=20), nullable=False),
    sa.Column('tech', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fresh', sa.Boolean(), nullable=False),
    sa.Column('result', sa.String(length=8), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('duplicate_of', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_scans_item_id_items')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_scans_person_id_people')),
    sa.ForeignKeyConstraint(['reader_id'], ['readers.id'], name=op.f('fk_scans_reader_id_readers')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_scans_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scans'))
    )
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.create_index('ix_scans_reader_at', ['reader_id', 'at'], unique=False)
        batch_op.create_index('ix_scans_uid_at', ['uid', 'at'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.drop_index('ix_scans_uid_at')
        batch_op.drop_index('ix_scans_reader_at')

    op.drop_table('scans')
    with op.batch_alter_table('presence_events', schema=None) as batch_op:
        batch_op.drop_index('ix_presence_person_at')
        batch_op.drop_index('ix_presence_at')

    op.drop_table('presence_events')
    with op.batch_alter_table('checkouts', schema=None) as batch_op:
        batch_op.drop_index('uq_checkouts_open_item', sqlite_where=sa.text('returned_at IS NULL'), postgresql_where=sa.text('returned_at IS NULL'))
        batch_op.drop_index('ix_checkouts_person_out')
        batch_op.drop_index('ix_checkouts_open_due', sqlite_where=sa.text('returned_at IS NULL'), postgresql_where=sa.text('returned_at IS NULL'))
        batch_op.drop_index('ix_checkouts_item_out')

    op.drop_table('checkouts')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_alerts_state_opened')

    op.drop_table('alerts')
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index('uq_visits_badge_active', sqlite_where=sa.text("state != 'out'"), postgresql_where=sa.text("state != 'out'"))
        batch_op.drop_index('ix_visits_state')

    op.drop_table('visits')
    with op.batch_alter_table('reader_events', schema=None) as batch_op:
        batch_op.drop_index('ix_reader_events_reader_at')

    op.drop_table('reader_events')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_items_case_number'))
        batch_op.drop_index(batch_op.f('ix_items_cabinet_id'))

    op.drop_table('items')
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cards_person_id'))

    op.drop_table('cards')
    with op.batch_alter_table('cabinet_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_cabinet_sessions_cabinet_opened')

    op.drop_table('cabinet_sessions')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    op.drop_table('visitor_badges')
    op.drop_table('users')
    op.drop_table('readers')
    op.drop_table('people')
    with op.batch_alter_table('dead_letters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dead_letters_received_at'))
        batch_op.drop_index(batch_op.f('ix_dead_letters_reason'))

    op.drop_table('dead_letters')

