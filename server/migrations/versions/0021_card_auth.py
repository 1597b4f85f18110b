"""card_checks: what each authenticated tap proved; cards.auth_kind; people and readers card_auth_required

Revision ID: 0021
Revises: 0015
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'card_checks',
        sa.Column('scan_id', sa.String(length=64), nullable=False),
        sa.Column('uid', sa.String(length=20), nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=True),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.Column('why', sa.String(length=32), nullable=True),
        sa.Column('counter', sa.Integer(), nullable=True),
        sa.Column('challenge', sa.String(length=32), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('scan_id', name=op.f('pk_card_checks')),
    )
    op.create_index('ux_card_checks_counter', 'card_checks', ['uid', 'counter'], unique=True)
    op.create_index('ux_card_checks_challenge', 'card_checks', ['uid', 'challenge'], unique=True)
    op.create_index('ix_card_checks_uid_at', 'card_checks', ['uid', 'at'])
    with op.batch_alter_table('cards') as batch:
        batch.add_column(sa.Column('auth_kind', sa.String(length=24), nullable=True))
    # A default in the database too: rows inserted by hand are "not required". A plain ADD COLUMN, not a batch:
    # on SQLite a batch copies the table and drops the old one, which rows pointing at people refuse.
    for table in ('people', 'readers'):
        op.add_column(table, sa.Column('card_auth_required', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    for table in ('readers', 'people'):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('card_auth_required')
    with op.batch_alter_table('cards') as batch:
        batch.drop_column('auth_kind')
    op.drop_index('ix_card_checks_uid_at', table_name='card_checks')
    op.drop_index('ux_card_checks_challenge', table_name='card_checks')
    op.drop_index('ux_card_checks_counter', table_name='card_checks')
    op.drop_table('card_checks')
