"""情報セキュリティ教育: sessions and append-only attendance; the roster's person fields and change history;
temporary accounts; one training alert per person and lapse. Every typed people.training_on becomes a
carried-over session with its attendance, so a person's date always comes from a session.

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-03
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

GUARDED = ('training_attendance', 'person_changes')
CARRIED_OVER_TITLE = '紙の記録からの引継ぎ（情報セキュリティ教育）'


def _guards(dialect: str) -> list[str]:
    """Evidence is append-only in the database too, whatever client writes to it."""
    if dialect == 'postgresql':
        return [
            "CREATE FUNCTION training_evidence_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION '% is append-only: add a withdrawal', TG_TABLE_NAME; END $$",
            *(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
              "FOR EACH ROW EXECUTE FUNCTION training_evidence_append_only()" for table in GUARDED),
        ]
    return [f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: add a withdrawal'); END"
            for table in GUARDED for verb in ('UPDATE', 'DELETE')]


def upgrade() -> None:
    op.create_table(
        'training_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('held_on', sa.Date(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('material', sa.String(length=8), nullable=True),
        sa.Column('instructor', sa.String(length=200), nullable=True),
        sa.Column('minutes', sa.Integer(), nullable=True),
        sa.Column('carried_over', sa.Boolean(), nullable=False),
        sa.Column('by_name', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("material IS NULL OR material IN ('ward', 'office')",
                           name=op.f('ck_training_sessions_material')),
        sa.CheckConstraint('minutes IS NULL OR minutes > 0', name=op.f('ck_training_sessions_minutes')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_training_sessions')),
    )
    op.create_index('ix_training_sessions_held_on', 'training_sessions', ['held_on'])
    op.create_table(
        'training_attendance',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=10), nullable=False),
        sa.Column('withdraws_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('by_name', sa.String(length=200), nullable=False),
        sa.CheckConstraint("action IN ('attended', 'withdrawn')", name=op.f('ck_training_attendance_action')),
        sa.CheckConstraint("(action = 'withdrawn') = (withdraws_id IS NOT NULL)",
                           name=op.f('ck_training_attendance_withdrawal_names_one')),
        sa.ForeignKeyConstraint(['session_id'], ['training_sessions.id'],
                                name=op.f('fk_training_attendance_session_id_training_sessions')),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_training_attendance_person_id_people')),
        sa.ForeignKeyConstraint(['withdraws_id'], ['training_attendance.id'],
                                name=op.f('fk_training_attendance_withdraws_id_training_attendance')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_training_attendance')),
    )
    op.create_index('ix_training_attendance_person', 'training_attendance', ['person_id', 'session_id'])
    op.create_index('ix_training_attendance_session', 'training_attendance', ['session_id'])
    op.create_index('uq_training_attendance_withdraws', 'training_attendance', ['withdraws_id'], unique=True)
    op.create_table(
        'person_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('fields', sa.JSON(), nullable=False),
        sa.Column('by_name', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_person_changes_person_id_people')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_person_changes')),
    )
    op.create_index('ix_person_changes_at', 'person_changes', ['at'])
    op.create_index(op.f('ix_person_changes_person_id'), 'person_changes', ['person_id'])
    with op.batch_alter_table('people') as batch:
        batch.add_column(sa.Column('qualification', sa.String(length=24), nullable=True))
        batch.add_column(sa.Column('registered_on', sa.Date(), nullable=True))
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('alerts') as batch:
        batch.add_column(sa.Column('training_lapses_on', sa.Date(), nullable=True))
        batch.create_index('uq_alerts_type_person_lapse', ['type', 'person_id', 'training_lapses_on'], unique=True,
                           sqlite_where=sa.text('training_lapses_on IS NOT NULL'),
                           postgresql_where=sa.text('training_lapses_on IS NOT NULL'))
    for statement in _guards(op.get_bind().dialect.name):
        op.execute(statement)
    _carry_over_typed_dates()


def _carry_over_typed_dates() -> None:
    """One carried-over session per typed date, every person who had typed it attending."""
    bind = op.get_bind()
    now = datetime.now(UTC)
    if bind.dialect.name == 'sqlite':
        now = now.replace(tzinfo=None)  # as server.db.UtcDateTime stores it
    people = sa.table('people', sa.column('id'), sa.column('training_on'), sa.column('created_at'))
    sessions = sa.table('training_sessions', sa.column('id'), sa.column('held_on'), sa.column('title'),
                        sa.column('carried_over'), sa.column('by_name'), sa.column('created_at', sa.DateTime()))
    attendance = sa.table('training_attendance', sa.column('session_id'), sa.column('person_id'),
                          sa.column('action'), sa.column('at', sa.DateTime()), sa.column('by_name'), sa.column('reason'))
    changes = sa.table('person_changes', sa.column('person_id'), sa.column('at'), sa.column('fields', sa.JSON),
                       sa.column('by_name'))
    days = bind.execute(sa.select(people.c.training_on).where(people.c.training_on.is_not(None)).distinct()).scalars()
    for day in sorted(days):
        session_id = bind.execute(sa.insert(sessions).values(
            held_on=day, title=CARRIED_OVER_TITLE, carried_over=True, by_name='mamori (0018)', created_at=now)
            .returning(sessions.c.id)).scalar_one()
        bind.execute(sa.insert(attendance).from_select(
            ['session_id', 'person_id', 'action', 'at', 'by_name', 'reason'],
            sa.select(sa.literal(session_id), people.c.id, sa.literal('attended'), sa.literal(now, sa.DateTime()),
                      sa.literal('mamori (0018)'),
                      sa.literal('people.training_on before 0018')).where(people.c.training_on == day)))
    # Who was on the staff list before: their addition, so a change report from before the upgrade lists them.
    bind.execute(sa.insert(changes).from_select(
        ['person_id', 'at', 'fields', 'by_name'],
        sa.select(people.c.id, people.c.created_at, sa.literal({'added': [None, True]}, sa.JSON),
                  sa.literal('mamori (0018)'))))


def downgrade() -> None:
    for table in GUARDED:
        op.drop_table(table)  # its triggers go with it
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION training_evidence_append_only()")
    op.drop_table('training_sessions')
    with op.batch_alter_table('alerts') as batch:
        batch.drop_index('uq_alerts_type_person_lapse')
        batch.drop_column('training_lapses_on')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('expires_at')
    with op.batch_alter_table('people') as batch:
        batch.drop_column('registered_on')
        batch.drop_column('qualification')
