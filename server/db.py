"""Engine, declarative base and the one place that commits: `unit_of_work`."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


_from_iso = datetime.fromisoformat


class UtcDateTime(TypeDecorator[datetime]):
    """Stores UTC, returns aware UTC datetimes on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime reached the database; use aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect, coltype):
        """On SQLite, the stored text read as aware UTC in one step: `replace(tzinfo=)` costs 0.8 µs a
        value, seven times the parse, 7 ms of a roll call of 9,000 (docs/performance.md)."""
        general = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite":
            return general

        def process(value):
            if value is None:
                return None
            try:
                return _from_iso(value + "+00:00")
            except (TypeError, ValueError):  # not the text SQLAlchemy writes: the general way
                return general(value)
        return process


def make_engine(url: str, *, pre_ping: bool = True) -> Engine:
    """Create the engine; SQLite gets WAL, full sync and foreign keys on every connection.

    `pre_ping=False` saves a round trip per transaction for a caller that retries by itself.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _note_writes(engine)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # FULL: an ack tells the reader it may forget the scan, so the commit must survive power loss.
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            # The evidence triggers tag each write with it; a client without it cannot write evidence
            # (server/evidence/capture.py).
            token = chain_token(_record.info)
            dbapi_conn.create_function("mamori_txn", 0, lambda: token)

        return engine
    # No parallel workers: every query of the office's is small; PostgreSQL misjudged the reception
    # desk's visits of today (12,164 rows guessed, 0 found) and started workers that took 8 ms of a
    # 10 ms query (desk p95 82 → 49 ms at bench/scale.py's size; docs/performance.md).
    return _note_writes(create_engine(url, pool_pre_ping=pre_ping, pool_size=10, max_overflow=10,
                                      connect_args={"options": "-c max_parallel_workers_per_gather=0"}))


WROTE = "mamori_wrote"  # in a connection's info while its transaction has sent a write
_WRITES = ("INSERT", "UPDATE", "DELETE", "WITH", "MERGE")  # WITH: it may hold one


def _note_writes(engine: Engine) -> Engine:
    """Mark a transaction that wrote, so the evidence chain's commit hook asks the database for
    pending rows only then: a read-only transaction (a page, a read-only failover) sends it nothing."""

    @event.listens_for(engine, "before_cursor_execute")
    def _wrote(conn, _cursor, statement: str, _params, _context, _many) -> None:
        if statement.lstrip()[:6].upper().startswith(_WRITES):
            conn.info[WROTE] = True

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _ended(conn) -> None:
        conn.info.pop(WROTE, None)

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn, record) -> None:  # the pool rolled back whatever was left
        record.info.pop(WROTE, None)

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    import server.evidence.chain  # noqa: F401  (every commit chains its evidence)

    return sessionmaker(engine, expire_on_commit=False)


def chain_token(record_info: dict) -> str:
    """The tag an application connection to SQLite gives its evidence writes (one per connection)."""
    return record_info.setdefault("chain_txn", secrets.token_hex(8))


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit if the block succeeds, roll back if it raises."""
    session = factory()
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    else:
        session.commit()
    finally:
        session.close()
