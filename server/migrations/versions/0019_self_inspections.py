"""self_inspections: the monthly self-inspection (自己点検), append-only

Revision ID: 0019
Revises: 0015
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

# Answers are evidence: append-only in the database too, whatever client writes to it.
_SQLITE_GUARDS = [
    f"CREATE TRIGGER self_inspections_no_{verb.lower()} BEFORE {verb} ON self_inspections "
    "BEGIN SELECT RAISE(ABORT, 'self_inspections is append-only: answer the month again'); END"
    for verb in ("UPDATE", "DELETE")
]
_PG_GUARD = [
    "CREATE FUNCTION self_inspections_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "RAISE EXCEPTION 'self_inspections is append-only: answer the month again'; END $$",
    "CREATE TRIGGER self_inspections_append_only BEFORE UPDATE OR DELETE ON self_inspections "
    "FOR EACH ROW EXECUTE FUNCTION self_inspections_append_only()",
]


def upgrade() -> None:
    op.create_table(
        'self_inspections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('answered_by', sa.String(length=200), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('answers', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_self_inspections_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_self_inspections')),
    )
    op.create_index('ix_self_inspections_month_at', 'self_inspections', ['month', 'answered_at'])
    for statement in _PG_GUARD if op.get_bind().dialect.name == 'postgresql' else _SQLITE_GUARDS:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table('self_inspections')  # its triggers go with it
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION self_inspections_append_only()")
