"""indexes that keep the ingest's per-tap queries constant as history grows: a cabinet's open
session, the sessions a late scan may fall into, the checkouts a replayed stretch made, a badge's visits

Revision ID: 0026
Revises: 0023
Create Date: 2026-12-03
"""

from alembic import op
from sqlalchemy import text

revision = '0026'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_cabinet_sessions_open', 'cabinet_sessions', ['cabinet_id', 'opened_at'], unique=False,
                    sqlite_where=text('closed_at IS NULL'), postgresql_where=text('closed_at IS NULL'))
    op.create_index('ix_cabinet_sessions_cabinet_closed', 'cabinet_sessions', ['cabinet_id', 'closed_at', 'opened_at'],
                    unique=False)
    op.create_index('ix_checkouts_out_scan', 'checkouts', ['out_scan_id'], unique=False)
    op.create_index('ix_checkouts_return_scan', 'checkouts', ['return_scan_id'], unique=False)
    op.create_index('ix_visits_badge', 'visits', ['badge_uid', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_visits_badge', table_name='visits')
    op.drop_index('ix_checkouts_return_scan', table_name='checkouts')
    op.drop_index('ix_checkouts_out_scan', table_name='checkouts')
    op.drop_index('ix_cabinet_sessions_cabinet_closed', table_name='cabinet_sessions')
    op.drop_index('ix_cabinet_sessions_open', table_name='cabinet_sessions')
