"""the returned take-outs newest first at any depth: a partial index on (returned_at, id)

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_checkouts_returned', 'checkouts', ['returned_at', 'id'], unique=False,
                    sqlite_where=sa.text('returned_at IS NOT NULL'), postgresql_where=sa.text('returned_at IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_checkouts_returned', table_name='checkouts',
                  sqlite_where=sa.text('returned_at IS NOT NULL'), postgresql_where=sa.text('returned_at IS NOT NULL'))
