"""one alert per checkout per level (overdue, escalated, lost?), not only for overdue

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('uq_alerts_overdue_checkout', sqlite_where=sa.text("type = 'overdue'"),
                            postgresql_where=sa.text("type = 'overdue'"))
        batch_op.create_index('uq_alerts_type_checkout', ['type', 'checkout_id'], unique=True,
                              sqlite_where=sa.text('checkout_id IS NOT NULL'),
                              postgresql_where=sa.text('checkout_id IS NOT NULL'))


def downgrade() -> None:
    op.execute("DELETE FROM alerts WHERE checkout_id IS NOT NULL AND type != 'overdue'")
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('uq_alerts_type_checkout', sqlite_where=sa.text('checkout_id IS NOT NULL'),
                            postgresql_where=sa.text('checkout_id IS NOT NULL'))
        batch_op.create_index('uq_alerts_overdue_checkout', ['checkout_id'], unique=True,
                              sqlite_where=sa.text("type = 'overdue'"), postgresql_where=sa.text("type = 'overdue'"))
