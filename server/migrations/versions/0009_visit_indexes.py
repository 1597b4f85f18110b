"""indexes for the lists of a day or a period at scale: visit moment, end, who is in, not signed out;
checkouts by the time they went out (the 持ち出し管理簿 of a period)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# The same text as server/visits/models.py (MOMENT, ENDED), frozen here as a migration must be.
MOMENT = "coalesce(entered_at, expected_at, valid_from, registered_at)"
ENDED = "coalesce(left_at, closed_at)"


def upgrade() -> None:
    op.create_index('ix_visits_moment', 'visits', [sa.text(f"({MOMENT})")], unique=False,
                    sqlite_where=sa.text(f"{MOMENT} IS NOT NULL"))
    op.create_index('ix_visits_ended', 'visits', [sa.text(f"({ENDED})"), 'entered_at'], unique=False)
    op.create_index('ix_visits_in', 'visits', ['entered_at'], unique=False,
                    sqlite_where=sa.text("state = 'in'"), postgresql_where=sa.text("state = 'in'"))
    op.create_index('ix_visits_not_signed_out', 'visits', ['closed_at'], unique=False,
                    sqlite_where=sa.text("state = 'not_signed_out'"),
                    postgresql_where=sa.text("state = 'not_signed_out'"))
    op.create_index('ix_checkouts_out_at', 'checkouts', ['out_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_checkouts_out_at', table_name='checkouts')
    op.drop_index('ix_visits_not_signed_out', table_name='visits')
    op.drop_index('ix_visits_in', table_name='visits')
    op.drop_index('ix_visits_ended', table_name='visits')
    op.drop_index('ix_visits_moment', table_name='visits')
