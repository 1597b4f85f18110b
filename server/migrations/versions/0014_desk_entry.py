"""who marked a visitor in at the reception desk (a walk-in without a badge has no tap)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('visits', sa.Column('entered_by', sa.String(length=100), nullable=True))


def downgrade() -> None:
    op.drop_column('visits', 'entered_by')  # SQLite ≥ 3.35 drops an unindexed column in place
