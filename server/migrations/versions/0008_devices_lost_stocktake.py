"""screen lock on phones, purpose and data erasure on checkouts, lost items, stock-takes, door alerts

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('screen_locked', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.alter_column('screen_locked', server_default=None)
    with op.batch_alter_table('checkouts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('erasure', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('erased_by', sa.String(length=200), nullable=True))
        batch_op.create_check_constraint('erasure', sa.text("erasure IN ('pending', 'done')"))
        batch_op.create_index('ix_checkouts_erasure_pending', ['returned_at'], unique=False,
                              sqlite_where=sa.text("erasure = 'pending'"),
                              postgresql_where=sa.text("erasure = 'pending'"))
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event_id', sa.String(length=64), nullable=True))
        batch_op.create_index('uq_alerts_type_event', ['type', 'event_id'], unique=True,
                              sqlite_where=sa.text('event_id IS NOT NULL'),
                              postgresql_where=sa.text('event_id IS NOT NULL'))
    with op.batch_alter_table('readers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('remote_unlock_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table('lost_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('checkout_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('marked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('marked_by', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('history', sa.JSON(), nullable=False),
    sa.Column('found_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('found_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['checkout_id'], ['checkouts.id'], name=op.f('fk_lost_items_checkout_id_checkouts')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_lost_items_item_id_items')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_lost_items_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lost_items'))
    )
    op.create_index(op.f('ix_lost_items_item_id'), 'lost_items', ['item_id'], unique=False)

    op.create_table('stocktakes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cabinet_id', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_by', sa.String(length=200), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_by', sa.String(length=200), nullable=True),
    sa.CheckConstraint("state IN ('open', 'finished', 'cancelled')", name=op.f('ck_stocktakes_state')),
    sa.ForeignKeyConstraint(['cabinet_id'], ['readers.id'], name=op.f('fk_stocktakes_cabinet_id_readers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stocktakes'))
    )
    op.create_index('uq_stocktakes_open_cabinet', 'stocktakes', ['cabinet_id'], unique=True,
                    sqlite_where=sa.text("state = 'open'"), postgresql_where=sa.text("state = 'open'"))
    op.create_table('stocktake_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stocktake_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.String(length=200), nullable=True),
    sa.Column('scan_id', sa.String(length=64), nullable=True),
    sa.CheckConstraint("outcome IN ('found', 'missing', 'unexpected', 'on_loan')",
                       name=op.f('ck_stocktake_lines_outcome')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_stocktake_lines_item_id_items')),
    sa.ForeignKeyConstraint(['stocktake_id'], ['stocktakes.id'],
                            name=op.f('fk_stocktake_lines_stocktake_id_stocktakes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stocktake_lines')),
    sa.UniqueConstraint('stocktake_id', 'item_id', name=op.f('uq_stocktake_lines_stocktake_id'))
    )


def downgrade() -> None:
    op.drop_table('stocktake_lines')
    op.drop_index('uq_stocktakes_open_cabinet', table_name='stocktakes', sqlite_where=sa.text("state = 'open'"),
                  postgresql_where=sa.text("state = 'open'"))
    op.drop_table('stocktakes')
    op.drop_index(op.f('ix_lost_items_item_id'), table_name='lost_items')
    op.drop_table('lost_items')
    with op.batch_alter_table('readers', schema=None) as batch_op:
        batch_op.drop_column('remote_unlock_at')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('uq_alerts_type_event', sqlite_where=sa.text('event_id IS NOT NULL'),
                            postgresql_where=sa.text('event_id IS NOT NULL'))
        batch_op.drop_column('event_id')
    with op.batch_alter_table('checkouts', schema=None) as batch_op:
        batch_op.drop_index('ix_checkouts_erasure_pending', sqlite_where=sa.text("erasure = 'pending'"),
                            postgresql_where=sa.text("erasure = 'pending'"))
        batch_op.drop_constraint(batch_op.f('ck_checkouts_erasure'), type_='check')
        batch_op.drop_column('erased_by')
        batch_op.drop_column('erased_at')
        batch_op.drop_column('erasure')
        batch_op.drop_column('purpose')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_column('screen_locked')
