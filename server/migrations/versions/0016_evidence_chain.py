"""the evidence chain: chain_links, chain_head, chain_pending, chain_verifications

The triggers on the evidence tables, and the chaining of the rows already in them, follow this
migration in `mamori db upgrade` (server/migrate.py: start_chain): they come from the registry of
kinds (server/evidence/kinds.py), which grows after this revision.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from server.evidence import capture

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'chain_links',
        sa.Column('seq', _BIG, autoincrement=False, nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('kind', sa.String(length=64), nullable=False),
        sa.Column('row_id', sa.String(length=64), nullable=False),
        sa.Column('op', sa.String(length=9), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('columns', sa.Text(), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_chain_links')),
    )
    op.create_index('ix_chain_links_row', 'chain_links', ['kind', 'row_id', 'seq'])
    op.create_index('ix_chain_links_at', 'chain_links', ['at', 'seq'])
    op.create_table(
        'chain_head',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('seq', _BIG, nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_chain_head')),
    )
    op.execute("INSERT INTO chain_head (id, seq, hash) VALUES (1, 0, '" + "0" * 64 + "')")
    op.create_table(
        'chain_pending',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=64), nullable=False),
        sa.Column('row_id', sa.String(length=64), nullable=False),
        sa.Column('op', sa.String(length=1), nullable=False),
        sa.Column('txn', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_chain_pending')),
    )
    op.create_index('ix_chain_pending_txn', 'chain_pending', ['txn'])
    op.create_table(
        'chain_verifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('by', sa.String(length=200), nullable=False),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.Column('links', _BIG, nullable=False),
        sa.Column('head_seq', _BIG, nullable=True),
        sa.Column('head_hash', sa.String(length=64), nullable=True),
        sa.Column('since', sa.DateTime(timezone=True), nullable=True),
        sa.Column('anchor', sa.String(length=100), nullable=True),
        sa.Column('problems', sa.Integer(), nullable=False),
        sa.Column('first_problem', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_chain_verifications')),
    )
    op.create_index(op.f('ix_chain_verifications_started_at'), 'chain_verifications', ['started_at'])


def downgrade() -> None:
    capture.uninstall(op.get_bind(), capture.installed(op.get_bind()))  # whatever start_chain installed
    op.drop_index(op.f('ix_chain_verifications_started_at'), table_name='chain_verifications')
    op.drop_table('chain_verifications')
    op.drop_index('ix_chain_pending_txn', table_name='chain_pending')
    op.drop_table('chain_pending')
    op.drop_table('chain_head')
    op.drop_index('ix_chain_links_at', table_name='chain_links')
    op.drop_index('ix_chain_links_row', table_name='chain_links')
    op.drop_table('chain_links')
