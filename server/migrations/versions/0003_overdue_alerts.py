"""overdue alerts name their checkout, at most one per checkout

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checkout_id', sa.Integer(), nullable=True))
        batch_op.create_index('uq_alerts_overdue_checkout', ['checkout_id'], unique=True,
                              sqlite_where=sa.text("type = 'overdue'"), postgresql_where=sa.text("type = 'overdue'"))
        batch_op.create_foreign_key(batch_op.f('fk_alerts_checkout_id_checkouts'), 'checkouts', ['checkout_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_alerts_checkout_id_checkouts'), type_='foreignkey')
        batch_op.drop_index('uq_alerts_overdue_checkout', sqlite_where=sa.text("type = 'overdue'"),
                            postgresql_where=sa.text("type = 'overdue'"))
        batch_op.drop_column('checkout_id')
