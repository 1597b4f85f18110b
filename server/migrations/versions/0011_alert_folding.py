"""alert folding: a repeated problem is one alert with a count, the newest time and its occurrences

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('alerts', sa.Column('count', sa.Integer(), server_default=sa.text('1'), nullable=False))
    op.add_column('alerts', sa.Column('last_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('alerts', sa.Column('fold_key', sa.String(length=160), nullable=True))
    op.execute("UPDATE alerts SET last_at = opened_at")
    op.create_index('uq_alerts_open_fold_key', 'alerts', ['fold_key'], unique=True,
                    sqlite_where=sa.text("fold_key IS NOT NULL AND state != 'resolved'"),
                    postgresql_where=sa.text("fold_key IS NOT NULL AND state <> 'resolved'"))
    op.create_table(
        'alert_occurrences',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('alert_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reader_id', sa.String(length=32), nullable=True),
        sa.Column('reason', sa.String(length=32), nullable=True),
        sa.Column('scan_id', sa.String(length=64), nullable=True),
        sa.Column('event_id', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['alert_id'], ['alerts.id']),
        sa.ForeignKeyConstraint(['reader_id'], ['readers.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_alert_occurrences_alert_at', 'alert_occurrences', ['alert_id', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_alert_occurrences_alert_at', table_name='alert_occurrences')
    op.drop_table('alert_occurrences')
    op.drop_index('uq_alerts_open_fold_key', table_name='alerts')
    with op.batch_alter_table('alerts') as batch:
        batch.drop_column('fold_key')
        batch.drop_column('last_at')
        batch.drop_column('count')
