"""incidents, incident_events (append-only) and incident_timeline (append-only); alerts.incident_id

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'  # 0015 in the brief; re-chained after the chain (0016) was merged in
branch_labels = None
depends_on = None

# The process log and the frozen timeline are evidence: append-only in the database too, whatever client writes.
_GUARDED = ('incident_events', 'incident_timeline')
_SQLITE_GUARDS = [
    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: add a new step'); END"
    for table in _GUARDED for verb in ("UPDATE", "DELETE")
]
_PG_GUARDS = [
    "CREATE FUNCTION incident_evidence_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "RAISE EXCEPTION '% is append-only: add a new step', TG_TABLE_NAME; END $$",
    *(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
      "FOR EACH ROW EXECUTE FUNCTION incident_evidence_append_only()" for table in _GUARDED),
]


def upgrade() -> None:
    op.create_table(
        'incidents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('summary', sa.String(length=200), nullable=False),
        sa.Column('discovered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('discovered_by', sa.String(length=200), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('lost_item_id', sa.Integer(), nullable=True),
        sa.Column('alert_id', sa.Integer(), nullable=True),
        sa.Column('item_ids', sa.JSON(), nullable=False),
        sa.Column('person_ids', sa.JSON(), nullable=False),
        sa.Column('reader_ids', sa.JSON(), nullable=False),
        sa.Column('period_from', sa.DateTime(timezone=True), nullable=False),
        sa.Column('period_to', sa.DateTime(timezone=True), nullable=False),
        sa.Column('first_aid', sa.Text(), nullable=True),
        sa.Column('manager_reported_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ward_reported_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('cause', sa.Text(), nullable=True),
        sa.Column('prevention', sa.Text(), nullable=True),
        sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('opened_by', sa.String(length=200), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_by', sa.String(length=200), nullable=True),
        sa.CheckConstraint("kind IN ('loss_theft', 'leak', 'virus', 'missing', 'misdisposal')",
                           name=op.f('ck_incidents_kind')),
        sa.CheckConstraint("source IN ('hand', 'lost_item', 'alert')", name=op.f('ck_incidents_source')),
        sa.ForeignKeyConstraint(['lost_item_id'], ['lost_items.id'], name=op.f('fk_incidents_lost_item_id_lost_items')),
        sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_incidents_alert_id_alerts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    )
    op.create_index('ix_incidents_closed_discovered', 'incidents', ['closed_at', 'discovered_at'])
    op.create_table(
        'incident_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('happened_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('by_user_id', sa.Integer(), nullable=True),
        sa.Column('by_name', sa.String(length=200), nullable=False),
        sa.Column('text', sa.Text(), nullable=True),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.CheckConstraint("action IN ('opened', 'first_aid', 'manager_reported', 'ward_reported', 'note', 'cause', "
                           "'prevention', 'timeline', 'closed')", name=op.f('ck_incident_events_action')),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'],
                                name=op.f('fk_incident_events_incident_id_incidents')),
        sa.ForeignKeyConstraint(['by_user_id'], ['users.id'], name=op.f('fk_incident_events_by_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_events')),
    )
    op.create_index('ix_incident_events_incident_at', 'incident_events', ['incident_id', 'at'])
    op.create_table(
        'incident_timeline',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('source_table', sa.String(length=32), nullable=False),
        sa.Column('source_id', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('facts', sa.JSON(), nullable=False),
        sa.Column('chain_seq', sa.Integer(), nullable=True),
        sa.Column('chain_hash', sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'],
                                name=op.f('fk_incident_timeline_incident_id_incidents')),
        sa.ForeignKeyConstraint(['event_id'], ['incident_events.id'],
                                name=op.f('fk_incident_timeline_event_id_incident_events')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_timeline')),
        sa.UniqueConstraint('incident_id', 'source_table', 'source_id', 'kind',
                            name=op.f('uq_incident_timeline_incident_id')),
    )
    op.create_index('ix_incident_timeline_incident_at', 'incident_timeline', ['incident_id', 'at'])
    for statement in _PG_GUARDS if op.get_bind().dialect.name == 'postgresql' else _SQLITE_GUARDS:
        op.execute(statement)
    with op.batch_alter_table('alerts') as batch:
        batch.add_column(sa.Column('incident_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f('fk_alerts_incident_id_incidents'), 'incidents', ['incident_id'], ['id'])
        batch.create_index('uq_alerts_type_incident', ['type', 'incident_id'], unique=True,
                           sqlite_where=sa.text('incident_id IS NOT NULL'),
                           postgresql_where=sa.text('incident_id IS NOT NULL'))


def downgrade() -> None:
    with op.batch_alter_table('alerts') as batch:
        batch.drop_index('uq_alerts_type_incident')
        batch.drop_constraint(batch.f('fk_alerts_incident_id_incidents'), type_='foreignkey')
        batch.drop_column('incident_id')
    op.drop_table('incident_timeline')  # their triggers go with them
    op.drop_table('incident_events')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION incident_evidence_append_only()")
    op.drop_table('incidents')
