"""staff_inside: the stored "who is in", one row per staff member in the office, filled from the
entrance's taps (server/visits/inside.py, the derivation the ingest keeps it with)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from server.visits import inside

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'staff_inside',
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('since', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reader_id', sa.String(length=32), nullable=False),
        sa.Column('scan_id', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_staff_inside_person_id_people')),
        sa.ForeignKeyConstraint(['reader_id'], ['readers.id'], name=op.f('fk_staff_inside_reader_id_readers')),
        sa.PrimaryKeyConstraint('person_id', name=op.f('pk_staff_inside')),
    )
    inside.rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_table('staff_inside')
