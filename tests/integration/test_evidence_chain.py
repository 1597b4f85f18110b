"""The evidence chain on SQLite and PostgreSQL: a day of scans (late ones rewinding cabinets) verifies,
and each kind of tampering is named by the verifier, or by the day's anchor when the whole chain
was rewritten."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from server.audit.models import AuditEvent
from server.audit.service import record
from server.cli import main as mamori
from server.config import Settings
from server.db import make_engine, make_session_factory, unit_of_work
from server.evidence import canonical
from server.evidence.chain import head, position
from server.evidence.models import ChainLink
from server.evidence.runs import snapshot_verify
from server.evidence.verify import Anchor
from server.ingest.service import IngestService
from server.ingest.worker import IngestWorker
from server.ledger.models import ScanRecord
from tests.integration.test_arrival_order import RECEIVED, _batches, _day, _message, _stock
from tests.support.evidence import tamper, write_around
from tests.support.ledger import NoWire

pytestmark = pytest.mark.integration
ZONE = Settings().zone


@pytest.fixture
def day(database_url):
    """A day of scans delivered shuffled in batches, and a few people's actions: (url, engine)."""
    _stock(database_url)
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    worker = IngestWorker(factory, IngestService(Settings(database_url=database_url)), NoWire(),
                          clock=lambda: RECEIVED)
    rng = random.Random(7)
    day = _day(rng)
    arrival = rng.sample(day, len(day))  # late scans rewind cabinets: rows withdrawn and remade
    for batch in _batches(rng, [_message(reader, body, n) for n, (reader, body) in enumerate(arrival)]):
        worker.process(batch)
    with unit_of_work(factory) as db:
        for n in range(3):
            record(db, datetime.now(UTC), "login", f"user{n}", {"n": n})
    yield database_url, engine
    engine.dispose()


def _verify(engine, **kwargs):
    return snapshot_verify(engine, ZONE, **kwargs)


def _one(engine, statement: str):
    with engine.connect() as conn:
        return conn.execute(text(statement)).first()


def test_a_day_verifies_without_gaps_and_positions_name_their_links(day):
    url, engine = day
    report = _verify(engine)
    assert report.ok, [str(p) for p in report.problems]
    with engine.connect() as conn:
        seqs = conn.execute(select(ChainLink.seq).order_by(ChainLink.seq)).scalars().all()
        assert seqs == list(range(1, len(seqs) + 1)) and report.links == len(seqs)
        ops = set(conn.execute(select(ChainLink.op).where(ChainLink.kind == "checkouts")).scalars())
        assert {"added", "changed"} <= ops  # returns are new facts of the checkout
        scan_id = conn.execute(select(ScanRecord.id).limit(1)).scalar()
        where = position(conn, "scans", scan_id)
        assert where is not None and head(conn).seq == seqs[-1] >= where.seq
        assert head(conn, datetime(2000, 1, 1, tzinfo=UTC)) is None
    assert mamori_verify(url) == 0


def mamori_verify(url: str, *extra: str) -> int:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MAMORI_DATABASE_URL", url)
        return mamori(["ledger", "verify", *extra])


def test_an_edited_scan_is_named_with_its_column(day):
    url, engine = day
    scan_id = _one(engine, "SELECT id FROM scans ORDER BY id LIMIT 1")[0]
    tamper(url, f"UPDATE scans SET uid = 'FFFFFFFF' WHERE id = '{scan_id}'")
    report = _verify(engine)
    first = report.problems[0]
    assert (first.what, first.kind, first.row_id, first.columns) == ("differs", "scans", scan_id, ("uid",))
    assert mamori_verify(url) == 1


def test_a_deleted_audit_entry_is_named(day):
    url, engine = day
    entry = _one(engine, "SELECT min(id) FROM audit_events")[0]
    tamper(url, f"DELETE FROM audit_events WHERE id = {entry}")
    first = _verify(engine).problems[0]
    assert (first.what, first.kind, first.row_id) == ("deleted", "audit_events", str(entry))


def test_an_inserted_checkout_is_named(day):
    url, engine = day
    item, person = _one(engine, "SELECT item_id, person_id FROM checkouts LIMIT 1")
    tamper(url, "INSERT INTO checkouts (id, item_id, person_id, out_at, due_at, out_scan_id, returned_at) "
                f"VALUES (999999, {item}, {person}, '2026-11-29 01:00:00', '2026-11-29 08:00:00', 'fake', "
                "'2026-11-29 02:00:00')")
    first = _verify(engine).problems[0]
    assert (first.what, first.kind, first.row_id) == ("not_chained", "checkouts", "999999")


