"""readers: how far each reader's clock runs ahead of the server's (reader_clock_ahead alerts)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('readers') as batch:
        batch.add_column(sa.Column('clock_offset_s', sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('readers') as batch:
        batch.drop_column('clock_offset_s')
