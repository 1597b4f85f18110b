"""A verification run: read one consistent snapshot, verify, keep the result for the page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from server.evidence.models import ChainVerification
from server.evidence.verify import Anchor, Report, verify


def snapshot_verify(engine: Engine, zone: ZoneInfo, *, since: datetime | None = None,
                    anchor: Anchor | None = None) -> Report:
    """Verify in one snapshot, so writers carrying on meanwhile are neither half-seen nor held back."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                return verify(conn, zone, since=since, anchor=anchor)
        conn.exec_driver_sql("BEGIN")  # pysqlite starts none for reads: one WAL snapshot for the whole walk
        try:
            return verify(conn, zone, since=since, anchor=anchor)
        finally:
            conn.exec_driver_sql("ROLLBACK")


def run(factory: sessionmaker[Session], zone: ZoneInfo, clock: Callable[[], datetime], *, by: str,
        since: datetime | None = None, anchor: Anchor | None = None) -> tuple[Report, ChainVerification]:
    """Verify and record who ran it, when, and what came out (its own unit of work)."""
    started = clock()
    report = snapshot_verify(factory.kw["bind"], zone, since=since, anchor=anchor)
    kept = ChainVerification(started_at=started, finished_at=clock(), by=by[:200], ok=report.ok,
                             links=report.links, head_seq=report.head.seq if report.head else None,
                             head_hash=report.head.hash if report.head else None, since=since,
                             anchor=str(anchor) if anchor else None, problems=report.count,
                             first_problem=report.problems[0].stored() if report.problems else None)
    with factory.begin() as db:
        db.add(kept)
    return report, kept


def last(db: Session) -> ChainVerification | None:
    return db.scalars(select(ChainVerification).order_by(ChainVerification.started_at.desc(),
                                                         ChainVerification.id.desc()).limit(1)).first()
