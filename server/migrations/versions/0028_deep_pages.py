"""indexes for lists at any depth: checkouts by (out_at, id), the visitor log by (registered_at, id),
people by name (the roll call and the desk's hosts without a sort)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03
"""

from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_checkouts_out_at', table_name='checkouts')
    op.create_index('ix_checkouts_out_at', 'checkouts', ['out_at', 'id'], unique=False)
    op.create_index('ix_visits_registered', 'visits', ['registered_at', 'id'], unique=False)
    op.create_index('ix_people_name', 'people', ['name', 'active'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_people_name', table_name='people')
    op.drop_index('ix_visits_registered', table_name='visits')
    op.drop_index('ix_checkouts_out_at', table_name='checkouts')
    op.create_index('ix_checkouts_out_at', 'checkouts', ['out_at'], unique=False)
