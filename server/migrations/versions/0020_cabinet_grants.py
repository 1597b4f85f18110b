"""cabinet grants (who may open which cabinet, and when), one-off openings, closed days, access reviews

Every key holder of the moment gets a grant to every cabinet of the moment, at any time and with
no expiry, so no office is locked out by the upgrade.

Revision ID: 0020
Revises: 0015
Create Date: 2026-12-03
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

# A sign-off is evidence: append-only in the database too.
_SQLITE_GUARDS = [
    f"CREATE TRIGGER access_reviews_no_{verb.lower()} BEFORE {verb} ON access_reviews "
    "BEGIN SELECT RAISE(ABORT, 'access_reviews is append-only'); END"
    for verb in ("UPDATE", "DELETE")
]
_PG_GUARD = [
    "CREATE FUNCTION access_reviews_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "RAISE EXCEPTION 'access_reviews is append-only'; END $$",
    "CREATE TRIGGER access_reviews_append_only BEFORE UPDATE OR DELETE ON access_reviews "
    "FOR EACH ROW EXECUTE FUNCTION access_reviews_append_only()",
]


def upgrade() -> None:
    grants = op.create_table(
        'cabinet_grants',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cabinet_id', sa.String(length=32), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=True),
        sa.Column('role', sa.String(length=32), nullable=True),
        sa.Column('hours', sa.JSON(), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.CheckConstraint('(person_id IS NULL) <> (role IS NULL)', name=op.f('ck_cabinet_grants_person_or_role')),
        sa.ForeignKeyConstraint(['cabinet_id'], ['readers.id'], name=op.f('fk_cabinet_grants_cabinet_id_readers')),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_cabinet_grants_person_id_people')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cabinet_grants')),
    )
    op.create_index(op.f('ix_cabinet_grants_cabinet_id'), 'cabinet_grants', ['cabinet_id'])
    op.create_index(op.f('ix_cabinet_grants_person_id'), 'cabinet_grants', ['person_id'])
    op.create_table(
        'grant_one_offs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('grant_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('starts', sa.Time(), nullable=False),
        sa.Column('ends', sa.Time(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.CheckConstraint('starts < ends', name=op.f('ck_grant_one_offs_starts_before_ends')),
        sa.ForeignKeyConstraint(['grant_id'], ['cabinet_grants.id'], ondelete='CASCADE',
                                name=op.f('fk_grant_one_offs_grant_id_cabinet_grants')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_grant_one_offs')),
    )
    op.create_index(op.f('ix_grant_one_offs_grant_id'), 'grant_one_offs', ['grant_id'])
    op.create_table(
        'closed_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('label', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('day', name=op.f('pk_closed_days')),
    )
    op.create_table(
        'access_reviews',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('quarter', sa.String(length=7), nullable=False),
        sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('signed_by', sa.String(length=200), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('lines', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_access_reviews')),
    )
    op.create_index(op.f('ix_access_reviews_quarter'), 'access_reviews', ['quarter'])
    for statement in _PG_GUARD if op.get_bind().dialect.name == 'postgresql' else _SQLITE_GUARDS:
        op.execute(statement)
    conn = op.get_bind()
    cabinets = conn.execute(sa.text("SELECT id FROM readers WHERE role = 'cabinet' ORDER BY id")).scalars().all()
    holders = conn.execute(sa.text("SELECT id FROM people WHERE key_holder ORDER BY id")).scalars().all()
    now = datetime.now(UTC)
    rows = [{'cabinet_id': c, 'person_id': p, 'role': None, 'hours': [], 'expires_at': None, 'created_at': now,
             'created_by': 'mamori'} for c in cabinets for p in holders]
    if rows:
        op.bulk_insert(grants, rows)


def downgrade() -> None:
    op.drop_table('access_reviews')  # its triggers go with it
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION access_reviews_append_only()")
    op.drop_table('closed_days')
    op.drop_table('grant_one_offs')
    op.drop_table('cabinet_grants')
