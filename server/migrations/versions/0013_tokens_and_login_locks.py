"""API tokens expire: api_tokens.expires_at (tokens made before get 90 days from their creation);
wrong passwords lock a (user name, address) pair in login_locks instead of the whole account

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

tokens = sa.table('api_tokens', sa.column('id', sa.Integer()), sa.column('created_at', sa.DateTime(timezone=True)),
                  sa.column('expires_at', sa.DateTime(timezone=True)))


def upgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
    bind = op.get_bind()
    for token_id, created_at in bind.execute(sa.select(tokens.c.id, tokens.c.created_at)).all():
        bind.execute(tokens.update().where(tokens.c.id == token_id)
                     .values(expires_at=created_at + timedelta(days=90)))
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=sa.DateTime(timezone=True), nullable=False)
    op.create_table('login_locks',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', 'address', name=op.f('pk_login_locks'))
    )
    with op.batch_alter_table('login_locks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_locks_last_failed_at'), ['last_failed_at'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('failed_logins', server_default=None)
    with op.batch_alter_table('login_locks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_locks_last_failed_at'))
    op.drop_table('login_locks')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
