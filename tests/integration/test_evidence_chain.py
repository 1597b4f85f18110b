"""The evidence chain on SQLite and PostgreSQL: a day of scans (late ones rewinding cabinets) verifies,
and each kind of tampering is named by the verifier, or by the day's anchor when the whole chain
was rewritten."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import make_url, select, text
from sqlalchemy.exc import DBAPIError

from server.audit.models import AuditEvent
from server.audit.service import record
from server.cli import main as mamori
from server.config import Settings
from server.db import make_engine, make_session_factory, unit_of_work
from server.evidence import canonical
from server.evidence.chain import head, position
from server.evidence.grants import grant_sql
from server.evidence.models import ChainLink
from server.evidence.runs import snapshot_verify
from server.evidence.verify import Anchor
from server.evidence.watch import ChainWatch
from server.ingest.service import IngestService
from server.ingest.worker import IngestWorker
from server.ledger.models import ScanRecord
from server.migrate import upgrade
from server.notify.models import Notice
from server.visits.models import Visit
from server.visits.retention import anonymise_visits
from tests.integration.test_arrival_order import RECEIVED, _batches, _day, _message, _stock
from tests.support.databases import KINDS, postgres_available, throwaway_database
from tests.support.evidence import copy_of, tamper, write_around
from tests.support.ledger import NoWire
from tests.support.web import PASSWORDS, Site, logged_in, page_client

pytestmark = pytest.mark.integration
ZONE = Settings().zone


@pytest.fixture(scope="module", params=KINDS)
def built_day(request, tmp_path_factory):
    """A day of scans delivered shuffled in batches, and a few people's actions, built once per database
    kind; each test gets its own copy (`day`) to tamper with."""
    if request.param == "postgresql" and (problem := postgres_available()):
        pytest.fail(f"PostgreSQL is needed for these tests and did not answer ({problem})")
    with throwaway_database(request.param, tmp_path_factory.mktemp("day")) as url:
        _stock(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        worker = IngestWorker(factory, IngestService(Settings(database_url=url)), NoWire(), clock=lambda: RECEIVED)
        rng = random.Random(7)
        day = _day(rng)
        arrival = rng.sample(day, len(day))  # late scans rewind cabinets: rows withdrawn and remade
        for batch in _batches(rng, [_message(reader, body, n) for n, (reader, body) in enumerate(arrival)]):
            worker.process(batch)
        with unit_of_work(factory) as db:
            for n in range(3):
                record(db, datetime.now(UTC), "login", f"user{n}", {"n": n})
        engine.dispose()  # a template has nobody connected
        yield url


@pytest.fixture
def day(built_day, tmp_path):
    """(url, engine) of this test's copy of the built day."""
    with copy_of(built_day, tmp_path) as url:
        engine = make_engine(url)
        yield url, engine
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


def test_retention_anonymising_visits_is_a_chained_fact(day):
    url, engine = day
    later = datetime.now(UTC) + timedelta(days=400)
    with unit_of_work(make_session_factory(engine)) as db:
        assert anonymise_visits(db, later, days=365, actor="mamori visits anonymise").visits > 0
    assert _verify(engine).ok
    with engine.connect() as conn:
        anonymised = conn.execute(select(Visit.id).where(Visit.anonymised_at.is_not(None))).scalars().all()
        newest = position(conn, "visits", anonymised[0])
        op = conn.execute(select(ChainLink.op).where(ChainLink.seq == newest.seq)).scalar()
    assert op == "changed"


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
    today = datetime.now(ZONE).date().isoformat()
    assert mamori_verify(url, "--from", today) == 1  # chained today: inside the stretch checked
    assert _verify(engine, since=datetime.now(UTC) + timedelta(hours=1)).ok  # nothing chained since


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
    with unit_of_work(factory) as db:  # a read-only transaction (a failover) commits: the hook sends it nothing
        db.execute(text("SET TRANSACTION READ ONLY"))
        assert db.scalar(select(AuditEvent.id).limit(1)) is not None


