"""readers: what a reader that is online says does not work (its status's `degraded`, reader_degraded alerts)

Revision ID: 0023
Revises: 0015
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('readers') as batch:
        batch.add_column(sa.Column('degraded', sa.String(400), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('readers') as batch:
        batch.drop_column('degraded')
