"""dead letters folded per reader and reason (count, first/last time); each cabinet's allowlist key

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('dead_letters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('count', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('last_received_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE dead_letters SET last_received_at = received_at")
    with op.batch_alter_table('dead_letters', schema=None) as batch_op:
        batch_op.alter_column('source', server_default=None)
        batch_op.alter_column('count', server_default=None)
        batch_op.alter_column('last_received_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.create_index('ix_dead_letters_fold', ['source', 'reason', 'last_received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_dead_letters_last_received_at'), ['last_received_at'], unique=False)
    with op.batch_alter_table('readers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allowlist_key', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('readers', schema=None) as batch_op:
        batch_op.drop_column('allowlist_key')
    with op.batch_alter_table('dead_letters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dead_letters_last_received_at'))
        batch_op.drop_index('ix_dead_letters_fold')
        batch_op.drop_column('last_received_at')
        batch_op.drop_column('count')
        batch_op.drop_column('source')