def test_the_page_shows_the_last_check_and_a_manager_runs_one(day):
    url, engine = day
    site = Site(url)
    with page_client(site.app):
        manager, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
        auditor, auditor_csrf = logged_in(site.app, "auditor", PASSWORDS["auditor"])
        shown = auditor.get("/ledger/chain")
        assert shown.status_code == 200 and "まだ検証していません" in shown.text and 'id="chain-run"' not in shown.text
        assert auditor.post("/ledger/chain/verify", data={"csrf": auditor_csrf}).status_code == 403
        done = manager.post("/ledger/chain/verify", data={"csrf": csrf})
        assert done.headers["location"] == "/ledger/chain?done=ok"
        assert "異常なし" in manager.get("/ledger/chain").text
        scan_id = _one(engine, "SELECT id FROM scans ORDER BY id LIMIT 1")[0]
        tamper(url, f"UPDATE scans SET uid = 'FFFFFFFF' WHERE id = '{scan_id}'")
        assert manager.post("/ledger/chain/verify", data={"csrf": csrf}).headers["location"].endswith("broken")
        text_ = auditor.get("/ledger/chain").text
        assert "不整合あり" in text_ and f"読取記録 {scan_id} の内容が記録時" in text_
        with engine.connect() as conn:
            before = head(conn)
        printed = manager.get("/audit/print").text  # every printout carries the chain's head at its foot
        assert f"第{before.seq}号まで: {before.hash}@" in printed
    assert ("chain_verified", "manager") in site.audit()


def test_the_day_before_is_anchored_by_e_mail_once_and_checked_nightly(day):
    url, engine = day
    site = Site(url)
    settings = Settings(database_url=url, smtp_url="smtp://127.0.0.1:1", chain_anchor_email="joho@city.example.jp")
    with unit_of_work(site.factory) as db:
        db.execute(text("UPDATE users SET email = 'kanri@example.jp' WHERE name = 'manager'"))
    tomorrow_morning = datetime.combine(datetime.now(ZONE).date() + timedelta(days=1), time(10), ZONE)
    clock = [tomorrow_morning]
    watch = ChainWatch(site.factory, lambda: clock[0], settings)
    assert watch.check() == 2  # two e-mails (the manager, the ward); no verification while the office works
    assert watch.check() == 0
    tomorrow = clock[0] = datetime.combine(tomorrow_morning.date() + timedelta(days=1), time(2), ZONE)
    assert watch.check() == 2 + 1  # the next night: that day's anchor, and the verification
    assert watch.check() == 0
    with engine.connect() as conn:
        mails = conn.execute(select(Notice.address, Notice.body).where(Notice.kind == "chain_anchor")).all()
        anchor = head(conn).hash
    day_ = (tomorrow.astimezone(ZONE).date() - timedelta(days=1)).isoformat()
    mails = [(address, body) for address, body in mails if f"@{day_}" in body]
    assert sorted(address for address, _body in mails) == ["joho@city.example.jp", "kanri@example.jp"]
    assert all(f"mamori ledger verify --anchor {anchor}@{day_}" in body for _address, body in mails)
    assert mamori_verify(url, "--anchor", f"{anchor}@{day_}") == 0


def test_the_servers_postgresql_role_appends_evidence_but_cannot_change_it(day):
    url, engine = day
    if not url.startswith("postgresql"):
        pytest.skip("roles are PostgreSQL's")
    role = f"mamori_app_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD 'app'"))
        for statement in grant_sql(role):
            conn.execute(text(statement))
    app_url = make_url(url).set(username=role, password="app").render_as_string(hide_password=False)
    upgrade(app_url)  # `mamori serve` upgrades at start: nothing to do
    app_engine = make_engine(app_url)
    try:
        factory = make_session_factory(app_engine)
        with unit_of_work(factory) as db:
            record(db, datetime.now(UTC), "login", "app")
        for statement in ("UPDATE scans SET uid = 'X'", "DELETE FROM audit_events", "UPDATE chain_links SET op = 'x'",
                          "TRUNCATE checkouts"):
            with pytest.raises(DBAPIError, match="permission denied"), unit_of_work(factory) as db:
                db.execute(text(statement))
        assert _verify(app_engine).ok
    finally:
        app_engine.dispose()
        with engine.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))


def test_rows_from_before_the_chain_are_chained_by_the_upgrade(empty_database_url):
    url = empty_database_url
    upgrade(url, "0015")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for n in range(3):
                conn.execute(text("INSERT INTO audit_events (at, actor, action, detail) "
                                  f"VALUES ('2026-11-01 00:00:0{n}', 'sato', 'login', '')"))
        upgrade(url)
        upgrade(url)  # again: nothing is chained twice
        with engine.connect() as conn:
            chained = conn.execute(select(ChainLink.kind, ChainLink.row_id, ChainLink.op)).all()
        assert sorted(chained) == [("audit_events", str(n), "added") for n in (1, 2, 3)]
        assert _verify(engine).ok
    finally:
        engine.dispose()