def test_a_write_around_the_application_waits_unchained_and_is_named(day):
    url, engine = day
    checkout = _one(engine, "SELECT max(id) FROM checkouts")[0]
    if url.startswith("sqlite"):  # without the application's function the trigger refuses the write
        import sqlite3

        with pytest.raises(sqlite3.OperationalError, match="mamori_txn"):
            sqlite3.connect(url.split(":///", 1)[1]).execute(f"UPDATE checkouts SET purpose = 'x' WHERE id = {checkout}")
    write_around(url, f"UPDATE checkouts SET purpose = 'moved' WHERE id = {checkout}")
    with unit_of_work(make_session_factory(engine)) as db:  # the application's next commit does not adopt it
        record(db, datetime.now(UTC), "logout", "user0")
    kinds = {(p.what, p.kind, p.row_id) for p in _verify(engine).problems}
    assert ("unchained_write", "checkouts", str(checkout)) in kinds
    assert ("differs", "checkouts", str(checkout)) in kinds


def test_swapped_and_missing_links_are_named(day):
    url, engine = day
    a, b = (_one(engine, f"SELECT kind, row_id, op, digest, columns, hash FROM chain_links WHERE seq = {n}")
            for n in (5, 6))
    tamper(url, *(f"UPDATE chain_links SET kind = '{k}', row_id = '{r}', op = '{o}', digest = '{d}', "
                  f"columns = '{c}', hash = '{h}' WHERE seq = {seq}" for seq, (k, r, o, d, c, h) in ((5, b), (6, a))))
    first = _verify(engine).problems[0]
    assert (first.what, first.seq) == ("bad_hash", 5)
    tamper(url, "DELETE FROM chain_links WHERE seq = 9")
    assert ("missing_link", 9) in {(p.what, p.seq) for p in _verify(engine).problems}


def test_a_rewritten_chain_passes_alone_and_fails_against_the_anchor(day):
    url, engine = day
    with engine.connect() as conn:
        anchor = Anchor(head(conn).hash, datetime.now(ZONE).date())
    assert _verify(engine, anchor=anchor).ok
    assert mamori_verify(url, "--anchor", str(anchor)) == 0
    scan_id = _one(engine, "SELECT id FROM scans ORDER BY id LIMIT 1")[0]
    tamper(url, f"UPDATE scans SET uid = 'FFFFFFFF' WHERE id = '{scan_id}'")
    _rewrite_chain(url, engine)  # every digest and hash made again: consistent in itself
    assert _verify(engine).ok
    first = _verify(engine, anchor=anchor).problems[0]
    assert first.what == "anchor_missing"
    assert mamori_verify(url, "--anchor", str(anchor)) == 1


def _rewrite_chain(url, engine) -> None:
    """What somebody with the database and this source code could do: chain the edited rows anew."""
    from server.evidence.chain import kinds, read_rows

    with engine.connect() as conn:
        links = conn.execute(select(ChainLink).order_by(ChainLink.seq)).all()
        rows = {}
        for name, kind in kinds().items():
            ids = [link.row_id for link in links if link.kind == name]
            rows.update({(name, rid): row for rid, row in read_rows(conn, kind, ids)})
    previous, statements = canonical.GENESIS, []
    for link in links:
        row = rows.get((link.kind, link.row_id))
        digest = canonical.row_digest(row) if row is not None and link.digest else link.digest
        previous = canonical.link_hash(previous, link.seq, link.at, link.kind, link.row_id, link.op, digest)
        sums = canonical.column_sums(row) if row is not None and link.digest else ""
        statements.append(f"UPDATE chain_links SET digest = '{digest}', columns = '{sums}', hash = '{previous}' "
                          f"WHERE seq = {link.seq}")
    statements.append(f"UPDATE chain_head SET hash = '{previous}'")
    tamper(url, *statements)


def test_postgresql_refuses_changing_immutable_evidence(day):
    url, engine = day
    if not url.startswith("postgresql"):
        pytest.skip("the refusal is PostgreSQL's (docs/evidence.md)")
    factory = make_session_factory(engine)
    for statement in ("UPDATE scans SET uid = 'X'", "DELETE FROM audit_events", "DELETE FROM chain_links"):
        with pytest.raises(DBAPIError, match="evidence"), unit_of_work(factory) as db:
            db.execute(text(statement))
    with unit_of_work(factory) as db:
        assert db.scalar(select(AuditEvent.id).limit(1)) is not None
